/* The guest init's exec service: `vserver NAME exec` asks the guest's PID 1 to start the command,
 * which is already inside every namespace and cgroup of the guest, under its seccomp filter and
 * capability bounding set, instead of paying for a runtime `exec` that joins them all again.
 * The protocol is defined once in src/pure/guest-exec-protocol.ts (the build generates
 * guest-exec-protocol.h from it); read its header comment first.
 *
 * Each connection gets a handler process (a child of init, so init never blocks on a host that
 * does not talk): it reads the request and the three descriptors, forks the command, which takes
 * the policy the host sent (limits, nice, no_new_privs, user, directory) before it execs, and
 * reports "pid", then "exit" when the command ends; "signal N" lines from the host are passed on.
 * When the command cannot be given its policy here (a limit init no longer holds, a user this
 * init cannot become), the handler answers "refused" before anything ran and the host falls back
 * to the runtime's exec.
 *
 * For a command at a terminal the host sends no descriptors but a window size: the handler opens a
 * fresh pty in the guest, makes its slave the command's controlling terminal and stdio, and sends
 * the master back with the "pid" line; the host copies between it and the admin's terminal.
 *
 * Threat model: the guest's root can ptrace init and its handlers (same user), so it can read or
 * answer any request. That gives it nothing more than the command itself would have: the host
 * hands in only pipes and sockets, never a host file or terminal, and believes no more from the
 * answers than what the guest says of itself. The socket's path is in the host's bundle
 * directory, which the guest cannot see; only the listening descriptor is in here. */
#define _GNU_SOURCE
#include "guest-exec.h"
#include "guest-exec-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQUEST_TIMEOUT_SEC 10
#define MAX_RLIMITS 16

static int listen_fd = -1;

