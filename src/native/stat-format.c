/* vserver-stat's cells, as pure/format/vserver-stat.ts formats them (that file is the reference;
 * tests/native compares the two over many values). Times are in clock ticks (1/100 s). */
#include "front.h"

#include <math.h>
#include <stdio.h>

static const char *const UNITS[] = {" ", "K", "M", "G", "T"};

void format_size(unsigned long long bytes, char *out, size_t len) {
  double v = (double)bytes;
  int i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    i++;
  }
  if (v >= 1024) {
    snprintf(out, len, "%.0f+", floor(v / 1024));
    return;
  }
  double tenths = floor(v * 10) / 10;
  if (i > 0 && fmod(tenths, 1) != 0 && tenths < 100) snprintf(out, len, "%.1f%s", tenths, UNITS[i]);
  else snprintf(out, len, "%.0f%s", floor(v), UNITS[i]);
}

void format_ticks(unsigned long long ticks, char *out, size_t len) {
  unsigned long long whole = ticks / 100;
  if (whole < 3600) {
    snprintf(out, len, "%llum%02llus%02llu", whole / 60, whole % 60, ticks % 100);
  } else if (whole < 86400) {
    snprintf(out, len, "%lluh%02llum%02llu", whole / 3600, whole / 60 % 60, whole % 60);
  } else {
    unsigned long long days = whole / 86400;
    if (days < 1000) snprintf(out, len, "%llud%02lluh%02llu", days, whole / 3600 % 24, whole / 60 % 60);
    else snprintf(out, len, "%lluy%02llud%02llu", days / 365, days % 365, whole / 3600 % 24);
  }
}
