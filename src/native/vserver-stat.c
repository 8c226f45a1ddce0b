/* vserver-stat: the table of running contexts from one /proc pass, as control/host-view.ts and
 * pure/format/vserver-stat.ts make it. --json, --help, anything else, and a state root whose
 * guests we cannot all name go to the TypeScript command. */
#define _GNU_SOURCE
#include "front.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct row {
  int context, processes;
  unsigned long long vsz, rss, utime, stime, earliest;
};

static int by_context(const void *a, const void *b) {
  const struct row *x = a, *y = b;
  return (x->context > y->context) - (x->context < y->context);
}

static unsigned long long uptime_ticks(void) {
  char *s = read_small_file("/proc/uptime", NULL);
  if (!s) return 0;
  /* "12345.67 ..." : whole seconds and hundredths, no floating point */
  unsigned long long whole = strtoull(s, NULL, 10), frac = 0;
  char *dot = strchr(s, '.');
  if (dot && dot[1] >= '0' && dot[1] <= '9') frac = (unsigned long long)(dot[1] - '0') * 10 + (dot[2] >= '0' && dot[2] <= '9' ? dot[2] - '0' : 0);
  free(s);
  return whole * 100 + frac;
}

static const char *label(int context, const char *name) {
  if (context == 0) return "root server";
  if (context == 1) return "monitoring server";
  return name ? name : "";
}

int main(int argc, char **argv) {
  if (native_disabled() || argc > 1 || !run_dir()) slow_path("vserver-stat", argc, argv);
  size_t n;
  struct proc_info *procs = scan_processes(&n);
  if (!procs) slow_path("vserver-stat", argc, argv);
  /* Names after the scan (as host-view.ts does): a context's label or record exists before its
   * first process, so every process seen can be named. */
  struct context_names *names = load_context_names();
  if (!names) slow_path("vserver-stat", argc, argv);
  unsigned long long up = uptime_ticks();
  long page = sysconf(_SC_PAGESIZE);

  struct row *rows = calloc(n + 1, sizeof *rows);
  size_t nrows = 0;
  for (size_t i = 0; i < n; i++) {
    struct proc_info *p = &procs[i];
    struct row *r = NULL;
    for (size_t k = 0; k < nrows; k++)
      if (rows[k].context == p->context) { r = &rows[k]; break; }
    if (!r) {
      r = &rows[nrows++];
      r->context = p->context;
      r->earliest = ~0ULL;
    }
    r->processes++;
    r->vsz += p->vsize;
    r->rss += p->rss_pages * (unsigned long long)page;
    r->utime += p->utime;
    r->stime += p->stime;
    if (p->starttime < r->earliest) r->earliest = p->starttime;
  }
  qsort(rows, nrows, sizeof *rows, by_context);

  /* One buffer, one write: the table may have a thousand lines. */
  size_t cap = 128 + nrows * 128, len = 0;
  char *out = malloc(cap);
  len += (size_t)snprintf(out + len, cap - len, "CTX   PROC    VSZ    RSS  userTIME   sysTIME    UPTIME NAME\n");
  for (size_t k = 0; k < nrows; k++) {
    struct row *r = &rows[k];
    char vsz[32], rss[32], ut[32], st[32], upt[32];
    format_size(r->vsz, vsz, sizeof vsz);
    format_size(r->rss, rss, sizeof rss);
    format_ticks(r->utime, ut, sizeof ut);
    format_ticks(r->stime, st, sizeof st);
    format_ticks(r->context == 0 ? up : (up > r->earliest ? up - r->earliest : 0), upt, sizeof upt);
    len += (size_t)snprintf(out + len, cap - len, "%-5d%5d%7s%7s%10s%10s%10s %.20s\n", r->context, r->processes, vsz, rss, ut, st, upt,
                            label(r->context, context_name(names, r->context)));
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = write(1, out + off, len - off);
    if (w <= 0) return 1;
    off += (size_t)w;
  }
  return 0;
}
