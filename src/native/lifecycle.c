/* What the native start and stop (native-start.c, native-stop.c) share: the guest's start plan
 * (pure/start-plan.ts), which the TypeScript start wrote for a guest that needs no decision at
 * start time, and the few file, time and runtime helpers both replay it with. Each step mirrors
 * control/start.ts, stop.ts and teardown.ts for that case.
 *
 * Every check that can send the call to the TypeScript command comes before the first change;
 * a start that fails after the runtime ran hands its failure, with the guest's lock still held, to
 * `vserver NAME start --native-abort KIND DETAIL`, which removes everything and reports it as start
 * would. Policy stays in TypeScript: nothing here reads a guest's config. */
#define _GNU_SOURCE
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct start_plan plan;
static char *plan_buf;

/* The guest's plan, if it still matches the config; sets the fingerprint for a slow path. */
int load_plan(const char *name) {
  char fp[17];
  if (!config_fingerprint(name, fp)) return 0;
  setenv("VSERVER_CONFIG_FINGERPRINT", fp, 1);
  char path[4400];
  snprintf(path, sizeof path, "%s/.plans/%s", run_dir(), name);
  plan_buf = read_small_file(path, NULL);
  return plan_buf && parse_start_plan(plan_buf, &plan) && strcmp(plan.fingerprint, fp) == 0;
}

int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

int view_live(const char *view) {
  char *mi = read_small_file("/proc/self/mountinfo", NULL);
  if (!mi) return 0;
  int found = 0;
  for (char *line = mi, *next; line && *line && !found; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    char *f = line;
    for (int i = 0; i < 4 && f; i++) f = strchr(f, ' ') ? strchr(f, ' ') + 1 : NULL;
    if (!f) continue;
    size_t n = strcspn(f, " ");
    found = n == strlen(view) && strncmp(f, view, n) == 0;
  }
  free(mi);
  return found;
}

long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

int write_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    s += w;
    n -= (size_t)w;
  }
  return 1;
}

int append_line(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return 0;
  int ok = write_all(fd, text, strlen(text));
  close(fd);
  return ok;
}

/* Run the runtime in its view with the guest's nice level; stdout and stderr to out_fd, and
 * status_fd (if >= 0) as fd 3. Returns its exit status, or -1. */
int run_runtime(const char **argv, int out_fd, int status_fd) {
  int view = -1;
  if (plan.view && (view = open(plan.view, O_RDONLY | O_CLOEXEC)) < 0) return -1;
  pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    if (view >= 0 && setns(view, CLONE_NEWNS) != 0) _exit(126);
    errno = 0;
    if (plan.nice && nice(plan.nice) == -1 && errno) _exit(126);
    int null = open("/dev/null", O_RDWR);
    if (null < 0) _exit(126);
    dup2(null, 0);
    dup2(out_fd >= 0 ? out_fd : null, 1);
    dup2(out_fd >= 0 ? out_fd : null, 2);
    if (status_fd >= 0) dup2(status_fd, 3);
    execv(argv[0], (char **)argv);
    _exit(127);
  }
  if (view >= 0) close(view);
  int ws;
  while (waitpid(child, &ws, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st; (void)flag; (void)ftw;
  remove(path);
  return 0;
}

void remove_tree(const char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

