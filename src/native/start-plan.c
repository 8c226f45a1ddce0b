/* The start plan (pure/start-plan.ts) and the config fingerprint that says whether it still holds.
 * The fingerprint is taken from the config directories' metadata only (never their contents: the
 * native side does not read a guest's config), so any edit, rename, chmod or new file changes it. */
#define _GNU_SOURCE
#include "front.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int parse_start_plan(char *buf, struct start_plan *p) {
  memset(p, 0, sizeof *p);
  int version = 0, lines = 1;
  for (char *c = buf; *c; c++) lines += *c == '\n';
  p->run_argv = calloc((size_t)lines + 1, sizeof *p->run_argv);
  p->delete_argv = calloc((size_t)lines + 1, sizeof *p->delete_argv);
  p->cgroup_dirs = calloc((size_t)lines + 1, sizeof *p->cgroup_dirs);
  p->cgroup_parents = calloc((size_t)lines + 1, sizeof *p->cgroup_parents);
  p->exec_record = calloc((size_t)lines + 1, sizeof *p->exec_record);
  p->kill = calloc((size_t)lines + 1, sizeof *p->kill);
  if (!p->run_argv || !p->delete_argv || !p->cgroup_dirs || !p->cgroup_parents || !p->exec_record || !p->kill) return 0;
  p->context = -1;
  p->stop_timeout = 30;
  for (char *line = buf, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    if (*line == '#') continue;
    char *v = strchr(line, ' ');
    if (!v) continue;
    *v++ = 0;
    if (strcmp(line, "version") == 0) version = atoi(v);
    else if (strcmp(line, "fingerprint") == 0) p->fingerprint = v;
    else if (strcmp(line, "context") == 0) p->context = atoi(v);
    else if (strcmp(line, "log") == 0) p->log = v;
    else if (strcmp(line, "lock-dir") == 0) p->lock_dir = v;
    else if (strcmp(line, "runtime-state") == 0) p->runtime_state = v;
    else if (strcmp(line, "vdir") == 0) p->vdir = v;
    else if (strcmp(line, "bundle") == 0) p->bundle = v;
    else if (strcmp(line, "config") == 0) p->config = v;
    else if (strcmp(line, "view") == 0) p->view = v;
    else if (strcmp(line, "nice") == 0) p->nice = atoi(v);
    else if (strcmp(line, "run-arg") == 0) p->run_argv[p->run_argc++] = v;
    else if (strcmp(line, "delete-arg") == 0) p->delete_argv[p->delete_argc++] = v;
    else if (strcmp(line, "guest-init") == 0) p->guest_init = strcmp(v, "1") == 0;
    else if (strcmp(line, "procs") == 0) p->procs = v;
    else if (strcmp(line, "cgroup-dir") == 0) p->cgroup_dirs[p->n_cgroup_dirs++] = v;
    else if (strcmp(line, "cgroup-parent") == 0) p->cgroup_parents[p->n_cgroup_parents++] = v;
    else if (strcmp(line, "shadow") == 0) p->shadow = v;
    else if (strcmp(line, "shadow-parent") == 0) p->shadow_parent = v;
    else if (strcmp(line, "kill") == 0) {
      if (sscanf(v, "%d %d", &p->kill[p->n_kill].signal, &p->kill[p->n_kill].wait) == 2) p->n_kill++;
    } else if (strcmp(line, "stop-timeout") == 0) p->stop_timeout = atoi(v);
    else if (strcmp(line, "run-record") == 0) p->run_record = v;
    else if (strcmp(line, "exec-record") == 0) p->exec_record[p->n_exec_record++] = v;
  }
  return version == 1 && p->fingerprint && p->context >= 0 && p->log && p->lock_dir && p->runtime_state && p->vdir &&
         p->bundle && p->config && p->procs && p->run_record && p->run_argc > 0 && p->delete_argc > 0 &&
         p->n_kill > 0 && p->n_exec_record > 0 && p->guest_init;
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *b = data;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}
#define FNV_START 0xcbf29ce484222325ull

struct walk { uint64_t sum; uint64_t count; int ok; };

/* Every entry under dir (not following symlinks), hashed one by one and summed, so the order
 * readdir returns them in does not matter. */
static void walk_dir(int dirfd, const char *rel, struct walk *w, int depth) {
  if (depth > 16) { w->ok = 0; return; }
  DIR *d = fdopendir(dirfd);
  if (!d) { close(dirfd); w->ok = 0; return; }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) { w->ok = 0; continue; }
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", rel, de->d_name);
    if (n < 0 || (size_t)n >= sizeof path) { w->ok = 0; continue; }
    uint64_t h = fnv(FNV_START, path, (size_t)n + 1);
    uint64_t meta[8] = { st.st_mode, st.st_ino, st.st_dev, (uint64_t)st.st_size,
                         (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
                         (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec };
    h = fnv(h, meta, sizeof meta);
    w->sum += h;
    w->count++;
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) { w->ok = 0; continue; }
      walk_dir(sub, path, w, depth + 1);
    }
  }
  closedir(d);
}

static int walk_top(const char *dir, struct walk *w, int required) {
  struct stat st;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    return !required;
  }
  uint64_t meta[6] = { st.st_ino, st.st_dev, (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
                       (uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec };
  w->sum += fnv(fnv(FNV_START, dir, strlen(dir) + 1), meta, sizeof meta);
  walk_dir(fd, "", w, 0);
  return 1;
}

/* A host fact start depends on, or "" when it is missing. */
static uint64_t fact(uint64_t h, const char *s) {
  return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

int config_fingerprint(const char *name, char out[17]) {
  const char *conf = conf_dir();
  if (!conf || !valid_guest_name(name)) return 0;
  char guest[4400], defaults[4400];
  snprintf(guest, sizeof guest, "%s/%s", conf, name);
  snprintf(defaults, sizeof defaults, "%s/.defaults", conf);
  struct walk w = { 0, 0, 1 };
  if (!walk_top(guest, &w, 1) || !walk_top(defaults, &w, 0) || !w.ok) return 0;
  uint64_t h = fnv(FNV_START, &w.sum, sizeof w.sum);
  h = fnv(h, &w.count, sizeof w.count);
  /* what else start reads: the runtime choice, the cgroup parent, this boot (the layout of
   * cgroups and mounts), our own root's capability bounding set, and this build of ours */
  h = fact(h, getenv("VSERVER_RUNTIME"));
  h = fact(h, getenv("VSERVER_CGROUP_PARENT"));
  char *boot = read_small_file("/proc/sys/kernel/random/boot_id", NULL);
  h = fact(h, boot);
  free(boot);
  char *status = read_small_file("/proc/self/status", NULL);
  char *cap = status ? strstr(status, "CapBnd:") : NULL;
  if (cap) cap[strcspn(cap, "\n")] = 0;
  h = fact(h, cap);
  free(status);
  h = fact(h, DIST_DIR);
  struct stat built;
  if (stat(DIST_DIR "/vserver.js", &built) == 0) h = fnv(h, &built.st_mtim, sizeof built.st_mtim);
  snprintf(out, 17, "%016llx", (unsigned long long)h);
  return 1;
}
