/* The guest init's exec service: see guest-exec.c. */
#ifndef GUEST_EXEC_H
#define GUEST_EXEC_H

#include <signal.h>

/* Take the host's listening socket (INIT_EXEC_FD) if the host gave one; 0 when there is none. */
int guest_exec_setup(void);

/* Accept every waiting connection and start a handler process for each. `child_mask` is the
 * signal mask the commands get. Never blocks. */
void guest_exec_accept(const sigset_t *child_mask);

#endif
