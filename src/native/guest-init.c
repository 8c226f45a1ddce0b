/* The guest's PID 1 for the init styles that run scripts (sysv, minit, gentoo, openrc, arch).
 * It replaces a plain reaper plus two runtime `exec` calls: it runs the style's start command as
 * its first child and tells `vserver start` the outcome on fd 3, reaps orphans for the guest's
 * whole life, and runs the stop command when `vserver stop` asks (SIGPWR from the host).
 *
 * It runs inside the guest, with the guest's capabilities, seccomp filter and no_new_privs, from
 * a read-only bind mount of the host's binary; it is static because the guest may have no libc.
 * Nothing it reports is trusted by the host beyond "what the guest says of itself": guest root
 * can signal it like any of its own processes. It makes itself non-dumpable, so tracing it or
 * taking its descriptors (pidfd_getfd of the exec socket) needs CAP_SYS_PTRACE, which the
 * default capability set lacks; the children it forks for exec requests inherit that, and the
 * programs they execute are dumpable again, as usual after execve.
 *
 * Usage (argv is written by control/init-style.ts, never by a user):
 *   vserver-init [scope-abstract-unix] [start N ARG...]... [stop N ARG...]... [run N ARG...]...
 *   vserver-init exec-scoped PROGRAM ARG...
 * `scope-abstract-unix` (a guest on the host's network stack): before anything else, this init
 * puts itself, and so every process it starts, in a Landlock domain scoped for abstract unix
 * sockets, so that the guest connects and sends only to abstract sockets made inside that domain,
 * never to the host's (they share the host's abstract namespace). `exec-scoped` does the same for
 * one command that `vserver exec` runs in the guest (a domain of its own), then executes it.
 * Each `start`/`stop`/`run` group is one candidate command of N words; the first candidate whose
 * program exists is run, the others are skipped (sysv guests have /etc/init.d/rc or /etc/rc.d/rc).
 * `run` (a rescue start's command) is started with the start command and not waited for.
 *
 * Protocol (pure/guest-init.ts parses it):
 *  - fd 3, if open: one line "start IDX STATUS\n" when the start command has ended (IDX: the
 *    candidate that ran, -1 if none exists; STATUS: exit status, or 128+signal), then fd 3 closes.
 *  - SIGPWR sent from outside the guest's PID namespace: the stop command runs; when it has ended
 *    the process name becomes STOPPED_COMM, which `vserver stop` polls in /proc/PID/comm before it
 *    starts the kill sequence. From outside, every other signal is ignored.
 *  - Signals sent from inside the guest are busybox's requests to its init (halt.c: SIGTERM
 *    reboot, SIGUSR1 halt, SIGUSR2 poweroff), and the guest may of course ask to end itself: the
 *    stop command runs, every other process of the guest gets SIGTERM, then SIGKILL after
 *    KILL_GRACE seconds; then on reboot the start command runs again (the guest restarts in
 *    place, with no helper on the host), and on halt or poweroff this init exits, which ends the
 *    guest; the host's next command on it removes what is left. Each step is one "=== " line in
 *    the guest's log (stdout). Other signals from inside are ignored.
 *  - The same requests through /run/initctl, sysvinit's FIFO (struct init_request, runlevel 0
 *    halt, 6 reboot), which Debian's shutdown and telinit and systemd's reboot (when systemd is
 *    not PID 1) write to. The FIFO is made if /run exists and nothing else is at that path, and
 *    made again after the start command if the guest's boot scripts cleaned /run.
 *  - fd 4, if it is a listening socket: the host's requests to run a command in the guest
 *    (`vserver NAME exec`), served by guest-exec.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-exec.h"

#define STOPPED_COMM ".vserver-down"
#define MAX_CANDIDATES 8
#define KILL_GRACE 5
#define INITCTL "/run/initctl"
/* sysvinit's initreq.h: struct init_request is 384 bytes; these are its first three ints. */
#define INIT_MAGIC 0x03091969
#define INIT_CMD_RUNLVL 1
#define INIT_REQUEST_SIZE 384

enum request { NONE, REBOOT, HALT };

struct candidates {
  char **argv[MAX_CANDIDATES];
  int n;
};

static sigset_t orig_mask;

/* linux/landlock.h of Linux 6.12 (Landlock ABI 6); the build host's headers may be older. */
struct landlock_ruleset_attr_v6 {
  uint64_t handled_access_fs, handled_access_net, scoped;
};
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)

/* Confine this process and its future children to abstract unix sockets of their own domain.
 * Needs no_new_privs (guests have it; the host starts no scoped guest without it). */
