/* Reading /proc: small files whole, a process's start time, and the context of every process
 * (from its cgroup path, like drivers/proc-scan.ts). */
#define _GNU_SOURCE
#include "front.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *read_small_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) break;
    if (n + 1 >= cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) { free(buf); buf = NULL; break; }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { free(buf); buf = NULL; break; }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (buf) {
    buf[n] = 0;
    if (len) *len = n;
  }
  return buf;
}

int proc_start_time(int pid, char *out, size_t len) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return 0;
  p += 2; /* field 3, the state */
  if (*p == 'Z' || *p == 'X') return 0;
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return 0;
    p++;
  }
  size_t k = strcspn(p, " \n");
  if (k == 0 || k >= len) return 0;
  memcpy(out, p, k);
  out[k] = 0;
  return 1;
}

/* The first line of /proc/PID/cgroup whose path is /<parent>/<digits>[/...]: its digits. */
static int context_in(const char *content) {
  const char *parent = cgroup_parent();
  size_t plen = strlen(parent);
  for (const char *line = content; line && *line;) {
    const char *end = strchr(line, '\n');
    const char *c1 = memchr(line, ':', end ? (size_t)(end - line) : strlen(line));
    const char *c2 = c1 ? memchr(c1 + 1, ':', end ? (size_t)(end - c1 - 1) : strlen(c1 + 1)) : NULL;
    if (c2) {
      const char *p = c2 + 1;
      if (p[0] == '/' && strncmp(p + 1, parent, plen) == 0 && p[1 + plen] == '/') {
        const char *d = p + 2 + plen, *e = d;
        while (*e >= '0' && *e <= '9') e++;
        if (e > d && (*e == '/' || *e == '\n' || *e == 0)) return atoi(d);
      }
    }
    line = end ? end + 1 : NULL;
  }
  return 0;
}

static int read_at(int dirfd, const char *path, char *buf, size_t len) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return (int)n;
}

int context_of_pid(int pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
  if (read_at(AT_FDCWD, path, buf, sizeof buf) < 0) return -1;
  return context_in(buf);
}

/* Fields 4.. of /proc/PID/stat after "(comm)": field N is f[N-3]. */
static int parse_stat(char *stat, struct proc_info *p) {
  char *s = strrchr(stat, ')');
  if (!s || s[1] != ' ') return 0;
  s += 2;
  unsigned long long f[22] = {0};
  for (int i = 0; i < 22 && s && *s; i++) {
    if (i > 0) f[i] = strtoull(s, NULL, 10);
    s = strchr(s, ' ');
    if (s) s++;
  }
  p->utime = f[11];
  p->stime = f[12];
  p->starttime = f[19];
  p->vsize = f[20];
  p->rss_pages = f[21];
  return 1;
}

/* Calls fn for every process directory in /proc (not threads), with /proc's fd for openat. */
static void for_each_process(void (*fn)(int procfd, int pid, void *arg), void *arg) {
  DIR *d = opendir("/proc");
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_name[0] >= '1' && de->d_name[0] <= '9') fn(dirfd(d), atoi(de->d_name), arg);
  closedir(d);
}

struct scan { struct proc_info *out; size_t n, cap; };

static void scan_one(int procfd, int pid, void *arg) {
  struct scan *sc = arg;
  char path[64], buf[4096];
  snprintf(path, sizeof path, "%d/cgroup", pid);
  if (read_at(procfd, path, buf, sizeof buf) < 0) return;
  struct proc_info p = { .pid = pid, .context = context_in(buf) };
  snprintf(path, sizeof path, "%d/stat", pid);
  if (read_at(procfd, path, buf, sizeof buf) < 0 || !parse_stat(buf, &p)) return;
  if (sc->n == sc->cap) {
    struct proc_info *grown = realloc(sc->out, (sc->cap *= 2) * sizeof *sc->out);
    if (!grown) return;
    sc->out = grown;
  }
  sc->out[sc->n++] = p;
}

struct proc_info *scan_processes(size_t *n) {
  struct scan sc = { malloc(1024 * sizeof *sc.out), 0, 1024 };
  if (sc.out) for_each_process(scan_one, &sc);
  *n = sc.n;
  return sc.out;
}

/* The processes of every context from the contexts' own cgroup.procs files (one read per context
 * instead of one /proc/PID/cgroup per process, which on a hybrid host formats a line for each of
 * a dozen hierarchies). Nested cgroups count for the context they are under. */
static void mark_procs(int dirfd_ctx, int context, int *map, long pid_max) {
  char buf[65536];
  int fd = openat(dirfd_ctx, "cgroup.procs", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n;
    char carry[16] = "";
    while ((n = read(fd, buf, sizeof buf - 1)) > 0) {
      buf[n] = 0;
      char *p = buf;
      if (carry[0]) { /* a number split across two reads */
        size_t k = strspn(p, "0123456789");
        char joined[32];
        snprintf(joined, sizeof joined, "%s%.*s", carry, (int)k, p);
        long pid = strtol(joined, NULL, 10);
        if (pid > 0 && pid <= pid_max) map[pid] = context + 1;
        p += k;
        carry[0] = 0;
      }
      while (*p) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p) { p++; continue; }
        if (*end == 0 && buf[n - 1] != '\n') { snprintf(carry, sizeof carry, "%.*s", (int)(end - p), p); break; }
        if (pid > 0 && pid <= pid_max) map[pid] = context + 1;
        p = end;
      }
    }
    close(fd);
  }
  int dup = fcntl(dirfd_ctx, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
  if (!d) {
    if (dup >= 0) close(dup);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.') continue;
    int sub = openat(dirfd_ctx, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sub < 0) continue;
    mark_procs(sub, context, map, pid_max);
    close(sub);
  }
  closedir(d);
}

int *context_by_pid(size_t *len) {
  *len = 0;
  char *max = read_small_file("/proc/sys/kernel/pid_max", NULL);
  long pid_max = max ? strtol(max, NULL, 10) : 0;
  free(max);
  if (pid_max <= 0 || pid_max > (1L << 22)) pid_max = 1L << 22;
  /* One slot per possible PID; only the pages of PIDs in use are ever touched. */
  int *map = calloc((size_t)pid_max + 1, sizeof *map);
  if (!map) return NULL;
  /* The pids hierarchy on a v1 or hybrid host (every guest has a pids limit), the unified one on v2. */
  char path[512];
  snprintf(path, sizeof path, "/sys/fs/cgroup/pids/%s", cgroup_parent());
  DIR *d = opendir(path);
  if (!d) {
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s", cgroup_parent());
    d = opendir(path);
  }
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) {
      const char *n = de->d_name;
      if (!*n || strspn(n, "0123456789") != strlen(n)) continue;
      int ctx = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (ctx < 0) continue;
      mark_procs(ctx, atoi(n), map, pid_max);
      close(ctx);
    }
    closedir(d);
  }
  *len = (size_t)pid_max + 1;
  return map;
}

struct host_fill { int *map; size_t slots; };

static void fill_one(int procfd, int pid, void *arg) {
  struct host_fill *hf = arg;
  if ((size_t)pid >= hf->slots || hf->map[pid]) return;
  char path[64], buf[4096];
  snprintf(path, sizeof path, "%d/cgroup", pid);
  if (read_at(procfd, path, buf, sizeof buf) < 0) return;
  hf->map[pid] = context_in(buf) + 1;
}

void fill_host_contexts(int *map, size_t slots) {
  struct host_fill hf = { map, slots };
  for_each_process(fill_one, &hf);
}
