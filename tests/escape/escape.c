/*
 * Escape attempts, run as root inside a guest. Each attack runs in its own child (it may chroot,
 * setns or unshare, and must not disturb the next one) and prints one line:
 *     NAME blocked|escaped detail
 * "escaped" means the attack got past every defence it met; the suite expects "blocked" for every
 * line in a default guest and "escaped" for the ones a weakened guest exposes (so no check passes
 * vacuously). Attacks that change host state only ever write back the value they read.
 *
 * Device nodes are made in /dev: the guest's /tmp is mounted nodev, a layer an attacker would avoid.
 *
 * Inputs (environment):
 *   ESC_MARKER      host path of a file that exists only on the host (proof of reaching the host)
 *   ESC_HOST_PATHS  colon-separated host paths (runtime state, /etc/vservers) that must stay unreachable
 *   ESC_TARGET      argv[0] of a host process to find, signal and ptrace (default vserver-escape-target)
 *   ESC_PIDS        how many processes the pids attack tries to hold (default 5000)
 *   ESC_MEM_MB      how much memory the balloon touches (default 512)
 *   ESC_TMP         scratch directory (default /tmp)
 *   ESC_INJECT      text the tiocsti mode tries to type (a newline follows it)
 *   ESC_LOOPBACK_PORT  a port on which a host service listens on 127.0.0.1 only (and answers)
 *   ESC_ABSTRACT    the name of a host abstract unix stream socket; NAME-dgram is a datagram one
 *
 * Usage: escape [all | NAME...] | fds | tiocsti | watch SECONDS
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *tmpdir(void) { const char *t = getenv("ESC_TMP"); return t && *t ? t : "/tmp"; }
static const char *envor(const char *k, const char *d) { const char *v = getenv(k); return v && *v ? v : d; }

static void report(const char *name, int escaped, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  for (char *p = buf; *p; p++) if (*p == '\n') *p = ' ';
  printf("%s %s %s\n", name, escaped ? "escaped" : "blocked", buf);
  fflush(stdout);
}
#define BLOCKED(...) do { report(NAME, 0, __VA_ARGS__); return; } while (0)
#define ESCAPED(...) do { report(NAME, 1, __VA_ARGS__); return; } while (0)

static int read_file(const char *path, char *buf, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t r = read(fd, buf, n - 1);
  int e = errno;
  close(fd);
  if (r < 0) { errno = e; return -1; }
  buf[r] = 0;
  return (int)r;
}

/*
 * What an attacker with privileges would do to a shielded path: peel masks off (umount) and
 * make read-only mounts writable (remount), on the path and its parents. Fails quietly without
 * CAP_SYS_ADMIN or under seccomp, which is the point.
 */
static void unshield(const char *path) {
  for (int i = 0; i < 3; i++) if (umount2(path, MNT_DETACH) != 0) break;
  char p[512];
  snprintf(p, sizeof p, "%s", path);
  for (;;) {
    mount(NULL, p, NULL, MS_REMOUNT | MS_BIND, NULL);
    char *s = strrchr(p, '/');
    if (!s || s == p) break;
    *s = 0;
  }
}

/* A host process to aim at: found through any procfs mounted in our view. */
struct target { char proc[256]; int pid; };
static int find_target(struct target *t) {
  const char *want = envor("ESC_TARGET", "vserver-escape-target");
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) return 0;
  char line[2048];
  while (fgets(line, sizeof line, f)) {
    char mnt[256], *sep = strstr(line, " - ");
    if (!sep || strncmp(sep + 3, "proc ", 5) != 0) continue;
    if (sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1) continue;
    DIR *d = opendir(mnt);
    if (!d) continue;
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      char p[600], cmd[256];
      snprintf(p, sizeof p, "%s/%s/cmdline", mnt, e->d_name);
      if (read_file(p, cmd, sizeof cmd) > 0 && strcmp(cmd, want) == 0) {
        snprintf(t->proc, sizeof t->proc, "%s", mnt);
        t->pid = atoi(e->d_name);
        closedir(d);
        fclose(f);
        return 1;
      }
    }
    closedir(d);
  }
  fclose(f);
  return 0;
}

static int marker_visible(void) {
  const char *m = getenv("ESC_MARKER");
  struct stat st;
  return m && stat(m, &st) == 0;
}

static int join_target_ns(const struct target *t, const char *ns, int type) {
  char p[400];
  snprintf(p, sizeof p, "%s/%d/ns/%s", t->proc, t->pid, ns);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = setns(fd, type);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

/* ---- devices ---- */

static void mknod_blockdev(void) {
  const char *NAME = "mknod_blockdev";
  char buf[4096], dev[64] = "";
  unsigned maj = 0, min = 0;
  if (read_file("/proc/partitions", buf, sizeof buf) > 0) {
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
      unsigned a, b; unsigned long long blocks; char n[64];
      if (sscanf(l, "%u %u %llu %63s", &a, &b, &blocks, n) == 4 && strncmp(n, "loop", 4) && strncmp(n, "ram", 3)) { maj = a; min = b; snprintf(dev, sizeof dev, "%s", n); break; }
    }
  }
  if (!dev[0]) BLOCKED("no block device listed in /proc/partitions");
  char p[300];
  snprintf(p, sizeof p, "/dev/.esc-blk");
  unlink(p);
  if (mknod(p, S_IFBLK | 0600, makedev(maj, min)) != 0) BLOCKED("mknod %s (%u:%u): %m", dev, maj, min);
  int fd = open(p, O_RDONLY);
  int e = errno;
  unlink(p);
  if (fd < 0) { errno = e; BLOCKED("mknod worked, open %s: %m", dev); }
  ssize_t r = read(fd, buf, 512);
  close(fd);
  if (r > 0) ESCAPED("read %zd bytes of the host disk %s", r, dev);
  BLOCKED("opened %s but read failed: %m", dev);
}

