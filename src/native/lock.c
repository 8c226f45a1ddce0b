/* drivers/lock.ts's lock files: "PID STARTTIME" in DIR/NAME.lock, made with O_EXCL. The native
 * side only takes a free lock; a busy or stale one is left to the TypeScript command, which waits
 * for it or clears it. */
#define _GNU_SOURCE
#include "front.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int me(char *buf, size_t len) {
  char start[32];
  if (!proc_start_time(getpid(), start, sizeof start)) return 0;
  snprintf(buf, len, "%d %s", getpid(), start);
  return 1;
}

int take_lock(const char *dir, const char *name) {
  char path[4400], who[64];
  if (!me(who, sizeof who)) return 0;
  mkdir(dir, 0700);
  snprintf(path, sizeof path, "%s/%s.lock", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  size_t n = strlen(who);
  int ok = write(fd, who, n) == (ssize_t)n;
  close(fd);
  if (!ok) unlink(path);
  return ok;
}

void release_lock(const char *dir, const char *name) {
  char path[4400], who[64];
  if (!me(who, sizeof who)) return;
  snprintf(path, sizeof path, "%s/%s.lock", dir, name);
  char *held = read_small_file(path, NULL);
  if (held && strcmp(held, who) == 0) unlink(path);
  free(held);
}
