/* Shared by the native start and stop (lifecycle.c, native-start.c, native-stop.c). */
#ifndef VSERVER_LIFECYCLE_H
#define VSERVER_LIFECYCLE_H

#include "front.h"
#include <stddef.h>

#define VIEW_LOCK ".runtime-view"
#define STOPPED_COMM ".vserver-down" /* pure/guest-init.ts */

/* The guest's plan, loaded by load_plan. */
extern struct start_plan plan;

/* Load the guest's plan if it still matches the config; sets VSERVER_CONFIG_FINGERPRINT for a
 * slow path either way. */
int load_plan(const char *name);
int exists(const char *path);
/* The mount namespace file is mounted (the runtime's view lives). */
int view_live(const char *view);
long long now_ms(void);
void sleep_ms(int ms);
int write_all(int fd, const char *s, size_t n);
int append_line(const char *path, const char *text);
/* Run the runtime in the plan's view with its nice level; stdout and stderr to out_fd (-1:
 * /dev/null), status_fd (if >= 0) as fd 3. Returns its exit status, or -1. */
int run_runtime(const char **argv, int out_fd, int status_fd);
/* rm -rf of a directory of ours (never inside a guest root). */
void remove_tree(const char *path);

#endif
