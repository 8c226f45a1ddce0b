/* `vserver NAME start` and `vserver NAME stop` replayed from the guest's start plan
 * (pure/start-plan.ts), which the TypeScript start wrote for a guest that needs no decision at
 * start time. Each step mirrors control/start.ts, stop.ts and teardown.ts for that case.
 *
 * Every check that can send the call to the TypeScript command comes before the first change;
 * a start that fails after the runtime ran hands its failure, with the guest's lock still held, to
 * `vserver NAME start --native-abort KIND DETAIL`, which removes everything and reports it as start
 * would. Policy stays in TypeScript: nothing here reads a guest's config. */
#define _GNU_SOURCE
#include "front.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VIEW_LOCK ".runtime-view"
#define STOPPED_COMM ".vserver-down" /* pure/guest-init.ts */

static struct start_plan plan;
static char *plan_buf;

/* The guest's plan, if it still matches the config; sets the fingerprint for a slow path. */
static int load_plan(const char *name) {
  char fp[17];
  if (!config_fingerprint(name, fp)) return 0;
  setenv("VSERVER_CONFIG_FINGERPRINT", fp, 1);
  char path[4400];
  snprintf(path, sizeof path, "%s/.plans/%s", run_dir(), name);
  plan_buf = read_small_file(path, NULL);
  return plan_buf && parse_start_plan(plan_buf, &plan) && strcmp(plan.fingerprint, fp) == 0;
}

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static int view_live(const char *view) {
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

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static int write_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    s += w;
    n -= (size_t)w;
  }
  return 1;
}

static int append_line(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return 0;
  int ok = write_all(fd, text, strlen(text));
  close(fd);
  return ok;
}

/* The template with @PID@, @PIDSTART@ and @STARTED@ filled in (pure/start-plan.ts). */
static char *fill(const char *tpl, int pid, const char *pid_start, long long started) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  if (!f) return NULL;
  for (const char *p = tpl; *p;) {
    if (strncmp(p, "@PID@", 5) == 0) { fprintf(f, "%d", pid); p += 5; }
    else if (strncmp(p, "@PIDSTART@", 10) == 0) { fputs(pid_start, f); p += 10; }
    else if (strncmp(p, "@STARTED@", 9) == 0) { fprintf(f, "%lld", started); p += 9; }
    else fputc(*p++, f);
  }
  fclose(f);
  return out;
}

/* Like writeFileSync(tmp) + renameSync: readers never see half a record. */
static int write_atomic(const char *path, const char *text, mode_t mode) {
  char tmp[4500];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return 0;
  int ok = write_all(fd, text, strlen(text));
  close(fd);
  return ok && rename(tmp, path) == 0;
}

static int copy_file(const char *from, const char *to) {
  char *text = read_small_file(from, NULL);
  if (!text) return 0;
  int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int ok = fd >= 0 && write_all(fd, text, strlen(text));
  if (fd >= 0) close(fd);
  free(text);
  return ok;
}

/* Run the runtime in its view with the guest's nice level; stdout and stderr to out_fd, and
 * status_fd (if >= 0) as fd 3. Returns its exit status, or -1. */
