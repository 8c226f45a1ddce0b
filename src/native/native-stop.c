/* `vserver NAME stop` replayed from the guest's start plan (lifecycle.h): the guest init runs the
 * stop command, then the kill sequence and teardown.ts's steps for a guest without a network. */
#define _GNU_SOURCE
#include "lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int *cgroup_pids(size_t *n) {
  *n = 0;
  char *text = read_small_file(plan.procs, NULL);
  if (!text) return NULL;
  size_t cap = 16;
  int *pids = malloc(cap * sizeof *pids);
  for (char *p = text; pids && *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) break;
    if (*n == cap) pids = realloc(pids, (cap *= 2) * sizeof *pids);
    if (pids) pids[(*n)++] = (int)v;
    p = end;
    while (*p == '\n') p++;
  }
  free(text);
  return pids;
}

struct guest_pid1 { int pid; const char *start; };

static int gone(const struct guest_pid1 *g) {
  char now[32];
  return !proc_start_time(g->pid, now, sizeof now) || strcmp(now, g->start) != 0;
}

static int stopped_or_gone(const void *arg) {
  const struct guest_pid1 *g = arg;
  if (gone(g)) return 1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/comm", g->pid);
  char *comm = read_small_file(path, NULL);
  int down = comm && strncmp(comm, STOPPED_COMM "\n", strlen(STOPPED_COMM) + 1) == 0;
  free(comm);
  return down;
}

static int only_pid1_left(const void *arg) {
  const struct guest_pid1 *g = arg;
  size_t n;
  int *pids = cgroup_pids(&n);
  int only = 1;
  for (size_t i = 0; i < n; i++) only &= pids[i] == g->pid;
  free(pids);
  return only;
}

static int all_gone(const void *arg) {
  size_t n;
  free(cgroup_pids(&n));
  return gone(arg) && n == 0;
}

/* control/stop.ts waitUntil: short first waits, then up to 200 ms apart. */
static int wait_until(int (*cond)(const void *), const void *arg, int seconds) {
  long long deadline = now_ms() + (long long)seconds * 1000;
  int delay = 2;
  while (!cond(arg)) {
    if (now_ms() >= deadline) return 0;
    sleep_ms(delay);
    delay = delay * 2 > 200 ? 200 : delay * 2;
  }
  return 1;
}

static void signal_cgroup(int sig, int except) {
  size_t n;
  int *pids = cgroup_pids(&n);
  for (size_t i = 0; i < n; i++)
    if (pids[i] != except) kill(pids[i], sig);
  free(pids);
}

/* control/stop.ts killSequence with our guest init as PID 1: it is spared until the last step. */
static void kill_sequence(const struct guest_pid1 *g) {
  for (int i = 0; i < plan.n_kill; i++) {
    int sig = plan.kill[i].signal, wait = plan.kill[i].wait;
    if (sig == SIGKILL) {
      if (!gone(g)) kill(g->pid, SIGKILL);
      signal_cgroup(SIGKILL, 0);
      wait_until(all_gone, g, wait > 5 ? wait : 5);
      return;
    }
    signal_cgroup(sig, g->pid);
    wait_until(only_pid1_left, g, wait);
  }
}

int native_stop(const char *name) {
  if (!run_dir() || !load_plan(name)) return -1;
  struct exec_record rec;
  if (!running_record(name, &rec) || !rec.guest_init) return -1;
  /* The last guest's stop also releases the runtime's view: the TypeScript command does that. */
  DIR *d = opendir(plan.runtime_state);
  if (!d) return -1;
  int others = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.' && strcmp(de->d_name, name) != 0) others++;
  closedir(d);
  if (!others) return -1;
  if (!take_lock(plan.lock_dir, name)) return -1;
  if (!running_record(name, &rec)) {
    release_lock(plan.lock_dir, name);
    return -1;
  }

  char when[48], line[512];
  iso_time(when, sizeof when);
  snprintf(line, sizeof line, "=== %s stop of '%s'\n", when, name);
  append_line(plan.log, line);
  struct guest_pid1 g = { rec.pid, rec.pid_start };
  if (kill(g.pid, SIGPWR) == 0) wait_until(stopped_or_gone, &g, plan.stop_timeout);
  kill_sequence(&g);

  /* teardown.ts: the runtime's container, the cgroups, the view's shadow, the records, the bundle */
  run_runtime(plan.delete_argv, -1, -1);
  for (int round = 0; round < 20; round++) {
    int left = 0;
    for (int i = 0; i < plan.n_cgroup_dirs; i++)
      if (rmdir(plan.cgroup_dirs[i]) != 0 && errno != ENOENT) left = 1;
    if (!left) break;
    sleep_ms(50);
  }
  for (int i = 0; i < plan.n_cgroup_parents; i++) rmdir(plan.cgroup_parents[i]);
  if (plan.shadow) remove_tree(plan.shadow);
  if (plan.shadow_parent) rmdir(plan.shadow_parent);
  char path[4400];
  snprintf(path, sizeof path, "%s/.exec/%s", run_dir(), name);
  unlink(path);
  snprintf(path, sizeof path, "%s/%s", run_dir(), name);
  unlink(path);
  remove_tree(plan.bundle);
  release_lock(plan.lock_dir, name);
  journal_event(getpid(), "stop", name, 1, "");
  return 0;
}