static int scope_abstract_unix(void) {
  struct landlock_ruleset_attr_v6 attr = {.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET};
  int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (fd < 0) return -1;
  int r = (int)syscall(SYS_landlock_restrict_self, fd, 0);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/* Parse "start N ARG..." / "stop N ARG..." groups into NULL-terminated argv arrays, in place. */
static int scoped;

static int parse_args(int argc, char **argv, struct candidates *start, struct candidates *stop, struct candidates *run) {
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "scope-abstract-unix") == 0) {
    scoped = 1;
    first = 2;
  }
  for (int i = first; i < argc;) {
    struct candidates *c = strcmp(argv[i], "start") == 0 ? start : strcmp(argv[i], "stop") == 0 ? stop : strcmp(argv[i], "run") == 0 ? run : NULL;
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

/* What a signal from inside the guest asks for. The kernel gives si_pid 0 to a sender outside
 * our PID namespace; a sender inside has its PID here. */
static enum request inside_request(const siginfo_t *si) {
  if (si->si_code > 0 || si->si_pid == 0) return NONE;
  switch (si->si_signo) {
  case SIGTERM: return REBOOT;
  case SIGUSR1:
  case SIGUSR2: return HALT;
  default: return NONE;
  }
}

/* Reap children without blocking; tell the caller about the two it waits for. */
static void reap(pid_t *start_pid, pid_t *stop_pid, int *start_ws, int *stop_ws) {
  int ws;
  pid_t p;
  while ((p = waitpid(-1, &ws, WNOHANG)) > 0) {
    if (p == *start_pid) { *start_pid = -1; *start_ws = ws; }
    else if (p == *stop_pid) { *stop_pid = -1; *stop_ws = ws; }
  }
}

/* No process of the guest is left but this one (a zombie still counts until it is reaped). */
static int alone(void) {
  return kill(-1, 0) < 0 && errno == ESRCH;
}

/* End every other process of the guest: SIGTERM, up to KILL_GRACE seconds, then SIGKILL. Processes
 * that joined the guest from outside (an exec) are in our PID namespace too, so kill(-1) reaches
 * them; they are not our children, so "gone" is asked of the kernel, not of waitpid. */
static void kill_all(void) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  kill(-1, SIGTERM);
  kill(-1, SIGCONT);
  struct timespec end, now;
  clock_gettime(CLOCK_MONOTONIC, &end);
  end.tv_sec += KILL_GRACE;
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    if (alone()) return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) break;
    struct timespec step = {0, 50 * 1000 * 1000};
    sigtimedwait(&chld, NULL, &step);
  }
  kill(-1, SIGKILL);
  while (!alone()) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    struct timespec step = {0, 10 * 1000 * 1000};
    sigtimedwait(&chld, NULL, &step);
  }
}

static void say(const char *what) {
  dprintf(1, "=== vserver-init: %s\n", what);
}

/* The next signal, with the sender fields init decides by; on the way, every connection to the
 * exec socket is handed to guest-exec.c. -1 when interrupted (the caller asks again). */
static int next_signal(int sfd, const sigset_t *all, siginfo_t *si) {
  if (sfd < 0) return sigwaitinfo(all, si); /* no signalfd: no exec service either */
  for (;;) {
    struct pollfd p[2] = {{sfd, POLLIN, 0}, {guest_exec_fd(), POLLIN, 0}};
    if (poll(p, guest_exec_fd() >= 0 ? 2 : 1, -1) < 0) return -1;
    if (p[1].revents) guest_exec_accept(&orig_mask);
    if (!p[0].revents) continue;
    struct signalfd_siginfo fi;
    if (read(sfd, &fi, sizeof fi) != (ssize_t)sizeof fi) return -1;
    memset(si, 0, sizeof *si);
    si->si_signo = (int)fi.ssi_signo;
    si->si_code = fi.ssi_code;
    si->si_pid = (pid_t)fi.ssi_pid;
    return si->si_signo;
  }
}

/* The initctl FIFO, read without blocking; SIGIO (taken by sigwaitinfo like every signal) says
 * that a request came. O_RDWR keeps it from reporting EOF when a writer closes. */
struct initctl {
  int fd;
  dev_t dev;
  ino_t ino;
  char buf[INIT_REQUEST_SIZE];
  size_t got;
};

static void initctl_open(struct initctl *c) {
  struct stat st;
  if (c->fd >= 0 && lstat(INITCTL, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino) return;
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->got = 0;
  if (mkfifo(INITCTL, 0600) != 0 && errno != EEXIST) return; /* no /run: no FIFO */
  int fd = open(INITCTL, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) { /* the guest's own file there: leave it */
    close(fd);
    return;
  }
  fcntl(fd, F_SETOWN, getpid());
  fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK | O_ASYNC);
  c->fd = fd;
  c->dev = st.st_dev;
  c->ino = st.st_ino;
}