static void mknod_kmsg(void) {
  const char *NAME = "mknod_kmsg";
  char p[300], buf[1024];
  snprintf(p, sizeof p, "/dev/.esc-kmsg");
  unlink(p);
  if (mknod(p, S_IFCHR | 0600, makedev(1, 11)) != 0) BLOCKED("mknod /dev/kmsg (1:11): %m");
  int fd = open(p, O_RDONLY | O_NONBLOCK);
  int e = errno;
  unlink(p);
  if (fd < 0) { errno = e; BLOCKED("mknod worked, open: %m"); }
  ssize_t r = read(fd, buf, sizeof buf);
  close(fd);
  if (r > 0 || errno == EAGAIN) ESCAPED("read the host kernel log through a new /dev/kmsg");
  BLOCKED("read: %m");
}

/* ---- mounts ---- */

static void try_mount(const char *NAME, const char *type) {
  char p[300];
  snprintf(p, sizeof p, "%s/.esc-mnt-%s", tmpdir(), type);
  mkdir(p, 0700);
  if (mount(type, p, type, 0, NULL) != 0) { int e = errno; rmdir(p); errno = e; BLOCKED("mount -t %s: %m", type); }
  umount2(p, MNT_DETACH);
  rmdir(p);
  ESCAPED("mounted a new %s", type);
}
static void mount_proc(void) { try_mount("mount_proc", "proc"); }
static void mount_sysfs(void) { try_mount("mount_sysfs", "sysfs"); }
static void mount_tmpfs(void) { try_mount("mount_tmpfs", "tmpfs"); }

static void try_remount(const char *NAME, const char *path) {
  if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND, NULL) != 0) BLOCKED("remount %s read-write: %m", path);
  if (access(path, W_OK) == 0 || errno != EROFS) ESCAPED("remounted %s read-write", path);
  BLOCKED("remount returned 0 but %s is still read-only", path);
}
static void remount_proc_sys(void) { try_remount("remount_proc_sys", "/proc/sys"); }
static void remount_sys(void) { try_remount("remount_sys", "/sys"); }

/* ---- host knobs ---- */

static int open_knob(const char *path, int flags) {
  int fd = open(path, flags | O_CLOEXEC);
  if (fd >= 0 || errno == ENOENT) return fd;
  unshield(path);
  return open(path, flags | O_CLOEXEC);
}

static void write_core_pattern(void) {
  const char *NAME = "write_core_pattern";
  char cur[512];
  if (read_file("/proc/sys/kernel/core_pattern", cur, sizeof cur) < 0) BLOCKED("read: %m");
  int fd = open_knob("/proc/sys/kernel/core_pattern", O_WRONLY);
  if (fd < 0) BLOCKED("open for writing: %m");
  ssize_t r = write(fd, cur, strlen(cur));
  close(fd);
  if (r < 0) BLOCKED("write: %m");
  ESCAPED("rewrote the host's kernel.core_pattern (with its own value)");
}

static void write_sysrq(void) {
  const char *NAME = "write_sysrq_trigger";
  int fd = open_knob("/proc/sysrq-trigger", O_WRONLY);
  if (fd < 0 && errno == ENOENT) BLOCKED("absent: this kernel has no magic SysRq");
  if (fd < 0) BLOCKED("open for writing: %m");
  close(fd);
  ESCAPED("/proc/sysrq-trigger open for writing (nothing written)");
}

static void write_proc_knob(void) {
  const char *NAME = "write_proc_sys_knob";
  int fd = open_knob("/proc/sys/vm/drop_caches", O_WRONLY);
  if (fd < 0) BLOCKED("/proc/sys/vm/drop_caches: %m");
  close(fd);
  ESCAPED("/proc/sys/vm/drop_caches open for writing (nothing written)");
}

static void write_sysfs_knob(void) {
  const char *NAME = "write_sysfs_knob";
  const char *c[] = {"/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/mm/ksm/run", "/sys/power/state", "/sys/kernel/profiling", NULL};
  for (int i = 0; c[i]; i++) {
    struct stat st;
    if (stat(c[i], &st) != 0) continue;
    int fd = open_knob(c[i], O_WRONLY);
    if (fd < 0) BLOCKED("%s: %m", c[i]);
    close(fd);
    ESCAPED("%s open for writing (nothing written)", c[i]);
  }
  BLOCKED("no host sysfs knob visible");
}

/* ---- kernel memory and log ---- */

static void read_kcore(void) {
  const char *NAME = "read_kcore";
  char b[8] = {0};
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t r = read(fd, b, 4);
      close(fd);
      if (r == 4 && memcmp(b, "\177ELF", 4) == 0) ESCAPED("read the ELF header of kernel memory");
    } else if (errno == ENOENT) BLOCKED("absent: this kernel has no /proc/kcore");
    else if (attempt == 1) BLOCKED("open: %m");
    if (attempt == 0) unshield("/proc/kcore");
  }
  BLOCKED("masked: reads return nothing");
}

static void read_proc_kmsg(void) {
  const char *NAME = "read_proc_kmsg";
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open("/proc/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st;
      fstat(fd, &st);
      close(fd);
      /* Not read: reading /proc/kmsg consumes the host's log. Opening it already needs CAP_SYSLOG. */
      if (S_ISREG(st.st_mode)) ESCAPED("opened the host's /proc/kmsg");
    } else if (attempt == 1) BLOCKED("open: %m");
    if (attempt == 0) unshield("/proc/kmsg");
  }
  BLOCKED("masked with /dev/null");
}

static void read_dmesg(void) {
  const char *NAME = "read_dmesg";
  static char buf[8192];
  int r = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof buf);
  if (r < 0) BLOCKED("syslog(READ_ALL): %m");
  ESCAPED("read %d bytes of the kernel log", r);
}

static void read_timer_list(void) {
  const char *NAME = "read_timer_list";
  char buf[256];
  for (int attempt = 0; attempt < 2; attempt++) {
    int r = read_file("/proc/timer_list", buf, sizeof buf);
    if (r > 0) ESCAPED("read the host's /proc/timer_list");
    if (r < 0 && errno == ENOENT) BLOCKED("/proc/timer_list absent");
    if (attempt == 0) unshield("/proc/timer_list");
  }
  BLOCKED("masked: reads return nothing");
}

