/* The native front-end: the few hot commands (exec into a running guest, `running`, vserver-stat,
 * vps) answered without starting the JavaScript runtime, whose own start costs more than the
 * OCI runtime's exec. Everything else, and every case these files are not sure of, goes to the
 * TypeScript command (the "slow path") with the same arguments, which then decides and reports.
 *
 * Rules, so that policy stays in one place (docs/architecture.md):
 *  - read only what the TypeScript side wrote for this purpose (the exec record, run records) and
 *    what the kernel reports (/proc, cgroups); never a guest's config;
 *  - never print an error of our own for a user mistake: hand the case to the slow path instead. */
#ifndef VSERVER_FRONT_H
#define VSERVER_FRONT_H

#include <stddef.h>

/* Set by the Makefile: the Bun binary and the directory of the bundled commands. */
#ifndef BUN_PATH
#error "BUN_PATH must be defined"
#endif
#ifndef DIST_DIR
#error "DIST_DIR must be defined"
#endif

/* Run the TypeScript command `cmd` (dist/cmd.js) with our arguments; never returns. With
 * VSERVER_NATIVE=require it exits 125 instead (tests use it to know which path served a call). */
_Noreturn void slow_path(const char *cmd, int argc, char **argv);

/* True when VSERVER_NATIVE=0 asks for the slow path always (tests compare both paths). */
int native_disabled(void);

/* The state root's run and log directories (VSERVER_ROOT, like pure/paths.ts), or NULL when the
 * root is one we leave to the slow path (relative, or not in normal form). */
const char *run_dir(void);
const char *log_dir(void);
/* The state root's config directory (/etc/vservers under the root), or NULL as above. */
const char *conf_dir(void);
/* The cgroup parent of this root's guests (VSERVER_CGROUP_PARENT, else as pure/paths.ts). */
const char *cgroup_parent(void);

/* pure/paths.ts GUEST_NAME_RE. */
int valid_guest_name(const char *name);

/* /proc/PID/stat field 22 (start time) into buf; 0 when the process is gone or a zombie. */
int proc_start_time(int pid, char *buf, size_t len);

/* Whole small file into a NUL-terminated heap buffer (caller frees); NULL on error. */
char *read_small_file(const char *path, size_t *len);

/* The exec record (pure/exec-record.ts), parsed in place: buf must outlive it. */
struct exec_record {
  int context;
  int pid;
  char pid_start[32];
  int private_flag;
  int nice;
  const char *view;
  const char **argv;
  int argc;
  int guest_init;
};
int parse_exec_record(char *buf, struct exec_record *rec);

/* The guest's exec record, whether or not it still runs; 0 when it has none. */
int read_exec_record(const char *name, struct exec_record *rec);
/* The record of a guest whose PID 1 is still the one it names; 0 otherwise. */
int running_record(const char *name, struct exec_record *rec);

/* Context number -> guest name (run records, then chcontext labels), like control/host-view.ts. */
struct context_names;
/* NULL when a guest's run record has no exec record: then only the slow path knows its name. */
struct context_names *load_context_names(void);
const char *context_name(const struct context_names *names, int context);

/* Context of a process from /proc/PID/cgroup: >= 0, or -1 when the process is gone. */
int context_of_pid(int pid);

/* Context + 1 of every process now in a context's cgroup, indexed by PID (0: not in one, so the
 * host's, or gone); len = slots. */
int *context_by_pid(size_t *len);

/* Fills the slots of context_by_pid's map still empty from each process's own /proc/PID/cgroup:
 * the host's processes, and any placed in a context by hand. */
void fill_host_contexts(int *map, size_t slots);

struct proc_info {
  int pid, context;
  unsigned long long utime, stime, starttime, vsize, rss_pages;
};
/* Every process on the host (not threads); n set to the count. Caller frees. */
struct proc_info *scan_processes(size_t *n);

/* vserver-stat's size and time cells (pure/format/vserver-stat.ts). */
void format_size(unsigned long long bytes, char *out, size_t len);
void format_ticks(unsigned long long ticks, char *out, size_t len);

/* Now as new Date().toISOString() writes it (UTC, milliseconds). */
void iso_time(char *out, size_t len);

/* One event line in LOGDIR/events.log, like drivers/journal.ts; never fails the caller. */
void journal_exec(const char *guest, const char *argv0, int ok, int exit_code, const char *error);
/* The same for another operation: `fields` is JSON that follows "ok" (",\"context\":1" or ""). */
void journal_event(int pid, const char *op, const char *guest, int ok, const char *fields);

/* drivers/lock.ts's lock files, taken only if free: 1 taken, 0 busy or error (then the slow path
 * waits for it). The file names this process, so a slow path it execs still holds it. */
int take_lock(const char *dir, const char *name);
void release_lock(const char *dir, const char *name);

/* The start plan (pure/start-plan.ts), parsed in place: buf must outlive it. */
struct start_plan {
  const char *fingerprint, *log, *lock_dir, *runtime_state, *vdir, *bundle, *config, *view, *procs;
  const char *shadow, *shadow_parent, *run_record;
  int context, nice, guest_init, stop_timeout;
  const char **run_argv, **delete_argv, **cgroup_dirs, **cgroup_parents, **exec_record;
  int run_argc, delete_argc, n_cgroup_dirs, n_cgroup_parents, n_exec_record;
  struct { int signal, wait; } *kill;
  int n_kill;
};
int parse_start_plan(char *buf, struct start_plan *p);

/* The fingerprint of a guest's config (its directory and .defaults, names, inodes, sizes and
 * times, plus the host facts start depends on) as 16 hex digits into out[17]; 0 if it has none. */
int config_fingerprint(const char *name, char out[17]);

/* `vserver NAME start|stop` from the guest's start plan; return only when the slow path must do it
 * (nothing was changed then). */
int native_start(const char *name, int argc, char **argv);
int native_stop(const char *name);

#endif
