/* vps: ps's output with the CONTEXT column spliced in after PID, as pure/format/vps.ts does it
 * (that file is the reference). --json, --help and a ps that fails with no output go to the
 * TypeScript command, which explains the failure. */
#define _GNU_SOURCE
#include "front.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIN_NAME_WIDTH 14

struct buf {
  char *p;
  size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    while (b->len + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 65536;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

static void pad(struct buf *b, size_t n) {
  while (n--) put(b, " ", 1);
}

static void write_all(int fd, const char *p, size_t len) {
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    len -= (size_t)w;
  }
}

/* Start ps with our arguments, its output and errors into memory files (so it never waits for us). */
static pid_t start_ps(int argc, char **argv, int outfd, int errfd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  dup2(outfd, 1);
  dup2(errfd, 2);
  if (!getenv("COLUMNS")) setenv("COLUMNS", "512", 1);
  char **args = calloc((size_t)argc + 2, sizeof *args);
  args[0] = "ps";
  if (argc > 1) for (int i = 1; i < argc; i++) args[i] = argv[i];
  else args[1] = "ax";
  execvp("ps", args);
  dprintf(2, "cannot run ps: %s\n", strerror(errno));
  _exit(127);
}

static int wait_status(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void read_back(int fd, struct buf *out) {
  char chunk[65536];
  lseek(fd, 0, SEEK_SET);
  for (;;) {
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    put(out, chunk, (size_t)r);
  }
}

/* /(^|\s)PID(\s|$)/: the index just past "PID", or -1. */
static long pid_heading_end(const char *line, size_t len) {
  for (size_t i = 0; i + 3 <= len; i++) {
    if (memcmp(line + i, "PID", 3) != 0) continue;
    int before = i == 0 || strchr(" \t\r\f\v", line[i - 1]);
    int after = i + 3 == len || strchr(" \t\r\f\v", line[i + 3]);
    if (before && after) return (long)(i + 3);
  }
  return -1;
}

/* The number that ends at column `end` of a row (ps right-aligns PIDs), or -1. */
static long row_pid(const char *line, size_t len, size_t end) {
  size_t e = end < len ? end : len, s = e;
  while (s > 0 && line[s - 1] >= '0' && line[s - 1] <= '9') s--;
  if (s == e) return -1;
  return strtol(line + s, NULL, 10);
}

struct line {
  const char *p;
  size_t len;
  int has_pid, context;
  const char *name; /* NULL: unknown (ERR) */
};

static size_t rtrim(const char *p, size_t len) {
  while (len && strchr(" \t\r\f\v", p[len - 1])) len--;
  return len;
}

int main(int argc, char **argv) {
  if (native_disabled() || !run_dir()) slow_path("vps", argc, argv);
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--help") == 0) slow_path("vps", argc, argv);
  int outfd = memfd_create("vps-ps-stdout", MFD_CLOEXEC), errfd = memfd_create("vps-ps-stderr", MFD_CLOEXEC);
  if (outfd < 0 || errfd < 0) slow_path("vps", argc, argv);
  pid_t ps_pid = start_ps(argc, argv, outfd, errfd);
  if (ps_pid < 0) slow_path("vps", argc, argv);
  /* While ps reads /proc we attribute every process (the contexts' cgroup.procs, then the rest's
   * own cgroup files) and read the names: the two passes run side by side, and after ps only
   * processes newer than our pass are looked up. */
  size_t slots = 0;
  int *seen = context_by_pid(&slots);
  if (seen) fill_host_contexts(seen, slots);
  struct context_names *names = load_context_names();
  int code = wait_status(ps_pid);
  struct buf out = {0};
  read_back(outfd, &out);
  int blank = 1;
  for (size_t i = 0; i < out.len; i++)
    if (!strchr(" \t\r\n\f\v", out.p[i])) { blank = 0; break; }
  if (code < 0 || (code != 0 && blank)) slow_path("vps", argc, argv);
  if (!names) slow_path("vps", argc, argv);

  /* Split into lines; a final newline is kept aside and put back at the end. */
  const char *text = out.p ? out.p : "";
  size_t tlen = out.len;
  int trailing_nl = tlen > 0 && text[tlen - 1] == '\n';
  if (trailing_nl) tlen--;
  size_t nlines = 1;
  for (size_t i = 0; i < tlen; i++) nlines += text[i] == '\n';
  struct line *lines = calloc(nlines, sizeof *lines);
  size_t k = 0;
  for (const char *s = text, *end = text + tlen; k < nlines; k++) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    lines[k].p = s;
    lines[k].len = nl ? (size_t)(nl - s) : (size_t)(end - s);
    s = nl ? nl + 1 : end;
  }
  if (out.len == 0) nlines = 0;

  long pid_end = -1;
  size_t head = 0;
  for (; head < nlines; head++)
    if ((pid_end = pid_heading_end(lines[head].p, lines[head].len)) >= 0) break;

  struct buf res = {0};
  if (pid_end < 0) {
    put(&res, text, out.len); /* no PID column: ps's output unchanged */
  } else {
    size_t width = MIN_NAME_WIDTH;
    for (size_t i = head + 1; i < nlines; i++) {
      struct line *l = &lines[i];
      if (rtrim(l->p, l->len) == 0 && l->len == strspn(l->p, " \t\r\f\v")) continue;
      l->has_pid = 1;
      long pid = row_pid(l->p, l->len, (size_t)pid_end);
      int ctx = pid < 0 ? -1 : pid == ps_pid ? 0 : (seen && (size_t)pid < slots && seen[pid]) ? seen[pid] - 1 : context_of_pid((int)pid);
      /* Not in any context's cgroup during our pass: read its own cgroup file (a host process, or
       * one that started or ended meanwhile; gone is ERR, as in the TypeScript command). */
      if (ctx < 0) continue; /* name stays NULL: ERR */
      l->context = ctx;
      l->name = ctx == 0 ? "MAIN" : context_name(names, ctx);
      if (!l->name) {
        /* The names were read while ps ran; a context made meanwhile may have its chcontext
         * label (written before its first process) or exec record (right after start) by now. */
        struct context_names *again = load_context_names();
        if (again) names = again;
        l->name = context_name(names, ctx);
      }
      if (!l->name) l->name = "";
      if (strlen(l->name) + 1 > width) width = strlen(l->name) + 1;
    }
    for (size_t i = 0; i < nlines; i++) {
      struct line *l = &lines[i];
      size_t start = res.len; /* the line is built in place, then its trailing blanks cut, as ps does */
      if (i == head || l->has_pid) {
        size_t at = l->len < (size_t)pid_end + 1 ? l->len : (size_t)pid_end + 1;
        put(&res, l->p, at);
        if (at == l->len && at == (size_t)pid_end) put(&res, " ", 1);
        if (i == head) {
          put(&res, "CONTEXT", 7);
          pad(&res, 6 + width - 7);
        } else if (l->name) {
          char num[16];
          int w = snprintf(num, sizeof num, "%5d ", l->context);
          put(&res, num, (size_t)w);
          put(&res, l->name, strlen(l->name));
          pad(&res, width - strlen(l->name));
        } else {
          put(&res, "      ERR", 9);
          pad(&res, width - 3);
        }
        put(&res, l->p + at, l->len - at);
      } else {
        put(&res, l->p, l->len);
      }
      res.len = start + rtrim(res.p + start, res.len - start);
      if (i + 1 < nlines) put(&res, "\n", 1);
    }
    if (trailing_nl) put(&res, "\n", 1);
  }
  write_all(1, res.p ? res.p : "", res.len);
  off_t elen = lseek(errfd, 0, SEEK_END);
  if (elen > 0) {
    char *e = mmap(NULL, (size_t)elen, PROT_READ, MAP_PRIVATE, errfd, 0);
    if (e != MAP_FAILED) write_all(2, e, (size_t)elen);
  }
  return code;
}