/* ---- host identity, power, time, modules ---- */

static void sethostname_host(void) {
  const char *NAME = "sethostname_host";
  struct target t;
  int joined = find_target(&t) && join_target_ns(&t, "uts", CLONE_NEWUTS) == 0;
  char name[256];
  gethostname(name, sizeof name);
  /* The current name again: proves the right without changing anything. */
  if (sethostname(name, strlen(name)) != 0) BLOCKED("sethostname: %m");
  if (joined) ESCAPED("set the host's hostname (to its own value) after joining its UTS namespace");
  BLOCKED("sethostname changes only the guest's own UTS namespace (no handle on the host's)");
}

static void reboot_host(void) {
  const char *NAME = "reboot_host";
  char v[16] = "1";
  read_file("/proc/sys/kernel/ctrl-alt-del", v, sizeof v);
  /* CAD_ON/CAD_OFF with the current setting: reaches reboot()'s host path without rebooting. */
  unsigned cmd = atoi(v) ? LINUX_REBOOT_CMD_CAD_ON : LINUX_REBOOT_CMD_CAD_OFF;
  if (syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmd, NULL) == 0) ESCAPED("reboot() reached the host (set Ctrl-Alt-Del to its current value)");
  if (errno == EINVAL) BLOCKED("reboot(): EINVAL, the PID namespace confines it to the guest");
  BLOCKED("reboot(): %m");
}

static void set_clock(void) {
  const char *NAME = "set_clock";
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (clock_settime(CLOCK_REALTIME, &ts) != 0) BLOCKED("clock_settime: %m");
  ESCAPED("set the host's clock (to the time just read)");
}

static void load_module(void) {
  const char *NAME = "load_module";
  static char image[64];
  if (syscall(SYS_init_module, image, sizeof image, "") == 0) ESCAPED("init_module accepted an image");
  if (errno == EPERM) BLOCKED("init_module: %m");
  ESCAPED("init_module got past every permission check to the kernel's loader (%m)");
}

/* ---- host processes ---- */

static void see_host_procs(void) {
  const char *NAME = "see_host_procs";
  struct target t;
  if (find_target(&t)) ESCAPED("host process %s visible at %s/%d", envor("ESC_TARGET", "vserver-escape-target"), t.proc, t.pid);
  int n = 0;
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d))) if (e->d_name[0] >= '0' && e->d_name[0] <= '9') n++;
  if (d) closedir(d);
  BLOCKED("the host's process is not visible (%d processes seen, the guest's own)", n);
}

static void signal_host_proc(void) {
  const char *NAME = "signal_host_proc";
  struct target t;
  if (!find_target(&t)) BLOCKED("no host process visible to signal");
  char p[400];
  snprintf(p, sizeof p, "%s/%d", t.proc, t.pid);
  int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) BLOCKED("open %s: %m", p);
  long r = syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0);
  close(fd);
  if (r == 0) ESCAPED("signalled host process %d", t.pid);
  BLOCKED("pidfd_send_signal on %s: %m (outside the guest's PID namespace)", p);
}

/* The guest init's exec socket (fd 4): holding it, guest root could answer the host's `exec`
 * requests in place of the init and get the descriptors the host hands in. The init is not
 * dumpable, so pidfd_getfd (and ptrace) of it needs CAP_SYS_PTRACE. */
static void init_exec_socket(void) {
  const char *NAME = "init_exec_socket";
  int pfd = syscall(SYS_pidfd_open, 1, 0);
  if (pfd < 0) BLOCKED("pidfd_open 1: %m");
  int fd = syscall(SYS_pidfd_getfd, pfd, 4, 0);
  if (fd >= 0) ESCAPED("took fd 4 of the guest's init with pidfd_getfd");
  /* EBADF comes after the permission check: the init was open to us, it only lacks fd 4. */
  if (errno == EBADF) ESCAPED("pidfd_getfd on the guest's init was allowed (it has no fd 4)");
  if (ptrace(PTRACE_SEIZE, 1, 0, 0) == 0) { ptrace(PTRACE_DETACH, 1, 0, 0); ESCAPED("seized the guest's init with ptrace"); }
  BLOCKED("pidfd_getfd of the init's fd 4 and PTRACE_SEIZE of the init: %m");
}

static void ptrace_host_proc(void) {
  const char *NAME = "ptrace_host_proc";
  struct target t;
  if (!find_target(&t)) BLOCKED("no host process visible to trace");
  /* ptrace takes a PID of our own namespace: the number is only usable if it names the same process here. */
  char p[400], cmd[256];
  snprintf(p, sizeof p, "/proc/%d/cmdline", t.pid);
  if (read_file(p, cmd, sizeof cmd) <= 0 || strcmp(cmd, envor("ESC_TARGET", "vserver-escape-target")) != 0)
    BLOCKED("host PID %d does not exist in the guest's PID namespace", t.pid);
  if (ptrace(PTRACE_SEIZE, t.pid, 0, 0) != 0) BLOCKED("PTRACE_SEIZE %d: %m", t.pid);
  ptrace(PTRACE_DETACH, t.pid, 0, 0);
  ESCAPED("seized host process %d with ptrace", t.pid);
}

/* ---- file system escapes ---- */

static void chroot_classic(void) {
  const char *NAME = "chroot_classic";
  char p[300];
  snprintf(p, sizeof p, "%s/.esc-chroot", tmpdir());
  mkdir(p, 0700);
  int top = open("/", O_RDONLY | O_DIRECTORY);
  if (chroot(p) != 0) { rmdir(p); BLOCKED("chroot: %m"); }
  /* Our cwd is now outside the new root: walk up from it and make the top our root. */
  fchdir(top);
  unlinkat(top, p + 1, AT_REMOVEDIR);
  for (int i = 0; i < 256; i++) if (chdir("..") != 0) break;
  chroot(".");
  if (marker_visible()) ESCAPED("reached the host's / (host marker visible)");
  BLOCKED("walked up to the guest's own / (pivot_root, no host above it)");
}

