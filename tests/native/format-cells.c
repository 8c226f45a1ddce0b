/* Test driver: "size N" or "ticks N" per line on stdin, the native cell on stdout, one per line. */
#include "../../src/native/front.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char kind[16], out[64];
  unsigned long long v;
  while (scanf("%15s %llu", kind, &v) == 2) {
    if (strcmp(kind, "size") == 0) format_size(v, out, sizeof out);
    else format_ticks(v, out, sizeof out);
    puts(out);
  }
  return 0;
}
