/* What the native commands share: the slow-path hand-over, the state root, /proc and the journal. */
#define _GNU_SOURCE
#include "front.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Noreturn void slow_path(const char *cmd, int argc, char **argv) {
  char script[4096];
  snprintf(script, sizeof script, "%s/%s.js", DIST_DIR, cmd);
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) _exit(127);
  args[0] = (char *)BUN_PATH;
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execv(BUN_PATH, args);
  dprintf(2, "%s: cannot run %s: %s\n", cmd, BUN_PATH, strerror(errno));
  _exit(127);
}

int native_disabled(void) {
  const char *v = getenv("VSERVER_NATIVE");
  return v && strcmp(v, "0") == 0;
}

static char run_buf[4096], log_buf[4096];
static int root_state; /* 0 unknown, 1 usable, -1 leave to the slow path */

static int resolve_root(void) {
  if (root_state) return root_state > 0;
  root_state = -1;
  const char *raw = getenv("VSERVER_ROOT");
  char root[3800] = "";
  if (raw && *raw) {
    size_t n = strlen(raw);
    if (raw[0] != '/' || n >= sizeof root) return 0;
    if (strstr(raw, "//") || strstr(raw, "/./") || strstr(raw, "/../") || strpbrk(raw, " \t\n\r")) return 0;
    memcpy(root, raw, n + 1);
    while (n > 1 && root[n - 1] == '/') root[--n] = 0;
    if ((n >= 2 && strcmp(root + n - 2, "/.") == 0) || (n >= 3 && strcmp(root + n - 3, "/..") == 0)) return 0;
    if (strcmp(root, "/") == 0) root[0] = 0;
  }
  snprintf(run_buf, sizeof run_buf, "%s/run/vservers", root);
  snprintf(log_buf, sizeof log_buf, "%s/var/log/vservers", root);
  root_state = 1;
  return 1;
}

const char *run_dir(void) { return resolve_root() ? run_buf : NULL; }
const char *log_dir(void) { return resolve_root() ? log_buf : NULL; }

int valid_guest_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 63) return 0;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) return 0;
  }
  return 1;
}

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

void journal_exec(const char *guest, const char *argv0, int ok, int exit_code, const char *error) {
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
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  fprintf(f, "{\"time\":\"%s.%03ldZ\",\"pid\":%d,\"op\":\"exec\",\"guest\":", when, ts.tv_nsec / 1000000, getpid());
  json_string(f, guest);
  fprintf(f, ",\"ok\":%s", ok ? "true" : "false");
  if (ok) {
    fputs(",\"argv0\":", f);
    json_string(f, argv0);
    fprintf(f, ",\"exit\":%d", exit_code);
  } else {
    fputs(",\"error\":", f);
    json_string(f, error ? error : "");
  }
  fputs("}\n", f);
  long n = ftell(f);
  fclose(f);
  if (n > 0 && (size_t)n < sizeof line) (void)!write(fd, line, (size_t)n);
  close(fd);
}
