/* What the native commands share: the slow-path hand-over, the state root, /proc and the journal. */
#define _GNU_SOURCE
#include "front.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Noreturn void slow_path(const char *cmd, int argc, char **argv) {
  const char *mode = getenv("VSERVER_NATIVE");
  if (mode && strcmp(mode, "require") == 0) {
    dprintf(2, "%s: VSERVER_NATIVE=require, but this call needs the TypeScript command.\n", cmd);
    _exit(125);
  }
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

static char run_buf[4096], log_buf[4096], conf_buf[4096], parent_buf[256];
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
  for (const unsigned char *c = (const unsigned char *)root; *c; c++)
    if (*c >= 0x80) return 0; /* the TypeScript hash runs over UTF-16 units: leave such roots to it */
  snprintf(run_buf, sizeof run_buf, "%s/run/vservers", root);
  snprintf(log_buf, sizeof log_buf, "%s/var/log/vservers", root);
  snprintf(conf_buf, sizeof conf_buf, "%s/etc/vservers", root);
  const char *parent = getenv("VSERVER_CGROUP_PARENT");
  if (parent && *parent) {
    if (isspace((unsigned char)parent[0]) || isspace((unsigned char)parent[strlen(parent) - 1]) || strlen(parent) >= sizeof parent_buf) return 0;
    snprintf(parent_buf, sizeof parent_buf, "%s", parent);
  } else if (!root[0]) {
    snprintf(parent_buf, sizeof parent_buf, "vservers");
  } else {
    uint32_t h = 0x811c9dc5; /* FNV-1a, as pure/paths.ts fnv1a32 */
    for (const unsigned char *c = (const unsigned char *)root; *c; c++) h = (h ^ *c) * 0x01000193u;
    snprintf(parent_buf, sizeof parent_buf, "vservers-%08x", h);
  }
  root_state = 1;
  return 1;
}

const char *run_dir(void) { return resolve_root() ? run_buf : NULL; }
const char *log_dir(void) { return resolve_root() ? log_buf : NULL; }
const char *conf_dir(void) { return resolve_root() ? conf_buf : NULL; }
const char *cgroup_parent(void) { return resolve_root() ? parent_buf : NULL; }

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