int guest_exec_setup(void) {
  int accepting = 0;
  socklen_t len = sizeof accepting;
  if (getsockopt(INIT_EXEC_FD, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) return 0;
  listen_fd = INIT_EXEC_FD;
  /* Not O_ASYNC: a unix listening socket set to signal its owner keeps raising SIGIO after its
   * first connection here, which starved every higher-numbered signal (the host's SIGPWR) in
   * init's sigwaitinfo. Init polls it instead (guest_exec_fd). */
  fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
  fcntl(listen_fd, F_SETFL, O_RDWR | O_NONBLOCK);
  return 1;
}

int guest_exec_fd(void) {
  return listen_fd;
}

struct request {
  uid_t uid;
  gid_t gid;
  const char *cwd;
  int nice;
  int no_new_privs;
  int nlimits;
  struct { int resource; struct rlimit value; } limits[MAX_RLIMITS];
  char **argv;
  char **env;
  int terminal; /* a fresh pty of rows x cols instead of the host's three descriptors */
  struct winsize size;
};

/* The next NUL-terminated field of the body, or NULL when the body has ended. */
static const char *field(char **pos, char *end) {
  if (*pos >= end) return NULL;
  char *f = *pos;
  char *nul = memchr(f, '\0', (size_t)(end - f));
  if (!nul) return NULL;
  *pos = nul + 1;
  return f;
}

static int number(const char *s, long min, long max, long *out) {
  if (!s || !*s) return -1;
  char *e;
  errno = 0;
  long v = strtol(s, &e, 10);
  if (*e || errno || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static int limit_value(const char *s, rlim_t *out) {
  if (s && strcmp(s, "inf") == 0) {
    *out = RLIM_INFINITY;
    return 0;
  }
  if (!s || !*s) return -1;
  char *e;
  errno = 0;
  unsigned long long v = strtoull(s, &e, 10);
  if (*e || errno || s[0] == '-') return -1;
  *out = (rlim_t)v;
  return 0;
}

/* A NULL-terminated array of `n` fields. */
static char **strings(char **pos, char *end, long n) {
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (!v) return NULL;
  for (long i = 0; i < n; i++) {
    const char *f = field(pos, end);
    if (!f) return NULL;
    v[i] = (char *)f;
  }
  return v;
}

static int parse(char *body, size_t size, struct request *r) {
  char *pos = body, *end = body + size;
  long v;
  const char *magic = field(&pos, end);
  if (!magic || strcmp(magic, EXEC_MAGIC) != 0) return -1;
  if (number(field(&pos, end), 0, UINT32_MAX - 1, &v)) return -1;
  r->uid = (uid_t)v;
  if (number(field(&pos, end), 0, UINT32_MAX - 1, &v)) return -1;
  r->gid = (gid_t)v;
  if (!(r->cwd = field(&pos, end)) || r->cwd[0] != '/') return -1;
  if (number(field(&pos, end), -20, 19, &v)) return -1;
  r->nice = (int)v;
  if (number(field(&pos, end), 0, 1, &v)) return -1;
  r->no_new_privs = (int)v;
  if (number(field(&pos, end), 0, MAX_RLIMITS, &v)) return -1;
  r->nlimits = (int)v;
  for (int i = 0; i < r->nlimits; i++) {
    if (number(field(&pos, end), 0, RLIM_NLIMITS - 1, &v)) return -1;
    r->limits[i].resource = (int)v;
    if (limit_value(field(&pos, end), &r->limits[i].value.rlim_cur)) return -1;
    if (limit_value(field(&pos, end), &r->limits[i].value.rlim_max)) return -1;
  }
  if (number(field(&pos, end), 1, 1 << 20, &v) || !(r->argv = strings(&pos, end, v))) return -1;
  if (number(field(&pos, end), 0, 1 << 20, &v) || !(r->env = strings(&pos, end, v))) return -1;
  if (pos == end) return 0;
  const char *t = field(&pos, end);
  if (!t || strcmp(t, EXEC_TERMINAL) != 0) return -1;
  r->terminal = 1;
  if (number(field(&pos, end), 0, MAX_TERMINAL_SIZE, &v)) return -1;
  r->size.ws_row = (unsigned short)v;
  if (number(field(&pos, end), 0, MAX_TERMINAL_SIZE, &v)) return -1;
  r->size.ws_col = (unsigned short)v;
  return pos == end ? 0 : -1;
}

/* Read exactly n bytes (the connection has a receive timeout). */
static int read_all(int fd, char *buf, size_t n) {
  while (n) {
    ssize_t got = read(fd, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    buf += got;
    n -= (size_t)got;
  }
  return 0;
}

/* The length word with the three standard descriptors (none for a terminal request), then the
 * body. `*nfds_out`: how many came. */
static char *receive(int conn, size_t *size, int fds[3], int *nfds_out) {
  uint32_t len;
  struct iovec iov = {&len, sizeof len};
  union { struct cmsghdr h; char buf[CMSG_SPACE(3 * sizeof(int))]; } ctl;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t got;
  while ((got = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  if (got <= 0) return NULL;
  int nfds = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (nfds < 3) fds[nfds++] = fd;
      else close(fd);
    }
  }
  *nfds_out = nfds;
  if ((nfds != 3 && nfds != 0) || (msg.msg_flags & MSG_CTRUNC)) return NULL;
  if (got < (ssize_t)sizeof len && read_all(conn, (char *)&len + got, sizeof len - (size_t)got)) return NULL;
  if (len == 0 || len > MAX_EXEC_REQUEST_BYTES) return NULL;
  char *body = malloc(len);
  if (!body || read_all(conn, body, len)) return NULL;
  *size = len;
  return body;
}

/* The user's home directory from the guest's own /etc/passwd (by hand: a static program has no
 * NSS), else "/"; as the runtime does, HOME is set when the request's environment lacks it. */
static void set_home(uid_t uid) {
  for (char **e = environ; e && *e; e++) if (strncmp(*e, "HOME=", 5) == 0) return;
  static char home[512] = "/";
  FILE *f = fopen("/etc/passwd", "re");
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    char *fields[7], *p = line;
    int n = 0;
    for (; n < 7 && p; n++) fields[n] = strsep(&p, ":");
    if (n < 7 || !fields[2][0]) continue;
    char *end;
    unsigned long id = strtoul(fields[2], &end, 10);
    if (*end || id != uid || fields[5][0] != '/') continue;
    snprintf(home, sizeof home, "%s", fields[5]);
    break;
  }
  if (f) fclose(f);
  setenv("HOME", home, 1);
}

/* In the command's process: take the policy, then exec. A failure to take the policy is written
 * to `report` as "R" + text (the host then falls back to the runtime); a failure to exec as
 * "E" + errno. Never returns. */
static void run_command(const struct request *r, const int fds[3], int report, const sigset_t *child_mask) {
  char msg[256];
#define REFUSE(...) do { int n_ = snprintf(msg, sizeof msg, "R" __VA_ARGS__); (void)!write(report, msg, n_ > 0 ? (size_t)n_ : 0); _exit(126); } while (0)
  setsid();
  /* A terminal's slave becomes the session's controlling terminal, as at a login. */
  if (r->terminal && ioctl(fds[0], TIOCSCTTY, 0) != 0) REFUSE("cannot take the terminal: %s", strerror(errno));
  /* Above the standard three first, so that no dup2 below overwrites a descriptor still to move
   * (init may run with some of 0-2 closed, and then received descriptors land there). */
  if ((report = fcntl(report, F_DUPFD_CLOEXEC, 3)) < 0) _exit(126);
  int high[3];
  for (int i = 0; i < 3; i++) {
    if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0) _exit(126);
  }
  for (int i = 0; i < 3; i++) {
    if (dup2(high[i], i) < 0) REFUSE("cannot set up descriptor %d: %s", i, strerror(errno));
  }
  /* Nothing of init's but the report pipe (close-on-exec) may reach the command. */
  if (report > 3) syscall(SYS_close_range, 3, report - 1, 0);
  syscall(SYS_close_range, report + 1, ~0U, 0);
  for (int i = 0; i < r->nlimits; i++) {
    if (setrlimit(r->limits[i].resource, &r->limits[i].value) != 0) REFUSE("cannot set limit %d: %s", r->limits[i].resource, strerror(errno));
  }
  errno = 0;
  if (setpriority(PRIO_PROCESS, 0, r->nice) != 0) REFUSE("cannot set nice %d: %s", r->nice, strerror(errno));
  if (r->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) REFUSE("cannot set no_new_privs: %s", strerror(errno));
  if (setgroups(0, NULL) != 0) REFUSE("cannot clear supplementary groups: %s", strerror(errno));
  if (setresgid(r->gid, r->gid, r->gid) != 0) REFUSE("cannot become group %u: %s", r->gid, strerror(errno));
  if (setresuid(r->uid, r->uid, r->uid) != 0) REFUSE("cannot become user %u: %s", r->uid, strerror(errno));
#undef REFUSE
  if (chdir(r->cwd) != 0) {
    int e = errno;
    dprintf(2, "vserver: cannot change to directory %s in the guest: %s\n", r->cwd, strerror(e));
    char c = 'D';
    (void)!write(report, &c, 1);
    _exit(126);
  }
  sigprocmask(SIG_SETMASK, child_mask, NULL);
  environ = r->env;
  set_home(r->uid);
  execvp(r->argv[0], r->argv);
  int e = errno;
  dprintf(2, "vserver: cannot run %s in the guest: %s\n", r->argv[0], strerror(e));
  msg[0] = 'E';
  memcpy(msg + 1, &e, sizeof e);
  (void)!write(report, msg, 1 + sizeof e);
  _exit(e == ENOENT ? 127 : 126);
}

/* Send "signal N" requests on; stop listening when the host hangs up (the command goes on, as it
 * would after a runtime exec whose caller died). */
static void pass_signals(int conn, pid_t pid, int *open) {
  char buf[64];
  ssize_t n = read(conn, buf, sizeof buf - 1);
  if (n <= 0) {
    *open = 0;
    return;
  }
  buf[n] = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    long sig;
    if (strncmp(line, EXEC_SIGNAL " ", sizeof EXEC_SIGNAL) == 0 && number(line + sizeof EXEC_SIGNAL, 1, 64, &sig) == 0) kill(pid, (int)sig);
  }
}

/* A fresh pty from the guest's own /dev/ptmx (its devpts instance), of the host's window size: the
 * master is returned, the slave in all of fds[0..2] (one descriptor). The slave is opened from the
 * master (TIOCGPTPEER), never by a path the guest could swap. */
static int open_terminal(const struct winsize *size, int fds[3]) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return -1;
  int unlock = 0;
  int slave = -1;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0 || ioctl(master, TIOCSWINSZ, size) != 0 ||
      (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
    int e = errno;
    close(master);
    errno = e;
    return -1;
  }
  fds[0] = fds[1] = fds[2] = slave;
  return master;
}

