/* The thin client: every command of the product (bin/vserver, bin/vps, ...) is this one program
 * under the command's name. It decides nothing and parses nothing of the command: it hands its
 * arguments, environment, working directory, umask and its own standard input, output and error
 * (as descriptors, so terminals, files and pipes work with no relay) to the host service, waits
 * for the exit status and exits with it. When the service cannot serve (absent, not ours to use,
 * or it answers "direct"), the command runs directly: the JavaScript runtime with the command's
 * bundle, the same code the service runs. The wire format is defined once, in
 * src/pure/service-protocol.ts, and reaches this file as the generated protocol.h.
 *
 * Threat model: the client runs with the caller's privileges and trusts only the socket under its
 * own state root, in a directory only root can enter. Only root uses the service: anyone else
 * runs the command directly (chcontext and reducecap serve ordinary users). The first call
 * without a service starts one in the background (unless VSERVER_SERVICE=off) and runs directly. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol.h"

#ifndef BUN_PATH
#error "BUN_PATH must be defined"
#endif
#ifndef DIST_DIR
#error "DIST_DIR must be defined"
#endif

extern char **environ;

static const char *const served[] = SERVED_COMMANDS;

/* The worker's process group, once it said so; signals we get are forwarded to it. */
static volatile sig_atomic_t worker_group;
static volatile sig_atomic_t forwarded_signal;

static const char *command_name(const char *argv0) {
  const char *slash = strrchr(argv0, '/');
  return slash ? slash + 1 : argv0;
}

static int is_served(const char *cmd) {
  for (int i = 0; served[i]; i++)
    if (strcmp(served[i], cmd) == 0) return 1;
  return 0;
}

/* Run the command's bundle ourselves; never returns. */
static _Noreturn void run_directly(const char *cmd, int argc, char **argv) {
  char *script;
  if (asprintf(&script, "%s/%s.js", DIST_DIR, cmd) < 0) _exit(127);
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) _exit(127);
  args[0] = (char *)BUN_PATH;
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execv(BUN_PATH, args);
  dprintf(2, "%s: cannot run %s: %s\n", cmd, BUN_PATH, strerror(errno));
  _exit(127);
}

/* The socket of our state root; 0 when the path does not fit an address. */
static int socket_address(struct sockaddr_un *sa) {
  const char *root = getenv("VSERVER_ROOT");
  size_t n = root ? strlen(root) : 0;
  while (n > 0 && root[n - 1] == '/') n--;
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  int len = snprintf(sa->sun_path, sizeof sa->sun_path, "%.*s/%s", (int)n, n ? root : "", SOCKET_REL);
  return len > 0 && (size_t)len < sizeof sa->sun_path;
}

/* The run directory that holds the service's directory exists: some command has used this state
 * root already. A mistyped command on a host without an installation makes nothing. */
static int installation_in_use(const char *socket_path) {
  char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
  snprintf(dir, sizeof dir, "%s", socket_path);
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(dir, '/');
    if (!slash) return 0;
    *slash = 0;
  }
  struct stat st;
  return dir[0] && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Start the service in the background, detached from us and our terminal. */
static void start_service(void) {
  pid_t child = fork();
  if (child < 0) return;
  if (child > 0) {
    waitpid(child, NULL, 0);
    return;
  }
  if (setsid() < 0 || fork() != 0) _exit(0);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) _exit(0);
  for (int fd = 0; fd < 3; fd++) dup2(null, fd);
  /* Nothing of our caller's may stay open in a long-lived service: a pipe it holds would keep
   * whoever reads the other end (a test runner, CI, `$(...)`) waiting until the service ends. */
  if (syscall(SYS_close_range, 3, ~0U, 0) < 0)
    for (int fd = 3; fd < 65536; fd++) close(fd);
  if (chdir("/") < 0) _exit(0);
  char *script;
  if (asprintf(&script, "%s/vserverd.js", DIST_DIR) < 0) _exit(0);
  execl(BUN_PATH, BUN_PATH, script, (char *)NULL);
  _exit(0);
}

/* A growing buffer of NUL-terminated fields, the request's body. */
struct body {
  char *data;
  size_t len, cap;
  int failed;
};