static int run_runtime(const char **argv, int out_fd, int status_fd) {
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

/* The runtime's last error message from its JSON --log, as oci-runtime.ts runtimeError reads it. */
static void runtime_error(char *out, size_t len, int code) {
  snprintf(out, len, "exit status %d", code);
  char path[4400];
  snprintf(path, sizeof path, "%s/runtime.log", plan.bundle);
  char *log = read_small_file(path, NULL);
  if (!log) return;
  char *last = NULL;
  for (char *m = log; (m = strstr(m, "\"msg\":\"")); m += 7) last = m + 7;
  if (last) {
    size_t i = 0;
    for (char *c = last; *c && *c != '"' && i + 1 < len; c++) {
      if (*c == '\\' && c[1]) c++;
      out[i++] = *c;
    }
    out[i] = 0;
  }
  free(log);
}

static char *self_argv0;

/* After the runtime ran, a failed start is the TypeScript command's to clean up and report. */
static _Noreturn void abort_start(const char *name, const char *kind, const char *detail) {
  char *args[] = { self_argv0, (char *)name, "start", "--native-abort", (char *)kind, (char *)detail, NULL };
  unsetenv("VSERVER_CONFIG_FINGERPRINT");
  if (getenv("VSERVER_NATIVE") && strcmp(getenv("VSERVER_NATIVE"), "require") == 0) unsetenv("VSERVER_NATIVE");
  slow_path("vserver", 6, args);
}

/* Is another running guest on our context, or a run record we cannot judge? Then TypeScript decides. */
static int context_taken(const char *name) {
  DIR *d = opendir(run_dir());
  if (!d) return 0;
  int taken = 0;
  struct dirent *de;
  while (!taken && (de = readdir(d))) {
    const char *n = de->d_name;
    size_t len = strlen(n);
    if (n[0] == '.' || (len > 4 && strcmp(n + len - 4, ".tmp") == 0) || strcmp(n, name) == 0) continue;
    struct exec_record rec;
    if (!read_exec_record(n, &rec)) taken = 1;
    else if (rec.context == plan.context) {
      char now[32];
      taken = proc_start_time(rec.pid, now, sizeof now) && strcmp(now, rec.pid_start) == 0;
    }
  }
  closedir(d);
  return taken;
}

int native_start(const char *name, int argc, char **argv) {
  (void)argc;
  self_argv0 = argv[0];
  if (!run_dir() || !load_plan(name)) return -1;
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", run_dir(), name);
  char state[4400];
  snprintf(state, sizeof state, "%s/%s", plan.runtime_state, name);
  if (exists(path) || exists(state) || exists(plan.bundle)) return -1; /* running, or leftovers to clear */
  struct stat root;
  if (stat(plan.vdir, &root) != 0 || !S_ISDIR(root.st_mode)) return -1; /* not built: TypeScript says so */
  if (plan.view && !view_live(plan.view)) return -1;                   /* the first start makes the view */
  if (context_taken(name)) return -1;
  if (!take_lock(plan.lock_dir, name)) return -1;
  if (exists(path) || !take_lock(plan.lock_dir, VIEW_LOCK)) {
    release_lock(plan.lock_dir, name);
    return -1;
  }
  /* The last guest's stop may have released the view since we looked; under its lock it stays. */
  if (plan.view && !view_live(plan.view)) {
    release_lock(plan.lock_dir, VIEW_LOCK);
    release_lock(plan.lock_dir, name);
    return -1;
  }

  char when[48], line[512];
  iso_time(when, sizeof when);
  snprintf(line, sizeof line, "=== %s start of '%s' (context %d)\n", when, name, plan.context);
  mkdir(log_dir(), 0750);
  append_line(plan.log, line);
  char bundles[4400], config[4400];
  snprintf(bundles, sizeof bundles, "%s/.bundles", run_dir());
  mkdir(bundles, 0755);
  snprintf(config, sizeof config, "%s/config.json", plan.bundle);
  int status_pipe[2] = { -1, -1 };
  int log_fd = open(plan.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (mkdir(plan.bundle, 0700) != 0 || !copy_file(plan.config, config) || log_fd < 0 || pipe2(status_pipe, O_CLOEXEC) != 0) {
    /* nothing runs yet: what was made is removed by the slow path's leftover sweep */
    release_lock(plan.lock_dir, VIEW_LOCK);
    abort_start(name, "runtime", "cannot prepare the bundle");
  }
  int code = run_runtime(plan.run_argv, log_fd, status_pipe[1]);
  release_lock(plan.lock_dir, VIEW_LOCK);
  close(status_pipe[1]);
  close(log_fd);
  if (code != 0) {
    char msg[1024];
    runtime_error(msg, sizeof msg, code);
    abort_start(name, "runtime", msg);
  }

  snprintf(path, sizeof path, "%s/pid", plan.bundle);
  char *pid_text = read_small_file(path, NULL);
  int pid = pid_text ? atoi(pid_text) : 0;
  free(pid_text);
  char pid_start[32];
  if (pid <= 0 || !proc_start_time(pid, pid_start, sizeof pid_start)) abort_start(name, "pid1", "");

  char *run_record = fill(plan.run_record, pid, pid_start, now_ms());
  size_t exec_len = 0;
  for (int i = 0; i < plan.n_exec_record; i++) exec_len += strlen(plan.exec_record[i]) + 1;
  char *exec_tpl = calloc(exec_len + 1, 1);
  for (int i = 0; exec_tpl && i < plan.n_exec_record; i++) strcat(strcat(exec_tpl, plan.exec_record[i]), "\n");
  char *exec_record = exec_tpl ? fill(exec_tpl, pid, pid_start, 0) : NULL;
  snprintf(path, sizeof path, "%s/%s", run_dir(), name);
  char exec_dir[4400], exec_path[4500];
  snprintf(exec_dir, sizeof exec_dir, "%s/.exec", run_dir());
  mkdir(exec_dir, 0700);
  snprintf(exec_path, sizeof exec_path, "%s/%s", exec_dir, name);
  size_t rl = run_record ? strlen(run_record) : 0;
  char *run_line = run_record ? malloc(rl + 2) : NULL;
  if (run_line) snprintf(run_line, rl + 2, "%s\n", run_record);
  if (!run_line || !exec_record || !write_atomic(path, run_line, 0644) || !write_atomic(exec_path, exec_record, 0600)) {
    abort_start(name, "pid1", "");
  }

  /* The guest init's report of the start command: one line, then EOF. */
  char report[64] = "";
  size_t got = 0;
  for (;;) {
    ssize_t r = read(status_pipe[0], report + got, sizeof report - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    report[got] = 0;
    if (strchr(report, '\n') || got + 1 >= sizeof report) break;
  }
  close(status_pipe[0]);
  report[strcspn(report, "\n")] = 0;
  int idx = -1, status = -1;
  if (sscanf(report, "start %d %d", &idx, &status) != 2 || idx < 0 || status != 0) {
    abort_start(name, report[0] ? "report" : "pid1", report);
  }

  release_lock(plan.lock_dir, name);
  char fields[64];
  snprintf(fields, sizeof fields, ",\"context\":%d", plan.context);
  journal_event(pid, "start", name, 1, fields);
  dprintf(1, "guest '%s' started at context %d\n", name, plan.context);
  return 0;
}

/* --- stop --- */

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

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st; (void)flag; (void)ftw;
  remove(path);
  return 0;
}

static void remove_tree(const char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
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
