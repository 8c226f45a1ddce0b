/* vserver-mount-into: mount something into a running guest (vmount, control/vmount.ts).
 *
 * The mount is made on the host, where its source is a host path (a directory or file to bind, a
 * device or a file system's own source), as a detached mount with the new mount API; then this
 * process joins the guest's mount namespace, whose root is the guest's root, and attaches it at
 * DST there. DST is therefore resolved by the kernel inside the guest's root: a symlink or `..`
 * the guest planted cannot lead it onto the host. For a guest with a user namespace of its own the
 * mount is idmapped through that namespace, so the guest sees the files' usual owners (a host
 * file of uid 0 is the guest's root's), as with the guest's own root. Joining a mount namespace
 * needs a single-threaded process: that is why this is C and not the TypeScript command.
 *
 * Usage (argv is written by control/vmount.ts, never by a user):
 *   vserver-mount-into MNTNS USERNS|- ATTRS DST bind SRC 0|1
 *   vserver-mount-into MNTNS USERNS|- ATTRS DST fs TYPE SOURCE [KEY[=VALUE]]...
 * ATTRS: a number, MOUNT_ATTR_* bits (ro, nosuid, nodev, noexec) to set on the mount. bind's
 * last word: 1 for a recursive bind (--rbind). fs options go to fsconfig as strings or flags. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

static int fail(const char *what) {
  dprintf(2, "vserver-mount-into: %s: %s\n", what, strerror(errno));
  return 1;
}

static int usage(void) {
  dprintf(2, "vserver-mount-into: bad arguments (this program is run by vmount only)\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 8) return usage();
  const char *mntns = argv[1], *userns = argv[2], *dst = argv[4], *kind = argv[5];
  char *end;
  unsigned long attrs = strtoul(argv[3], &end, 10);
  if (*end) return usage();
  int tree;
  if (strcmp(kind, "bind") == 0 && argc == 8) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (strcmp(argv[7], "1") == 0 ? AT_RECURSIVE : 0);
    tree = (int)syscall(SYS_open_tree, AT_FDCWD, argv[6], flags);
    if (tree < 0) return fail(argv[6]);
  } else if (strcmp(kind, "fs") == 0) {
    int fs = (int)syscall(SYS_fsopen, argv[6], FSOPEN_CLOEXEC);
    if (fs < 0) return fail(argv[6]);
    if (strcmp(argv[7], "none") != 0 && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", argv[7], 0) != 0) return fail(argv[7]);
    for (int i = 8; i < argc; i++) {
      char *eq = strchr(argv[i], '=');
      long r;
      if (eq) {
        *eq = 0;
        r = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, argv[i], eq + 1, 0);
      } else {
        r = syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, argv[i], NULL, 0);
      }
      if (r != 0) return fail(argv[i]);
    }
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) return fail(argv[6]);
    tree = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
    if (tree < 0) return fail(argv[6]);
    close(fs);
  } else {
    return usage();
  }
  struct mount_attr attr = { .attr_set = attrs };
  if (strcmp(userns, "-") != 0) {
    int u = open(userns, O_RDONLY | O_CLOEXEC);
    if (u < 0) return fail(userns);
    attr.attr_set |= MOUNT_ATTR_IDMAP;
    attr.userns_fd = (uint64_t)u;
  }
  if (attr.attr_set && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
    return fail(attr.attr_set & MOUNT_ATTR_IDMAP ? "this file system cannot be idmapped for the guest" : "mount attributes");
  }
  int ns = open(mntns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return fail(mntns);
  if (setns(ns, CLONE_NEWNS) != 0) return fail("joining the guest's mount namespace");
  /* DST may be a link of the guest's: followed, but only ever inside the guest's root. */
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) != 0) return fail(dst);
  return 0;
}
