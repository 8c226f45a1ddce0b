/* The event journal lines of the native operations (exec, start, stop), in drivers/journal.ts's
 * format: they are operations of the control plane like any other and are recorded the same way. */
#define _GNU_SOURCE
#include "front.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void iso_time(char *out, size_t len) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char sec[32];
  strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, len, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p == '\n') fputs("\\n", f);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

/* Appends one line {"time":..., "pid":PID, "op":OP, "guest":GUEST, "ok":OK<rest>} where rest()
 * writes the remaining fields. */
static void journal_write(int pid, const char *op, const char *guest, int ok, void (*rest)(FILE *, const void *), const void *arg) {
  const char *dir = log_dir();
  if (!dir) return;
  char path[4200];
  /* like mkdirSync(..., { recursive: true }) for the last levels, which are the ones ever missing */
  snprintf(path, sizeof path, "%s", dir);
  for (char *s = path + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    mkdir(path, 0755);
    *s = '/';
  }
  mkdir(path, 0750);
  snprintf(path, sizeof path, "%s/events.log", dir);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char line[8192];
  FILE *f = fmemopen(line, sizeof line, "w");
  if (!f) { close(fd); return; }
  char when[48];
  iso_time(when, sizeof when);
  fprintf(f, "{\"time\":\"%s\",\"pid\":%d,\"op\":", when, pid);
  json_string(f, op);
  fputs(",\"guest\":", f);
  json_string(f, guest);
  fprintf(f, ",\"ok\":%s", ok ? "true" : "false");
  rest(f, arg);
  fputs("}\n", f);
  long n = ftell(f);
  fclose(f);
  if (n > 0 && (size_t)n < sizeof line) (void)!write(fd, line, (size_t)n);
  close(fd);
}

struct exec_fields { int ok, exit_code; const char *argv0, *error; };

static void exec_rest(FILE *f, const void *arg) {
  const struct exec_fields *e = arg;
  if (e->ok) {
    fputs(",\"argv0\":", f);
    json_string(f, e->argv0);
    fprintf(f, ",\"exit\":%d", e->exit_code);
  } else {
    fputs(",\"error\":", f);
    json_string(f, e->error ? e->error : "");
  }
}

void journal_exec(const char *guest, const char *argv0, int ok, int exit_code, const char *error) {
  struct exec_fields e = { ok, exit_code, argv0, error };
  journal_write(getpid(), "exec", guest, ok, exec_rest, &e);
}

static void raw_rest(FILE *f, const void *arg) { fputs(arg, f); }

void journal_event(int pid, const char *op, const char *guest, int ok, const char *fields) {
  journal_write(pid, op, guest, ok, raw_rest, fields);
}