static void put(struct body *b, const char *s) {
  size_t n = strlen(s) + 1;
  if (b->failed) return;
  if (b->len + n > MAX_REQUEST_BYTES) {
    b->failed = 1;
    return;
  }
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
      b->failed = 1;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

static void put_number(struct body *b, unsigned long v, int octal) {
  char s[32];
  snprintf(s, sizeof s, octal ? "%lo" : "%lu", v);
  put(b, s);
}

/* The request (pure/service-protocol.ts), sent with our fds 0, 1, 2. Returns 0 on failure. */
static int send_request(int sock, const char *cmd, int argc, char **argv) {
  struct body b = {0};
  char *cwd = getcwd(NULL, 0);
  if (!cwd) return 0;
  mode_t mask = umask(0);
  umask(mask);
  put(&b, REQUEST_MAGIC);
  put(&b, cmd);
  put(&b, cwd);
  put_number(&b, mask, 1);
  put_number(&b, (unsigned long)(argc - 1), 0);
  for (int i = 1; i < argc; i++) put(&b, argv[i]);
  size_t envc = 0;
  for (char **e = environ; *e; e++) envc++;
  put_number(&b, envc, 0);
  for (char **e = environ; *e; e++) put(&b, *e);
  free(cwd);
  if (b.failed) {
    free(b.data);
    return 0;
  }
  uint32_t len = (uint32_t)b.len;
  unsigned char head[4] = {len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, (len >> 24) & 0xff};
  struct iovec iov[2] = {{head, sizeof head}, {b.data, b.len}};
  int fds[3] = {0, 1, 2};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof fds)];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  size_t total = sizeof head + b.len;
  ssize_t sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
  /* The descriptors went with the first bytes; the rest, if any, follows as plain data. */
  size_t done = sent > 0 ? (size_t)sent : 0;
  while (sent >= 0 && done < total) {
    const char *from = done < sizeof head ? (const char *)head + done : b.data + (done - sizeof head);
    size_t n = done < sizeof head ? sizeof head - done : total - done;
    sent = send(sock, from, n, MSG_NOSIGNAL);
    if (sent > 0) done += (size_t)sent;
    else if (sent < 0 && errno == EINTR) sent = 0;
  }
  free(b.data);
  return done == total;
}

/* A signal the terminal made (^C, ^\, a resize: si_code SI_KERNEL) goes to the command's whole
 * process group, as the terminal would have sent it to a directly run command and its children;
 * one sent to us with kill(2) goes to the command's process alone, as it would have. */
static volatile sig_atomic_t forwarded_to_group;

static void forward(int sig, siginfo_t *info, void *ctx) {
  (void)ctx;
  forwarded_signal = sig;
  forwarded_to_group = info->si_code == SI_KERNEL;
  if (worker_group > 0) kill(forwarded_to_group ? -(pid_t)worker_group : (pid_t)worker_group, sig);
}

static void forward_signals(void) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2, SIGCONT};
  struct sigaction sa = {0};
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO;
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);
}

/* Read the worker's lines until the exit status. Returns the status, -1 for "direct", -2 when the
 * connection ended without one. */
static int await_status(int sock) {
  char line[64];
  size_t len = 0;
  for (;;) {
    char ch;
    ssize_t n = read(sock, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -2;
    if (ch != '\n') {
      if (len + 1 < sizeof line) line[len++] = ch;
      continue;
    }
    line[len] = 0;
    len = 0;
    if (strcmp(line, REPLY_DIRECT) == 0) return -1;
    if (strncmp(line, REPLY_PID, strlen(REPLY_PID)) == 0) {
      worker_group = atoi(line + strlen(REPLY_PID));
      if (forwarded_signal && worker_group > 0) kill(forwarded_to_group ? -(pid_t)worker_group : (pid_t)worker_group, forwarded_signal);
    } else if (strncmp(line, REPLY_EXIT, strlen(REPLY_EXIT)) == 0) {
      return atoi(line + strlen(REPLY_EXIT)) & 0xff;
    }
  }
}

static int fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

int main(int argc, char **argv) {
  const char *cmd = command_name(argv[0]);
  const char *mode = getenv(SERVICE_ENV);
  int off = mode && strcmp(mode, "off") == 0;
  if (off || !is_served(cmd) || geteuid() != 0 || !fd_open(0) || !fd_open(1) || !fd_open(2)) run_directly(cmd, argc, argv);

  struct sockaddr_un sa;
  if (!socket_address(&sa)) run_directly(cmd, argc, argv);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) run_directly(cmd, argc, argv);
  if (connect(sock, (struct sockaddr *)&sa, sizeof sa) < 0) {
    if ((errno == ENOENT || errno == ECONNREFUSED) && installation_in_use(sa.sun_path)) start_service();
    run_directly(cmd, argc, argv);
  }
  forward_signals();
  if (!send_request(sock, cmd, argc, argv)) run_directly(cmd, argc, argv);
  int status = await_status(sock);
  if (status == -1) run_directly(cmd, argc, argv);
  if (status == -2) {
    if (worker_group == 0) run_directly(cmd, argc, argv); /* nothing ran yet */
    if (forwarded_signal) {
      signal(forwarded_signal, SIG_DFL);
      raise(forwarded_signal);
    }
    dprintf(2, "%s: the host service's worker died before it reported the command's exit status; the command may not have finished, and the next command recovers what it left.\n", cmd);
    return 125;
  }
  return status;
}