static void proc_root_escape(void) {
  const char *NAME = "proc_root_escape";
  struct target t;
  if (!find_target(&t)) BLOCKED("no host process visible whose /proc/PID/root could be followed");
  char p[400];
  snprintf(p, sizeof p, "%s/%d/root", t.proc, t.pid);
  if (chroot(p) != 0) BLOCKED("chroot %s: %m", p);
  chdir("/");
  if (marker_visible()) ESCAPED("chroot through %s reached the host's /", p);
  BLOCKED("followed %s but the host marker is not there", p);
}

struct handle8 { unsigned int handle_bytes; int handle_type; uint32_t ino, gen; };

static void open_by_handle(void) {
  const char *NAME = "open_by_handle_at";
  const char *m = getenv("ESC_MARKER");
  int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  /* "Shocker": the file system's root inode (2 on ext4, generation 0) by handle, from any fd on it. */
  struct handle8 h = {8, 1 /* FILEID_INO32_GEN */, 2, 0};
  int fd = syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY | O_DIRECTORY);
  if (fd < 0) BLOCKED("open_by_handle_at: %m");
  struct stat st;
  if (m && fstatat(fd, m + 1, &st, 0) == 0) ESCAPED("opened the file system's root by handle and found host file %s", m);
  ESCAPED("opened the file system's root inode by handle (outside the guest root)");
}

static void state_visible(void) {
  const char *NAME = "state_visible";
  char paths[4096];
  snprintf(paths, sizeof paths, "%s", envor("ESC_HOST_PATHS", ""));
  struct target t;
  int have = find_target(&t);
  for (char *s = strtok(paths, ":"); s; s = strtok(NULL, ":")) {
    struct stat st;
    if (stat(s, &st) == 0) ESCAPED("host path %s visible", s);
    if (have) {
      char p[1200];
      snprintf(p, sizeof p, "%s/%d/root%s", t.proc, t.pid, s);
      if (stat(p, &st) == 0) ESCAPED("host path %s visible as %s", s, p);
    }
  }
  BLOCKED("none of the host's runtime state or config paths is reachable");
}

/* ---- namespaces ---- */

static void userns_unshare(void) {
  const char *NAME = "userns_unshare";
  if (unshare(CLONE_NEWUSER) != 0) BLOCKED("unshare(CLONE_NEWUSER): %m");
  if (unshare(CLONE_NEWNS) != 0) ESCAPED("new user namespace (full capability set inside it), but unshare(NEWNS): %m");
  if (mount("tmpfs", "/tmp", "tmpfs", 0, NULL) != 0) ESCAPED("new user and mount namespaces; mount: %m");
  ESCAPED("regained CAP_SYS_ADMIN in a new user namespace and mounted a tmpfs");
}

static void userns_clone(void) {
  const char *NAME = "userns_clone";
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) BLOCKED("clone(CLONE_NEWUSER): %m");
  if (pid == 0) _exit(0);
  waitpid(pid, NULL, 0);
  ESCAPED("clone(CLONE_NEWUSER) made a child in a new user namespace");
}

static void userns_clone3(void) {
  const char *NAME = "userns_clone3";
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = CLONE_NEWUSER;
  a.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &a, sizeof a);
  if (pid < 0) BLOCKED("clone3(CLONE_NEWUSER): %m");
  if (pid == 0) _exit(0);
  waitpid(pid, NULL, 0);
  ESCAPED("clone3(CLONE_NEWUSER) made a child in a new user namespace");
}

static void setns_host(void) {
  const char *NAME = "setns_host";
  struct target t;
  if (!find_target(&t)) {
    /* Our own init's namespaces are the only handles in view; joining them must at least be refused or change nothing. */
    int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
    int r = fd >= 0 ? setns(fd, CLONE_NEWNS) : -1;
    if (r != 0) BLOCKED("no handle on a host namespace; setns(own init's mnt): %m");
    if (marker_visible()) ESCAPED("the guest's own mount namespace shows the host marker");
    BLOCKED("no handle on a host namespace (only the guest's own)");
  }
  if (join_target_ns(&t, "mnt", CLONE_NEWNS) != 0) BLOCKED("setns into the host's mount namespace: %m");
  if (marker_visible()) ESCAPED("joined the host's mount namespace (host marker visible)");
  BLOCKED("setns worked but the host marker is not visible");
}

/* ---- kernel surface ---- */

static void keyring(void) {
  const char *NAME = "keyring";
  long k = syscall(SYS_add_key, "user", "vserver-escape", "x", 1, -2 /* KEY_SPEC_PROCESS_KEYRING */);
  if (k < 0) BLOCKED("add_key: %m");
  ESCAPED("added a key to the kernel keyring (id %ld)", k);
}

static void bpf_map(void) {
  const char *NAME = "bpf";
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_ARRAY;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = 1;
  long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
  if (fd < 0) BLOCKED("bpf(BPF_MAP_CREATE): %m");
  close(fd);
  ESCAPED("created a BPF map");
}

static void perf_event(void) {
  const char *NAME = "perf_event_open";
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.type = PERF_TYPE_SOFTWARE;
  a.size = sizeof a;
  a.config = PERF_COUNT_SW_CPU_CLOCK;
  a.disabled = 1;
  /* System-wide on CPU 0: counts the host's work, not only ours. */
  long fd = syscall(SYS_perf_event_open, &a, -1, 0, -1, 0);
  if (fd < 0) BLOCKED("perf_event_open(system-wide): %m");
  close(fd);
  ESCAPED("opened a system-wide perf event");
}