/* Drain the FIFO; the last complete request for runlevel 0 or 6 is the answer. */
static enum request initctl_read(struct initctl *c) {
  enum request r = NONE;
  if (c->fd < 0) return r;
  for (;;) {
    ssize_t n = read(c->fd, c->buf + c->got, sizeof c->buf - c->got);
    if (n <= 0) break;
    c->got += (size_t)n;
    if (c->got < sizeof c->buf) continue;
    c->got = 0;
    int magic, cmd, level;
    memcpy(&magic, c->buf, sizeof magic);
    memcpy(&cmd, c->buf + 4, sizeof cmd);
    memcpy(&level, c->buf + 8, sizeof level);
    if (magic != INIT_MAGIC || cmd != INIT_CMD_RUNLVL) continue;
    if (level == '6') r = REBOOT;
    else if (level == '0') r = HALT;
  }
  return r;
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "exec-scoped") == 0) {
    if (scope_abstract_unix() != 0) {
      dprintf(2, "vserver: cannot confine the command's abstract unix sockets (Landlock): %s\n", strerror(errno));
      return 126;
    }
    execvp(argv[2], argv + 2);
    dprintf(2, "vserver: %s: %s\n", argv[2], strerror(errno));
    return errno == ENOENT ? 127 : 126;
  }
  struct candidates start = {0}, stop = {0}, run = {0};
  if (parse_args(argc, argv, &start, &stop, &run) != 0) {
    dprintf(2, "vserver-init: bad arguments (this program is started by 'vserver start' only)\n");
    return 2;
  }
  /* Before the exec socket is served: guest root must not take it from us (see the header). */
  prctl(PR_SET_DUMPABLE, 0);
  /* Before the first child: nothing of the guest may run outside the domain. */
  if (scoped && scope_abstract_unix() != 0) {
    dprintf(1, "=== vserver-init: cannot confine the guest's abstract unix sockets (Landlock): %s\n", strerror(errno));
    return 1;
  }
  /* Every signal is taken with sigwaitinfo: a blocked signal is queued even for a namespace's
   * PID 1, and the sender can be told apart. The children get the original mask back. */
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &orig_mask);

  /* Before any child: the exec socket must be close-on-exec for the guest's own processes. */
  guest_exec_setup();
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
  struct initctl ctl = {.fd = -1};
  initctl_open(&ctl);
  if (run.n) {
    int run_idx;
    if (spawn_first(&run, &run_idx) < 0) say("the rescue command does not exist or could not be run");
  }
  pid_t stop_pid = -1;
  int stop_idx = -1, stop_wanted = 0, stopped = 0;
  /* A request from inside: its stop command (stop_pid) runs first, then the rest is killed. */
  enum request request = NONE;
  int request_stop_started = 0;

  /* Signals come through a signalfd, so that init can wait for them and for the exec socket's
   * connections at once; the signals stay blocked, and kill_all's sigtimedwait still sees them. */
  int sfd = signalfd(-1, &all, SFD_CLOEXEC);
  for (;;) {
    siginfo_t si;
    int sig = next_signal(sfd, &all, &si);
    if (sig < 0) continue;
    if (sig == SIGPWR && si.si_code == SI_USER && si.si_pid == 0) stop_wanted = 1;
    /* The host's stop wins over the guest's own request; one request at a time. */
    enum request asked = sig == SIGIO ? initctl_read(&ctl) : inside_request(&si);
    if (asked != NONE && request == NONE && !stop_wanted) {
      request = asked;
      request_stop_started = 0;
      say(asked == REBOOT ? "reboot asked from inside the guest" : "halt asked from inside the guest");
    }
    if (sig == SIGCHLD) {
      int start_ws = -1, stop_ws = -1;
      reap(&start_pid, &stop_pid, &start_ws, &stop_ws);
      if (start_ws >= 0) initctl_open(&ctl); /* the boot scripts may have cleaned /run */
      if (start_ws >= 0 && status_fd >= 0) {
        dprintf(status_fd, "start %d %d\n", start_idx, status_code(start_ws));
        close(status_fd);
        status_fd = -1;
      } else if (start_ws >= 0 && status_code(start_ws) != 0) { /* after a restart in place */
        dprintf(1, "=== vserver-init: the start command failed with exit status %d\n", status_code(start_ws));
      }
      if (stop_ws >= 0) {
        if (status_code(stop_ws) != 0) say_stop_failure(&stop, stop_idx, status_code(stop_ws));
        if (request == NONE) {
          stopped = 1;
          prctl(PR_SET_NAME, STOPPED_COMM);
        }
      }
    }
    /* The stop command runs once, after the start command has ended. */
    if (request != NONE && start_pid < 0 && stop_pid < 0) {
      if (!request_stop_started) {
        request_stop_started = 1;
        stop_pid = spawn_first(&stop, &stop_idx);
        if (stop_pid < 0) stop_pid = -1;
        if (stop_pid > 0) continue;
      }
      kill_all();
      if (request == HALT) {
        say("halted");
        return 0;
      }
      request = NONE;
      if (stop_wanted) { /* the host asked to stop meanwhile: its stop command has just run */
        stopped = 1;
        prctl(PR_SET_NAME, STOPPED_COMM);
        continue;
      }
      say("restarting the guest");
      start_pid = spawn_first(&start, &start_idx);
      if (start_pid < 0) {
        start_pid = -1;
        if (start_idx >= 0) dprintf(1, "=== vserver-init: the start command could not be run\n");
      }
      continue;
    }
    if (stop_wanted && !stopped && request == NONE && start_pid < 0 && stop_pid < 0) {
      stop_pid = spawn_first(&stop, &stop_idx);
      if (stop_pid < 0) {
        stop_pid = -1;
        stopped = 1;
        prctl(PR_SET_NAME, STOPPED_COMM);
      }
    }
  }
}
