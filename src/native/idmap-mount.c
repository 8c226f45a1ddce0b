/* vserver-idmap: make an idmapped bind mount of a guest's root for its start.
 *
 * crun 1.8 idmaps bind mounts inside a container but not the root file system itself, and
 * util-linux 2.38's mount has no X-mount.idmap yet. So `vserver start` makes the guest's root
 * appear to the runtime through an idmapped mount of its own: a file stored as uid N in the
 * guest's directory is seen as uid BASE+N through it, which the guest's user namespace maps back
 * to N. Files keep their owners on disk (no chown of a guest's tree, file capabilities and ACLs
 * untouched), and the guest's root is an unprivileged uid on the host.
 *
 * Usage (argv is written by drivers/idmapped-root.ts, never by a user):
 *   vserver-idmap SRC DST BASE COUNT
 * SRC is bound recursively (as the runtime binds a root file system: what the administrator
 * mounted below it comes along, idmapped as well) onto DST, which must be an existing directory. The mount is made in the caller's mount namespace; the caller
 * runs this inside the runtime's view where there is one.
 *
 * The mapping comes from a user namespace made for the purpose: a child unshares, the parent
 * writes its maps, opens /proc/CHILD/ns/user and lets it go. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mount.h>

static int fail(const char *what) {
  dprintf(2, "vserver-idmap: %s: %s\n", what, strerror(errno));
  return 1;
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int e = errno;
  close(fd);
  errno = e;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int parse_id(const char *s, unsigned long *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || !*s || v > UINT32_MAX) return -1;
  *out = v;
  return 0;
}

/* A user namespace with "0 BASE COUNT" as its uid and gid maps (plus "HOST_ROOT_AS 0 1" when
 * host_root_as is not 0), as an fd. */
static int mapping_userns(unsigned long base, unsigned long count, unsigned long host_root_as) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(go[1]);
    if (unshare(CLONE_NEWUSER) != 0) _exit(1);
    char c;
    (void)!read(go[0], &c, 1); /* wait until the parent has the namespace open */
    _exit(0);
  }
  close(go[0]);
  int fd = -1;
  char path[64], map[128];
  /* the child's namespace exists once /proc/PID/ns/user differs from ours */
  struct stat self, child;
  if (stat("/proc/self/ns/user", &self) != 0) goto out;
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  for (int i = 0; i < 2000; i++) {
    if (stat(path, &child) == 0 && child.st_ino != self.st_ino) break;
    usleep(500);
  }
  int n = snprintf(map, sizeof map, "0 %lu %lu\n", base, count);
  if (host_root_as) snprintf(map + n, sizeof map - n, "%lu 0 1\n", host_root_as);
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  if (write_file(path, map) != 0) goto out;
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  if (write_file(path, map) != 0) goto out;
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
out:;
  int e = errno;
  close(go[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  errno = e;
  return fd;
}

int main(int argc, char **argv) {
  unsigned long base, count, host_root_as = 0;
  if ((argc != 5 && argc != 6) || parse_id(argv[3], &base) != 0 || parse_id(argv[4], &count) != 0 || count == 0 ||
      (argc == 6 && (parse_id(argv[5], &host_root_as) != 0 || host_root_as < count || base == 0))) {
    dprintf(2, "vserver-idmap: bad arguments (this program is run by 'vserver start' only)\n");
    return 2;
  }
  int userns = mapping_userns(base, count, host_root_as);
  if (userns < 0) return fail("cannot make the user namespace of the mapping");
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, argv[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return fail(argv[1]);
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
    return fail("the file system of the guest's root cannot be idmapped");
  }
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, argv[2], MOVE_MOUNT_F_EMPTY_PATH) != 0) return fail(argv[2]);
  return 0;
}
