/*
 * bind-probe: binds sockets the way servers do, all held open together, and prints one line per
 * socket: the address it got, or the error. Built static by the tests and copied into busybox
 * guests, which have no language that can set IPV6_V6ONLY.
 *
 *   bind-probe KIND ADDR PORT [KIND ADDR PORT]...
 *   KIND: tcp, udp (dual-stack for an IPv6 ADDR), tcp6only, udp6only (IPV6_V6ONLY set)
 *
 * nginx's stock `listen 80; listen [::]:80;` is `tcp 0.0.0.0 80 tcp6only :: 80`.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>

int main(int argc, char **argv) {
  if (argc < 4 || (argc - 1) % 3) {
    fprintf(stderr, "usage: bind-probe KIND ADDR PORT [KIND ADDR PORT]...\n");
    return 2;
  }
  for (int i = 1; i + 2 < argc; i += 3) {
    const char *kind = argv[i], *addr = argv[i + 1];
    int port = atoi(argv[i + 2]);
    int six = strchr(addr, ':') != NULL;
    int udp = !strncmp(kind, "udp", 3);
    int v6only = strstr(kind, "6only") != NULL;
    int s = socket(six ? AF_INET6 : AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (s < 0) { printf("socket: %s\n", strerror(errno)); continue; }
    if (six) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (six) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) { printf("bad address %s\n", addr); continue; }
      len = sizeof *a;
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) { printf("bad address %s\n", addr); continue; }
      len = sizeof *a;
    }
    if (bind(s, (struct sockaddr *)&ss, len) < 0 || (!udp && listen(s, 1) < 0)) { printf("%s\n", strerror(errno)); continue; }
    char text[INET6_ADDRSTRLEN];
    len = sizeof ss;
    getsockname(s, (struct sockaddr *)&ss, &len);
    if (ss.ss_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof text);
    else inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof text);
    printf("%s\n", text);
  }
  return 0;
}