static int release_agent_writable(const char *dir, char *how, size_t n) {
  char p[600], cur[4096];
  snprintf(p, sizeof p, "%s/release_agent", dir);
  int fd = open(p, O_RDWR | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t r = read(fd, cur, sizeof cur - 1);
  cur[r > 0 ? r : 0] = 0;
  if (!strchr(cur, '\n')) strcat(cur, "\n");
  ssize_t w = pwrite(fd, cur, strlen(cur), 0);
  int e = errno;
  close(fd);
  snprintf(how, n, "%s: %s", p, w >= 0 ? "rewrote it (with its own value)" : strerror(e));
  return w >= 0;
}

static void cgroup_release_agent(void) {
  const char *NAME = "cgroup_release_agent";
  char how[800] = "";
  /* Every cgroup v1 mount in view, peeled of whatever covers it. */
  FILE *f = fopen("/proc/self/mountinfo", "r");
  char line[2048], mnts[32][256];
  int nm = 0;
  while (f && fgets(line, sizeof line, f) && nm < 32) {
    char *sep = strstr(line, " - ");
    if (sep && strncmp(sep + 3, "cgroup ", 7) == 0 && sscanf(line, "%*s %*s %*s %*s %255s", mnts[nm]) == 1) nm++;
  }
  if (f) fclose(f);
  for (int i = 0; i < nm; i++) {
    if (release_agent_writable(mnts[i], how, sizeof how)) ESCAPED("%s", how);
    unshield(mnts[i]);
    if (release_agent_writable(mnts[i], how, sizeof how)) ESCAPED("after unmounting what covered it: %s", how);
  }
  /* A fresh v1 mount, from the host's cgroup namespace if we can reach it. */
  struct target t;
  int joined = find_target(&t) && join_target_ns(&t, "cgroup", CLONE_NEWCGROUP) == 0;
  char p[300];
  snprintf(p, sizeof p, "%s/.esc-cg", tmpdir());
  mkdir(p, 0700);
  if (mount("cgroup", p, "cgroup", 0, "pids") != 0) { int e = errno; rmdir(p); errno = e; BLOCKED("%s%smount -t cgroup: %m", how, *how ? "; " : ""); }
  int ok = release_agent_writable(p, how, sizeof how);
  umount2(p, MNT_DETACH);
  rmdir(p);
  if (ok) ESCAPED("%s (mounted a cgroup v1 hierarchy%s)", how, joined ? " from the host's cgroup namespace" : "");
  BLOCKED("mounted cgroup v1, but its root is the guest's own cgroup: no release_agent%s", *how ? how : "");
}

/* ---- the host binaries the guest could reach (CVE-2019-5736 style) ---- */

static void reaper_write(void) {
  const char *NAME = "reaper_write";
  const char *c[] = {"/proc/1/exe", "/dev/.vserver-init", NULL};
  char detail[600] = "";
  for (int i = 0; c[i]; i++) {
    int fd = open(c[i], O_WRONLY | O_CLOEXEC);
    if (fd >= 0) { close(fd); ESCAPED("%s open for writing (nothing written)", c[i]); }
    size_t l = strlen(detail);
    snprintf(detail + l, sizeof detail - l, "%s%s: %s", l ? "; " : "", c[i], strerror(errno));
  }
  /* ETXTBSY lasts only while PID 1 runs it: what must hold is the read-only mount of the host's binary. */
  if (mount(NULL, "/dev/.vserver-init", NULL, MS_REMOUNT | MS_BIND, NULL) == 0)
    ESCAPED("remounted the host's reaper binary read-write (%s)", detail);
  BLOCKED("%s; remount read-write: %m", detail);
}

/* ---- limits ---- */

static void pids_limit(void) {
  const char *NAME = "pids_limit";
  int want = atoi(envor("ESC_PIDS", "5000")), n = 0, err = 0;
  pid_t *kids = calloc(want, sizeof *kids);
  for (; n < want; n++) {
    pid_t p = fork();
    if (p < 0) { err = errno; break; }
    if (p == 0) { pause(); _exit(0); }
    kids[n] = p;
  }
  for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
  for (int i = 0; i < n; i++) waitpid(kids[i], NULL, 0);
  if (n >= want) ESCAPED("held %d processes", n);
  BLOCKED("fork failed after %d processes: %s", n, strerror(err));
}

static void memory_limit(void) {
  const char *NAME = "memory_limit";
  int mb = atoi(envor("ESC_MEM_MB", "512"));
  /* Under a saturated pids limit fork() fails with EAGAIN: retry, and never take a failed fork or
   * wait for a result either way (that made a balloon look like it escaped). */
  pid_t p;
  for (int tries = 0; (p = fork()) < 0 && errno == EAGAIN && tries < 500; tries++) usleep(10000);
  if (p < 0) { printf("%s error fork: %s\n", NAME, strerror(errno)); fflush(stdout); return; }
  if (p == 0) {
    for (int i = 0; i < mb; i++) {
      char *b = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (b == MAP_FAILED) _exit(2);
      memset(b, i | 1, 1 << 20);
    }
    _exit(0);
  }
  int st = 0;
  if (waitpid(p, &st, 0) != p) { printf("%s error waitpid: %s\n", NAME, strerror(errno)); fflush(stdout); return; }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ESCAPED("touched %d MB", mb);
  if (WIFSIGNALED(st)) BLOCKED("the balloon was killed by signal %d before reaching %d MB", WTERMSIG(st), mb);
  BLOCKED("allocation failed before %d MB", mb);
}

/* ---- modes for the terminal and entering tests ---- */

static int fd_leak(void) {
  const char *NAME = "fd_leak";
  DIR *d = opendir("/proc/self/fd");
  int self = dirfd(d), leaks = 0;
  char out[2048] = "";
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == self) continue;
    char p[64], l[512] = "";
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t r = readlink(p, l, sizeof l - 1);
    if (r > 0) l[r] = 0;
    /* Beyond stdio anything is a leak; stdio may be pipes, sockets, a pty or /dev/null, never a host file. */
    int harmless = fd <= 2 && (!strncmp(l, "pipe:", 5) || !strncmp(l, "socket:", 7) || !strncmp(l, "/dev/pts/", 9) || !strcmp(l, "/dev/null") || !strcmp(l, "/dev/console"));
    if (!harmless) leaks++;
    size_t n = strlen(out);
    snprintf(out + n, sizeof out - n, "%s%d->%s", n ? ", " : "", fd, l);
  }
  closedir(d);
  char cwd[512] = "";
  ssize_t r = readlink("/proc/self/cwd", cwd, sizeof cwd - 1);
  if (r > 0) cwd[r] = 0;
  report(NAME, leaks > 0, "cwd %s; fds %s", cwd, out);
  return 0;
}

