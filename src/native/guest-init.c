/* The guest's PID 1 for the init styles that run scripts (sysv, minit, gentoo, openrc, arch).
 * It replaces a plain reaper plus two runtime `exec` calls: it runs the style's start command as
 * its first child and tells `vserver start` the outcome on fd 3, reaps orphans for the guest's
 * whole life, and runs the stop command when `vserver stop` asks (SIGPWR from the host).
 *
 * It runs inside the guest, with the guest's capabilities, seccomp filter and no_new_privs, from
 * a read-only bind mount of the host's binary; it is static because the guest may have no libc.
 * Nothing it reports is trusted by the host beyond "what the guest says of itself": guest root
 * can ptrace or signal it like any of its own processes.
 *
 * Usage (argv is written by control/init-style.ts, never by a user):
 *   vserver-init [start N ARG...]... [stop N ARG...]...
 * Each `start`/`stop` group is one candidate command of N words; the first candidate whose program
 * exists is run, the others are skipped (sysv guests have /etc/init.d/rc or /etc/rc.d/rc).
 *
 * Protocol (pure/guest-init.ts parses it):
 *  - fd 3, if open: one line "start IDX STATUS\n" when the start command has ended (IDX: the
 *    candidate that ran, -1 if none exists; STATUS: exit status, or 128+signal), then fd 3 closes.
 *  - SIGPWR sent from outside the guest's PID namespace: the stop command runs; when it has ended
 *    the process name becomes STOPPED_COMM, which `vserver stop` polls in /proc/PID/comm before it
 *    starts the kill sequence. Signals sent from inside the guest are ignored. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define STOPPED_COMM ".vserver-down"
#define MAX_CANDIDATES 8

struct candidates {
  char **argv[MAX_CANDIDATES];
  int n;
};

static sigset_t orig_mask;

/* Parse "start N ARG..." / "stop N ARG..." groups into NULL-terminated argv arrays, in place. */
static int parse_args(int argc, char **argv, struct candidates *start, struct candidates *stop) {
  for (int i = 1; i < argc;) {
    struct candidates *c = strcmp(argv[i], "start") == 0 ? start : strcmp(argv[i], "stop") == 0 ? stop : NULL;
    if (!c || i + 1 >= argc || c->n >= MAX_CANDIDATES) return -1;
    char *end;
    long n = strtol(argv[i + 1], &end, 10);
    if (*end || n < 1 || n > argc - i - 2) return -1;
    char **words = calloc((size_t)n + 1, sizeof *words);
    if (!words) return -1;
    memcpy(words, argv + i + 2, (size_t)n * sizeof *words);
    c->argv[c->n++] = words;
    i += 2 + (int)n;
  }
  return 0;
}

/* errno of a failed fork (or pipe) in spawn_first: reported as "start -3 ERRNO", so that a guest
 * at its process limit is told apart from one that lacks the program. */
static int spawn_errno;

/* Fork and exec the first candidate that exists. Returns the child's PID and sets *idx, or -1
 * with *idx = -1 when no candidate's program exists (-2 when there are none, -3 when fork fails). */
static pid_t spawn_first(const struct candidates *c, int *idx) {
  for (int i = 0; i < c->n; i++) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
      spawn_errno = errno;
      *idx = -3;
      return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
      spawn_errno = errno;
      close(report[0]);
      close(report[1]);
      *idx = -3;
      return -1;
    }
    if (pid == 0) {
      close(report[0]);
      sigprocmask(SIG_SETMASK, &orig_mask, NULL);
      setsid();
      execv(c->argv[i][0], c->argv[i]);
      int e = errno;
      (void)!write(report[1], &e, sizeof e);
      _exit(127);
    }
    close(report[1]);
    int e = 0;
    ssize_t got;
    while ((got = read(report[0], &e, sizeof e)) < 0 && errno == EINTR) {}
    close(report[0]);
    if (got == (ssize_t)sizeof e) {
      /* exec failed: reap that child now; a missing program means "try the next candidate" */
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
      if (e == ENOENT || e == ENOTDIR) continue;
      *idx = i;
      return -(128 + e); /* encoded: the program exists but could not run */
    }
    *idx = i;
    return pid;
  }
  *idx = c->n ? -1 : -2;
  return -1;
}

static void say_stop_failure(const struct candidates *c, int idx, int status) {
  /* stdout is the guest's log on the host: the same line `vserver stop` wrote before */
  dprintf(1, "=== the guest's stop command '");
  for (char **w = c->argv[idx]; *w; w++) dprintf(1, "%s%s", w == c->argv[idx] ? "" : " ", *w);
  dprintf(1, "' failed with exit status %d\n", status);
}

static int status_code(int wstatus) {
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

int main(int argc, char **argv) {
  struct candidates start = {0}, stop = {0};
  if (parse_args(argc, argv, &start, &stop) != 0) {
    dprintf(2, "vserver-init: bad arguments (this program is started by 'vserver start' only)\n");
    return 2;
  }
  /* Every signal is taken with sigwaitinfo: a blocked signal is queued even for a namespace's
   * PID 1, and the sender can be told apart. The children get the original mask back. */
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &orig_mask);

  int status_fd = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  if (status_fd >= 0) fcntl(status_fd, F_SETFD, FD_CLOEXEC);

  int idx = -1;
  pid_t start_pid = spawn_first(&start, &idx);
  if (start_pid < -1) { /* exists but could not be executed */
    if (status_fd >= 0) dprintf(status_fd, "start %d %d\n", idx, 126);
    start_pid = -1;
  } else if (start_pid < 0 && status_fd >= 0) {
    dprintf(status_fd, "start %d %d\n", idx, idx == -3 ? spawn_errno & 255 : idx == -2 ? 0 : 127);
  }
  if (start_pid < 0 && status_fd >= 0) {
    close(status_fd);
    status_fd = -1;
  }
  int start_idx = idx;
  pid_t stop_pid = -1;
  int stop_idx = -1, stop_wanted = 0, stopped = 0;

  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    if (sig == SIGPWR && si.si_code == SI_USER && si.si_pid == 0) stop_wanted = 1;
    if (sig == SIGCHLD) {
      int ws;
      pid_t p;
      while ((p = waitpid(-1, &ws, WNOHANG)) > 0) {
        if (p == start_pid) {
          start_pid = -1;
          if (status_fd >= 0) {
            dprintf(status_fd, "start %d %d\n", start_idx, status_code(ws));
            close(status_fd);
            status_fd = -1;
          }
        } else if (p == stop_pid) {
          stop_pid = -1;
          if (status_code(ws) != 0) say_stop_failure(&stop, stop_idx, status_code(ws));
          stopped = 1;
          prctl(PR_SET_NAME, STOPPED_COMM);
        }
      }
    }
    /* The stop command runs once, after the start command has ended. */
    if (stop_wanted && !stopped && start_pid < 0 && stop_pid < 0) {
      stop_pid = spawn_first(&stop, &stop_idx);
      if (stop_pid < 0) {
        stop_pid = -1;
        stopped = 1;
        prctl(PR_SET_NAME, STOPPED_COMM);
      }
    }
  }
}
