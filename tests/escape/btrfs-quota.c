/* btrfs-quota: run as root inside a guest whose root is a btrfs subvolume with a disk limit,
 * tries every way btrfs offers out of that limit: a new subvolume or a snapshot (each gets a
 * qgroup of its own, not charged to the guest), deleting one, and the quota and qgroup calls.
 * One line per attempt, "NAME: ok" or "NAME: <strerror>"; the test checks that none says ok.
 *
 * Usage: btrfs-quota DIR   (DIR: a directory the guest may write, on its root's file system) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *what, long rc) {
  printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "ok");
}

/* ioctl through syscall(2), so that the request's upper 32 bits reach seccomp as given. */
static long ioc(int fd, unsigned long req, void *arg) {
  return syscall(SYS_ioctl, fd, req, arg);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
  int root = open("/", O_RDONLY | O_DIRECTORY);
  if (dir < 0 || root < 0) {
    perror("open");
    return 2;
  }
  struct btrfs_ioctl_vol_args v = {0};
  strcpy(v.name, "sub-v1");
  say("subvol_create", ioc(dir, BTRFS_IOC_SUBVOL_CREATE, &v));

  struct btrfs_ioctl_vol_args_v2 v2 = {0};
  strcpy(v2.name, "sub-v2");
  say("subvol_create_v2", ioc(dir, BTRFS_IOC_SUBVOL_CREATE_V2, &v2));

  /* The kernel reads the request as 32 bits: the same call with high bits set. */
  strcpy(v2.name, "sub-high");
  say("subvol_create_high_bits", ioc(dir, 0xdead00000000UL | BTRFS_IOC_SUBVOL_CREATE_V2, &v2));

  struct btrfs_ioctl_vol_args sv = {0};
  sv.fd = root;
  strcpy(sv.name, "snap-v1");
  say("snap_create", ioc(dir, BTRFS_IOC_SNAP_CREATE, &sv));

  struct btrfs_ioctl_vol_args_v2 sv2 = {0};
  sv2.fd = root;
  strcpy(sv2.name, "snap-v2");
  say("snap_create_v2", ioc(dir, BTRFS_IOC_SNAP_CREATE_V2, &sv2));

  struct btrfs_ioctl_vol_args d = {0};
  strcpy(d.name, "sub-v1");
  say("snap_destroy", ioc(dir, BTRFS_IOC_SNAP_DESTROY, &d));

  struct btrfs_ioctl_quota_ctl_args q = {.cmd = BTRFS_QUOTA_CTL_DISABLE};
  say("quota_disable", ioc(root, BTRFS_IOC_QUOTA_CTL, &q));

  /* qgroupid 0: the qgroup of the subvolume fd is on, the guest's own. */
  struct btrfs_ioctl_qgroup_limit_args l = {0};
  l.lim.flags = BTRFS_QGROUP_LIMIT_MAX_EXCL;
  l.lim.max_excl = (__u64)-1;
  say("qgroup_limit", ioc(root, BTRFS_IOC_QGROUP_LIMIT, &l));
  return 0;
}