static int tiocsti(void) {
  const char *NAME = "tiocsti";
  const char *text = envor("ESC_INJECT", "echo INJECTED");
  const char *names[] = {"stdin", "stdout", "stderr", "/dev/tty"};
  char out[1024] = "";
  int any = 0;
  for (int i = 0; i < 4; i++) {
    int fd = i < 3 ? i : open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) { size_t n = strlen(out); snprintf(out + n, sizeof out - n, "%s: %m; ", names[i]); continue; }
    int ok = 1;
    for (const char *c = text; *c && ok; c++) if (ioctl(fd, TIOCSTI, c) != 0) ok = 0;
    if (ok && ioctl(fd, TIOCSTI, "\n") != 0) ok = 0;
    size_t n = strlen(out);
    snprintf(out + n, sizeof out - n, "%s: %s; ", names[i], ok ? "typed" : strerror(errno));
    any |= ok;
    if (i == 3) close(fd);
  }
  report(NAME, any, "%s", out);
  return 0;
}

static unsigned long long capeff(int pid) {
  char p[64], buf[4096];
  snprintf(p, sizeof p, "/proc/%d/status", pid);
  if (read_file(p, buf, sizeof buf) < 0) return 0;
  char *c = strstr(buf, "CapEff:");
  return c ? strtoull(c + 7, NULL, 16) : 0;
}

/*
 * Watch for processes that enter the guest (the runtime's exec) and attack each one: ptrace it
 * while it may still hold the host's capabilities, and open its executable for writing, now and
 * after it has gone (CVE-2019-5736 kept an O_PATH fd and reopened it later).
 */
/* The mount a file is on (statx STATX_MNT_ID); 0 when unknown. */
static unsigned long long mount_id(int fd) {
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) != 0 || !(sx.stx_mask & STATX_MNT_ID)) return 0;
  return sx.stx_mnt_id;
}

static int watch(int seconds) {
  char seen[65536] = {0};
  int rootfd = open("/", O_PATH | O_CLOEXEC);
  unsigned long long own_mount = rootfd >= 0 ? mount_id(rootfd) : 0;
  if (rootfd >= 0) close(rootfd);
  DIR *d = opendir("/proc");
  struct dirent *e;
  while ((e = readdir(d))) { int p = atoi(e->d_name); if (p > 0 && p < 65536) seen[p] = 1; }
  closedir(d);
  seen[getpid()] = 1;
  unsigned long long mine = capeff(getpid());
  int newpids = 0, traced = 0, traced_priv = 0, exe_writable = 0, kept = 0;
  int keep[256];
  char exes[512] = "", privs[512] = "";
  time_t end = time(NULL) + seconds;
  while (time(NULL) < end) {
    d = opendir("/proc");
    while ((e = readdir(d))) {
      int p = atoi(e->d_name);
      if (p <= 0 || p >= 65536 || seen[p]) continue;
      seen[p] = 1;
      newpids++;
      char path[64], l[256] = "";
      snprintf(path, sizeof path, "/proc/%d/exe", p);
      ssize_t r = readlink(path, l, sizeof l - 1);
      if (r > 0) { l[r] = 0; if (strlen(exes) + r + 3 < sizeof exes && !strstr(exes, l)) { strcat(exes, l); strcat(exes, " "); } }
      /* A program of the guest's own root (a command the host ran in here, seen before it
       * ended) is the guest's to write: only executables from elsewhere are targets. */
      int k = open(path, O_PATH | O_CLOEXEC);
      if (k >= 0 && own_mount && mount_id(k) == own_mount) { close(k); k = -1; }
      else {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) { exe_writable++; close(fd); }
      }
      if (k >= 0 && kept < 256) keep[kept++] = k;
      else if (k >= 0) close(k);
      if (ptrace(PTRACE_SEIZE, p, 0, 0) == 0) {
        traced++;
        unsigned long long c = capeff(p);
        char st[64], comm[64] = "";
        snprintf(st, sizeof st, "/proc/%d/comm", p);
        read_file(st, comm, sizeof comm);
        comm[strcspn(comm, "\n")] = 0;
        /* The runtime itself holds fds on the host (state, logs) even where its capabilities are no more than ours. */
        if ((c & ~mine) || !strcmp(comm, "crun") || !strcmp(comm, "runc") || !strncmp(comm, "runc:", 5)) {
          traced_priv++;
          size_t n = strlen(privs);
          snprintf(privs + n, sizeof privs - n, "%s%s(CapEff %llx)", n ? ", " : "", comm, c);
        }
        ptrace(PTRACE_DETACH, p, 0, 0);
      }
    }
    closedir(d);
  }
  for (int i = 0; i < kept; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", keep[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) { exe_writable++; close(fd); }
    close(keep[i]);
  }
  printf("watch_seen %d new processes; executables: %s\n", newpids, exes);
  report("entering_ptrace", traced_priv > 0, "%d seized, %d of them the runtime or holding capabilities beyond the guest's %s", traced, traced_priv, privs);
  report("runtime_exe_write", exe_writable > 0, "%d executables of entering processes open for writing (now or after exit)", exe_writable);
  return 0;
}

/* Socket attacks on a guest that shares the host's network stack: the host's local services trust
 * every local process. A connection that got through is "escaped". */
static int connect_to(int fam, const struct sockaddr *sa, socklen_t len, int type, char *err, size_t n) {
  int s = socket(fam, type, 0);
  if (s < 0) { snprintf(err, n, "socket: %s", strerror(errno)); return -1; }
  struct timeval tv = {3, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(s, sa, len) < 0) { snprintf(err, n, "%s", strerror(errno)); close(s); return -1; }
  return s;
}

