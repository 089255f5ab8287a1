/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floord's control socket: a Unix stream socket served by one thread off the packet path.
 * floorctl sends one request line; the handler answers with one line (JSON, docs/control.md).
 * The socket's mode (0660) and its directory decide who may command: the owner and the group.
 */
#ifndef FC_CONTROL_H
#define FC_CONTROL_H

#include <stddef.h>

#define FC_CONTROL_LINE_MAX  256u   /* a request line, newline included */
#define FC_CONTROL_REPLY_MAX 65536u /* a reply line (an audit can be long) */

/* Answers one request line (without its newline) into reply; never blocks for long. */
typedef void (*fc_control_handler)(void *arg, const char *request, char *reply, size_t len);

struct fc_control;

/*
 * Binds path (an old socket file there is replaced), sets its mode to 0660 and starts the
 * server thread. Returns NULL with errno set and a message in err.
 */
struct fc_control *fc_control_start(const char *path, fc_control_handler handler, void *arg,
				    char *err, size_t err_len);

/* Stops the thread, closes and unlinks the socket. NULL is accepted. */
void fc_control_stop(struct fc_control *c);

/*
 * The client side (floorctl): sends request, reads the one-line reply into reply. Returns 0,
 * or -errno (cannot connect, timeout after timeout_ms, reply too long).
 */
int fc_control_request(const char *path, const char *request, char *reply, size_t len,
		       int timeout_ms);

#endif /* FC_CONTROL_H */
