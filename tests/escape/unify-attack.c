/* unify-attack: run as root inside a unified guest, tries to change the content or attributes of
 * FILE by one means, so that the test can check from outside that the shared object behind it
 * (and every other guest's view of it) is unchanged. Each attack prints what the syscall said;
 * succeeding on the guest's own view is fine (overlayfs copies the file up first): the test
 * checks the store, not the exit status.
 *
 * Usage: unify-attack ATTACK FILE [OTHER]
 *   write truncate mmap procfd chmod chown xattr overlay-xattr chattr punch dedupe rename link */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static int say(const char *what, int rc) {
  printf("%s: %s\n", what, rc < 0 ? strerror(errno) : "ok");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  const char *a = argv[1], *f = argv[2];
  if (!strcmp(a, "write")) {
    int fd = open(f, O_WRONLY);
    if (fd < 0) return say("open", -1);
    return say("pwrite", (int)pwrite(fd, "PWNED", 5, 0));
  }
  if (!strcmp(a, "truncate")) return say("truncate", truncate(f, 1));
  if (!strcmp(a, "mmap")) {
    int fd = open(f, O_RDWR);
    if (fd < 0) return say("open", -1);
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return say("mmap", -1);
    memcpy(p, "PWNED", 5);
    return say("msync", msync(p, 4096, MS_SYNC));
  }
  if (!strcmp(a, "procfd")) {
    /* opened read-only (no copy-up), then reopened for writing through the magic link */
    int ro = open(f, O_RDONLY);
    if (ro < 0) return say("open", -1);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", ro);
    int fd = open(path, O_WRONLY);
    if (fd < 0) return say("reopen", -1);
    return say("pwrite", (int)pwrite(fd, "PWNED", 5, 0));
  }
  if (!strcmp(a, "chmod")) return say("chmod", chmod(f, 04777));
  if (!strcmp(a, "chown")) return say("chown", chown(f, 1234, 1234));
  if (!strcmp(a, "xattr")) return say("setxattr", setxattr(f, "user.pwned", "1", 1, 0));
  if (!strcmp(a, "overlay-xattr")) {
    say("setxattr redirect", setxattr(f, "trusted.overlay.redirect", "/00/00", 6, 0));
    return say("removexattr metacopy", removexattr(f, "trusted.overlay.metacopy"));
  }
  if (!strcmp(a, "chattr")) {
    int fd = open(f, O_RDONLY);
    if (fd < 0) return say("open", -1);
    int flags = FS_IMMUTABLE_FL | FS_APPEND_FL;
    return say("FS_IOC_SETFLAGS", ioctl(fd, FS_IOC_SETFLAGS, &flags));
  }
  if (!strcmp(a, "punch")) {
    int fd = open(f, O_WRONLY);
    if (fd < 0) return say("open", -1);
    return say("fallocate", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
  }
  if (!strcmp(a, "dedupe") && argc > 3) {
    /* make FILE's blocks those of OTHER (a file of the guest's own with other content) */
    int src = open(argv[3], O_RDONLY), dst = open(f, O_RDWR);
    if (src < 0 || dst < 0) return say("open", -1);
    struct stat st;
    fstat(dst, &st);
    struct file_dedupe_range *r = calloc(1, sizeof *r + sizeof(struct file_dedupe_range_info));
    r->src_length = st.st_size;
    r->dest_count = 1;
    r->info[0].dest_fd = dst;
    say("FIDEDUPERANGE", ioctl(src, FIDEDUPERANGE, r));
    printf("status %d\n", r->info[0].status);
    return 0;
  }
  if (!strcmp(a, "rename") && argc > 3) {
    say("rename", rename(f, argv[3]));
    int fd = open(argv[3], O_WRONLY);
    if (fd < 0) return say("open renamed", -1);
    return say("pwrite renamed", (int)pwrite(fd, "PWNED", 5, 0));
  }
  if (!strcmp(a, "link") && argc > 3) {
    say("link", link(f, argv[3]));
    int fd = open(argv[3], O_WRONLY);
    if (fd < 0) return say("open link", -1);
    return say("pwrite link", (int)pwrite(fd, "PWNED", 5, 0));
  }
  return 2;
}
