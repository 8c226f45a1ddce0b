/* `vserver NAME start` replayed from the guest's start plan (lifecycle.h). */
#define _GNU_SOURCE
#include "lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
  if (!exists(log_dir())) return -1;                                   /* TypeScript makes the whole path */
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

