/* Reading the exec records that `vserver start` writes (pure/exec-record.ts), for exec, running
 * and the views' context names. */
#define _GNU_SOURCE
#include "front.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_exec_record(char *buf, struct exec_record *rec) {
  memset(rec, 0, sizeof *rec);
  int version = 0, lines = 1;
  for (char *p = buf; *p; p++) lines += *p == '\n';
  rec->argv = calloc((size_t)lines + 1, sizeof *rec->argv);
  if (!rec->argv) return 0;
  rec->pid = -1;
  rec->context = -1;
  for (char *line = buf, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    if (*line == '#') continue;
    char *value = strchr(line, ' ');
    if (!value) continue;
    *value++ = 0;
    if (strcmp(line, "version") == 0) version = atoi(value);
    else if (strcmp(line, "context") == 0) rec->context = atoi(value);
    else if (strcmp(line, "pid") == 0) rec->pid = atoi(value);
    else if (strcmp(line, "pid-start") == 0) snprintf(rec->pid_start, sizeof rec->pid_start, "%s", value);
    else if (strcmp(line, "private") == 0) rec->private_flag = strcmp(value, "1") == 0;
    else if (strcmp(line, "nice") == 0) rec->nice = atoi(value);
    else if (strcmp(line, "view") == 0) rec->view = value;
    else if (strcmp(line, "arg") == 0) rec->argv[rec->argc++] = value;
    else if (strcmp(line, "guest-init") == 0) rec->guest_init = strcmp(value, "1") == 0;
  }
  return version == 1 && rec->context >= 0 && rec->pid > 0 && rec->pid_start[0] && rec->argc > 0;
}

int read_exec_record(const char *name, struct exec_record *rec) {
  const char *run = run_dir();
  if (!run || !valid_guest_name(name)) return 0;
  char path[4200];
  snprintf(path, sizeof path, "%s/.exec/%s", run, name);
  char *buf = read_small_file(path, NULL);
  if (!buf) return 0;
  if (parse_exec_record(buf, rec)) return 1;
  free(buf);
  return 0;
}

int running_record(const char *name, struct exec_record *rec) {
  if (!read_exec_record(name, rec)) return 0;
  char now[32];
  return proc_start_time(rec->pid, now, sizeof now) && strcmp(now, rec->pid_start) == 0;
}

struct context_names {
  size_t n, cap;
  struct { int context; char *name; } *e;
};

static void add_name(struct context_names *m, int context, const char *name) {
  for (size_t i = 0; i < m->n; i++)
    if (m->e[i].context == context) return; /* the first source wins, as in host-view.ts */
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 64;
    m->e = realloc(m->e, m->cap * sizeof *m->e);
    if (!m->e) abort();
  }
  m->e[m->n].context = context;
  m->e[m->n].name = strdup(name);
  m->n++;
}

static int numeric(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

struct context_names *load_context_names(void) {
  const char *run = run_dir();
  if (!run) return NULL;
  struct context_names *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  DIR *d = opendir(run);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) {
      const char *n = de->d_name;
      size_t len = strlen(n);
      if (n[0] == '.' || (len > 4 && strcmp(n + len - 4, ".tmp") == 0)) continue;
      struct exec_record rec;
      if (!read_exec_record(n, &rec)) {
        closedir(d);
        return NULL;
      }
      add_name(m, rec.context, n);
    }
    closedir(d);
  }
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/.contexts", run);
  if ((d = opendir(dir))) {
    struct dirent *de;
    while ((de = readdir(d))) {
      if (!numeric(de->d_name)) continue;
      char path[4500];
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      char *label = read_small_file(path, NULL);
      char *s = label ? label : "";
      while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
      size_t k = strlen(s);
      while (k && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\n' || s[k - 1] == '\r')) s[--k] = 0;
      add_name(m, atoi(de->d_name), s);
      free(label);
    }
    closedir(d);
  }
  return m;
}

const char *context_name(const struct context_names *m, int context) {
  for (size_t i = 0; i < m->n; i++)
    if (m->e[i].context == context) return m->e[i].name;
  return NULL;
}