static void host_loopback(void) {
  const char *NAME = "host_loopback";
  int port = atoi(envor("ESC_LOOPBACK_PORT", "0"));
  if (!port) BLOCKED("no ESC_LOOPBACK_PORT given");
  char e4[128], e6[128], buf[64] = "";
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
  int s = connect_to(AF_INET, (struct sockaddr *)&a4, sizeof a4, SOCK_STREAM, e4, sizeof e4);
  if (s >= 0 && read(s, buf, sizeof buf - 1) > 0) ESCAPED("connected to the host's 127.0.0.1:%d, which said '%s'", port, strtok(buf, "\n"));
  if (s >= 0) { snprintf(e4, sizeof e4, "connected, but not to the host's service"); close(s); }
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
  s = connect_to(AF_INET6, (struct sockaddr *)&a6, sizeof a6, SOCK_STREAM, e6, sizeof e6);
  if (s >= 0 && read(s, buf, sizeof buf - 1) > 0) ESCAPED("connected to the host's [::ffff:127.0.0.1]:%d, which said '%s'", port, strtok(buf, "\n"));
  if (s >= 0) { snprintf(e6, sizeof e6, "connected, but not to the host's service"); close(s); }
  BLOCKED("127.0.0.1:%d: %s; [::ffff:127.0.0.1]:%d: %s", port, e4, port, e6);
}

static void host_abstract(void) {
  const char *NAME = "host_abstract";
  const char *name = getenv("ESC_ABSTRACT");
  if (!name || !*name) BLOCKED("no ESC_ABSTRACT given");
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  size_t n = strlen(name) < sizeof a.sun_path - 8 ? strlen(name) : sizeof a.sun_path - 8;
  memcpy(a.sun_path + 1, name, n);
  char es[128], ed[128];
  int s = connect_to(AF_UNIX, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + n, SOCK_STREAM, es, sizeof es);
  if (s >= 0) { close(s); ESCAPED("connected to the host's abstract socket @%s", name); }
  memcpy(a.sun_path + 1 + n, "-dgram", 6);
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (d >= 0 && sendto(d, "x", 1, 0, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + n + 6) == 1) ESCAPED("sent to the host's abstract socket @%s-dgram", name);
  snprintf(ed, sizeof ed, "%s", d < 0 ? "socket failed" : strerror(errno));
  BLOCKED("connect @%s: %s; sendto @%s-dgram: %s", name, es, name, ed);
}

/* A packet socket on the host's stack reads and sends every frame of the host's links: the host's
 * and other guests' traffic. No cgroup socket hook sees AF_PACKET. */
static void packet_socket(void) {
  const char *NAME = "packet_socket";
  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (s >= 0) { close(s); ESCAPED("opened a packet socket on this network namespace's links"); }
  BLOCKED("socket(AF_PACKET): %s", strerror(errno));
}

/* Network administration of the namespace the guest is in: on the host's stack, the host's links.
 * lo's MTU is set to its own value, which changes nothing even where it is allowed. */
static void net_admin_host(void) {
  const char *NAME = "net_admin_host";
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) BLOCKED("socket: %s", strerror(errno));
  struct ifreq r;
  memset(&r, 0, sizeof r);
  snprintf(r.ifr_name, sizeof r.ifr_name, "lo");
  if (ioctl(s, SIOCGIFMTU, &r) < 0) { int e = errno; close(s); BLOCKED("SIOCGIFMTU: %s", strerror(e)); }
  if (ioctl(s, SIOCSIFMTU, &r) == 0) { close(s); ESCAPED("set lo's MTU (to its own %d) in this network namespace", r.ifr_mtu); }
  int e = errno;
  close(s);
  BLOCKED("SIOCSIFMTU on lo: %s", strerror(e));
}

/* Not in the suite (it needs a shared-mode guest and a peer): one UDP datagram to DST:PORT with
 * SRC as its source (IP_PKTINFO), as a guest that tries to send from an address not its own. */
static int spoof(const char *src, const char *dst, int port) {
  const char *NAME = "spoof_source";
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) { report(NAME, 0, "socket: %s", strerror(errno)); return 0; }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, dst, &to.sin_addr);
  union { char buf[CMSG_SPACE(sizeof(struct in_pktinfo))]; struct cmsghdr align; } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = {"spoof", 5};
  struct msghdr m = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
  struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);
  inet_pton(AF_INET, src, &pi->ipi_spec_dst);
  if (sendmsg(s, &m, 0) == 5) report(NAME, 1, "sent a datagram from %s", src);
  else report(NAME, 0, "sendmsg from %s: %s", src, strerror(errno));
  close(s);
  return 0;
}

/* Not an attack: two processes of one guest talking over an abstract unix socket, which a guest
 * on the host's stack should still be able to do among its own processes. */
static int abstract_self(void) {
  const char *NAME = "abstract_self";
  char name[64];
  snprintf(name, sizeof name, "vst-self-%d", (int)getpid());
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  memcpy(a.sun_path + 1, name, strlen(name));
  socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&a, len) < 0 || listen(l, 1) < 0) { report(NAME, 0, "listen @%s: %s", name, strerror(errno)); return 0; }
  pid_t child = fork();
  if (child == 0) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, len) == 0 && write(c, "hi", 2) == 2) _exit(0);
    _exit(errno & 255);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) report(NAME, 1, "a child connected to its parent's @%s", name);
  else report(NAME, 0, "a child could not connect to its parent's @%s: %s", name, strerror(WIFEXITED(status) ? WEXITSTATUS(status) : EINTR));
  close(l);
  return 0;
}

struct attack { const char *name; void (*fn)(void); };
/*
 * Every descriptor of every process in the guest that names a host object: a device node other
 * than the guest's own ptys, or a file or directory that is not at its name inside the guest
 * (the guest's log, a host /dev/null, a host directory). Each is probed as guest root would abuse
 * it: reopened through /proc for writing (a directory for reading), and chmod and chown asked
 * for its current mode and owner, so that nothing changes even where they are allowed.
 */
