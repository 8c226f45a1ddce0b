/* `vserver`: `NAME exec CMD...` and `NAME running` for a running guest, from its exec record
 * (pure/exec-record.ts) alone, and `NAME start` / `NAME stop` from its start plan (native-start.c, native-stop.c);
 * every other use goes to the TypeScript command.
 *
 * exec takes this path only when the TypeScript one would do exactly the same: the guest runs
 * (its PID 1 is the process the record names), it is not private, stdin is not a terminal (no pty
 * to make) and our stdio fds are pipes, sockets or /dev/null (nothing to relay, drivers/stdio.ts).
 * Then it enters the runtime's view, sets the nice level, runs the recorded exec command with the
 * user's command appended, waits for it, journals the result and exits with its status. */
#define _GNU_SOURCE
#include "front.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int passable_to_guest(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) return 1;
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

static int fast_exec(const char *name, int argc, char **cmd) {
  struct exec_record rec;
  if (!running_record(name, &rec) || rec.private_flag) return -1;
  if (isatty(0)) return -1;
  for (int fd = 0; fd < 3; fd++)
    if (!passable_to_guest(fd)) return -1;
  int view = -1;
  if (rec.view && (view = open(rec.view, O_RDONLY | O_CLOEXEC)) < 0) return -1;

  const char **argv = calloc((size_t)(rec.argc + argc + 1), sizeof *argv);
  if (!argv) return -1;
  memcpy(argv, rec.argv, (size_t)rec.argc * sizeof *argv);
  memcpy(argv + rec.argc, cmd, (size_t)argc * sizeof *argv);

  pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    if (view >= 0 && setns(view, CLONE_NEWNS) != 0) {
      dprintf(2, "vserver: cannot enter the runtime's view %s: %s\n", rec.view, strerror(errno));
      _exit(126);
    }
    errno = 0;
    if (rec.nice && nice(rec.nice) == -1 && errno) {
      dprintf(2, "vserver: cannot set nice level %d: %s\n", rec.nice, strerror(errno));
      _exit(126);
    }
    execv(argv[0], (char **)argv);
    dprintf(2, "vserver: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  /* While the command owns the terminal's interrupt, we only wait for its status. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return 1;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  journal_exec(name, cmd[0], 1, code, NULL);
  return code;
}

int main(int argc, char **argv) {
  if (!native_disabled() && argc >= 3 && argv[1][0] != '-') {
    const char *name = argv[1], *verb = argv[2];
    if (strcmp(verb, "exec") == 0 && argc >= 4) {
      int first = strcmp(argv[3], "--") == 0 ? 4 : 3;
      if (first < argc) {
        int code = fast_exec(name, argc - first, argv + first);
        if (code >= 0) return code;
      }
    } else if (strcmp(verb, "running") == 0 && argc == 3) {
      struct exec_record rec;
      if (running_record(name, &rec)) return 0;
    } else if (strcmp(verb, "start") == 0 && argc == 3) {
      if (native_start(name, argc, argv) == 0) return 0;
    } else if (strcmp(verb, "stop") == 0 && argc == 3) {
      if (native_stop(name) == 0) return 0;
    }
  }
  slow_path("vserver", argc, argv);
}