/* The "pid" line with the pty's master attached. */
static int send_pid_with(int conn, pid_t pid, int master) {
  char line[32];
  int n = snprintf(line, sizeof line, EXEC_REPLY_PID " %d\n", (int)pid);
  struct iovec iov = {line, (size_t)n};
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof master);
  ssize_t sent;
  while ((sent = sendmsg(conn, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
  return sent == n ? 0 : -1;
}

static void handle(int conn, const sigset_t *child_mask) {
  struct timeval timeout = {REQUEST_TIMEOUT_SEC, 0};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  int fds[3] = {-1, -1, -1}, nfds = 0;
  size_t size;
  char *body = receive(conn, &size, fds, &nfds);
  struct request r = {0};
  if (!body || parse(body, size, &r) != 0 || nfds != (r.terminal ? 0 : 3)) {
    dprintf(conn, EXEC_REPLY_REFUSED " the request could not be read\n");
    _exit(1);
  }
  int master = -1;
  if (r.terminal && (master = open_terminal(&r.size, fds)) < 0) {
    dprintf(conn, EXEC_REPLY_REFUSED " cannot open a terminal in the guest: %s\n", strerror(errno));
    _exit(1);
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    dprintf(conn, EXEC_REPLY_REFUSED " pipe: %s\n", strerror(errno));
    _exit(1);
  }
  pid_t pid = fork();
  if (pid < 0) {
    dprintf(conn, EXEC_REPLY_REFUSED " fork: %s\n", strerror(errno));
    _exit(1);
  }
  if (pid == 0) {
    close(report[0]);
    close(conn);
    run_command(&r, fds, report[1], child_mask);
  }
  close(report[1]);
  for (int i = 0; i < (r.terminal ? 1 : 3); i++) close(fds[i]); /* a terminal's three are one */
  char msg[256];
  ssize_t got;
  while ((got = read(report[0], msg, sizeof msg - 1)) < 0 && errno == EINTR) {}
  close(report[0]);
  if (got > 0 && msg[0] == 'R') {
    msg[got] = 0;
    waitpid(pid, NULL, 0);
    dprintf(conn, EXEC_REPLY_REFUSED " %s\n", msg + 1);
    _exit(1);
  }
  if (master >= 0) {
    /* Ours closed: the host reads end of the command's output (EIO) once the command's side of
     * the pty has gone. */
    if (send_pid_with(conn, pid, master) != 0) _exit(1);
    close(master);
  } else {
    dprintf(conn, EXEC_REPLY_PID " %d\n", (int)pid);
  }
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  timeout.tv_sec = 0;
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  int open = 1;
  while (pidfd >= 0) {
    struct pollfd p[2] = {{pidfd, POLLIN, 0}, {conn, POLLIN, 0}};
    if (poll(p, open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents) break;
    if (p[1].revents) pass_signals(conn, pid, &open);
  }
  int ws;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
  dprintf(conn, EXEC_REPLY_EXIT " %d\n", WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
  _exit(0);
}

void guest_exec_accept(const sigset_t *child_mask) {
  if (listen_fd < 0) return;
  for (;;) {
    int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN: none left */
    }
    pid_t pid = fork();
    if (pid == 0) {
      /* Nothing of init's but the connection: its descriptors are set up for init's own events
       * (the initctl FIFO is O_ASYNC with init as its owner), not for a handler's. */
      if (conn > 3) syscall(SYS_close_range, 3, conn - 1, 0);
      syscall(SYS_close_range, conn + 1, ~0U, 0);
      prctl(PR_SET_NAME, "vserver-exec");
      handle(conn, child_mask);
    }
    /* A failed fork (the guest at its process limit, say) drops the connection: nothing ran, and
     * the host falls back to the runtime, whose own error then says what the guest lacks. */
    if (pid < 0) dprintf(conn, EXEC_REPLY_REFUSED " fork: %s\n", strerror(errno));
    close(conn);
  }
}