static void host_fds(void) {
  const char *NAME = "host_fds";
  DIR *procs = opendir("/proc");
  if (!procs) BLOCKED("no /proc: %m");
  char seen[1536] = "", got[1536] = "";
  int probed = 0, breaches = 0;
  struct dirent *pe;
  while ((pe = readdir(procs))) {
    if (!isdigit((unsigned char)pe->d_name[0])) continue;
    char dir[300];
    snprintf(dir, sizeof dir, "/proc/%s/fd", pe->d_name);
    DIR *fds = opendir(dir);
    if (!fds) continue;
    struct dirent *fe;
    int refused = 0;
    while ((fe = readdir(fds))) {
      if (fe->d_name[0] == '.') continue;
      char p[600], l[512] = "";
      snprintf(p, sizeof p, "%s/%s", dir, fe->d_name);
      ssize_t r = readlink(p, l, sizeof l - 1);
      /* Our guest init is not dumpable: its descriptors are out of reach, which is a defence too. */
      if (r < 0 && errno == EACCES && !refused++) {
        size_t n = strlen(seen);
        snprintf(seen + n, sizeof seen - n, "%s%s:fd refused", n ? ", " : "", pe->d_name);
      }
      if (r <= 0) continue;
      l[r] = 0;
      if (!strncmp(l, "pipe:", 5) || !strncmp(l, "socket:", 7) || !strncmp(l, "anon_inode:", 11) || !strncmp(l, "/dev/pts/", 9)) continue;
      if (!strncmp(l, "/proc/", 6) && strstr(l, "/fd")) continue; /* our own scan */
      struct stat st, in;
      if (stat(p, &st) != 0) continue;
      int device = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
      if (!device && l[0] == '/' && stat(l, &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino) continue; /* the guest's own */
      probed++;
      size_t n = strlen(seen);
      snprintf(seen + n, sizeof seen - n, "%s%s:%s=%s", n ? ", " : "", pe->d_name, fe->d_name, l);
      char how[64] = "";
      if (!device) {
        int fd = open(p, (S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_WRONLY | O_APPEND) | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) { strcat(how, " reopen"); close(fd); }
      }
      if (chmod(p, st.st_mode & 07777) == 0) strcat(how, " chmod");
      if (chown(p, st.st_uid, st.st_gid) == 0) strcat(how, " chown");
      if (how[0]) {
        breaches++;
        n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%s:%s=%s:%s", n ? ", " : "", pe->d_name, fe->d_name, l, how);
      }
    }
    closedir(fds);
  }
  closedir(procs);
  if (breaches) ESCAPED("%s", got);
  BLOCKED("probed %d: %s", probed, seen);
}

static const struct attack ATTACKS[] = {
  {"mknod_blockdev", mknod_blockdev}, {"mknod_kmsg", mknod_kmsg},
  {"mount_proc", mount_proc}, {"mount_sysfs", mount_sysfs}, {"mount_tmpfs", mount_tmpfs},
  {"remount_proc_sys", remount_proc_sys}, {"remount_sys", remount_sys},
  {"write_core_pattern", write_core_pattern}, {"write_sysrq_trigger", write_sysrq},
  {"write_proc_sys_knob", write_proc_knob}, {"write_sysfs_knob", write_sysfs_knob},
  {"read_kcore", read_kcore}, {"read_proc_kmsg", read_proc_kmsg}, {"read_dmesg", read_dmesg},
  {"read_timer_list", read_timer_list},
  {"sethostname_host", sethostname_host}, {"reboot_host", reboot_host}, {"set_clock", set_clock},
  {"load_module", load_module},
  {"see_host_procs", see_host_procs}, {"signal_host_proc", signal_host_proc}, {"ptrace_host_proc", ptrace_host_proc},
  {"chroot_classic", chroot_classic}, {"proc_root_escape", proc_root_escape},
  {"open_by_handle_at", open_by_handle}, {"userns_unshare", userns_unshare}, {"userns_clone", userns_clone},
  {"userns_clone3", userns_clone3}, {"keyring", keyring}, {"bpf", bpf_map}, {"perf_event_open", perf_event},
  {"cgroup_release_agent", cgroup_release_agent}, {"setns_host", setns_host}, {"state_visible", state_visible},
  {"reaper_write", reaper_write}, {"host_fds", host_fds}, {"pids_limit", pids_limit}, {"memory_limit", memory_limit},
  {"host_loopback", host_loopback}, {"host_abstract", host_abstract}, {"packet_socket", packet_socket},
  {"net_admin_host", net_admin_host}, {"init_exec_socket", init_exec_socket},
  {NULL, NULL},
};

static void run_one(const struct attack *a) {
  pid_t p = fork();
  if (p == 0) {
    alarm(60);
    a->fn();
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  if (!WIFEXITED(st)) report(a->name, 0, "the attempt died with signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1 && !strcmp(argv[1], "fds")) return fd_leak();
  if (argc > 1 && !strcmp(argv[1], "tiocsti")) return tiocsti();
  if (argc > 2 && !strcmp(argv[1], "watch")) return watch(atoi(argv[2]));
  if (argc > 4 && !strcmp(argv[1], "spoof")) return spoof(argv[2], argv[3], atoi(argv[4]));
  if (argc > 1 && !strcmp(argv[1], "abstract-self")) return abstract_self();
  if (argc > 1 && !strcmp(argv[1], "list")) { for (const struct attack *a = ATTACKS; a->name; a++) puts(a->name); return 0; }
  int all = argc < 2 || !strcmp(argv[1], "all");
  for (const struct attack *a = ATTACKS; a->name; a++) {
    int want = all;
    for (int i = 1; i < argc && !want; i++) want = !strcmp(argv[i], a->name);
    if (want) run_one(a);
  }
  return 0;
}
