/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket's server thread and its client; see fc_control.h. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fc_control.h"

struct fc_control {
	int fd;
	int stop_pipe[2];
	pthread_t thread;
	fc_control_handler handler;
	void *arg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *reply;
};

static int
unix_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	return 0;
}

/* Reads one line of at most len - 1 bytes; returns its length or -1. */
static ssize_t
read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		r = read(fd, buf + n, len - 1 - n);
		if (r <= 0)
			return n > 0 ? (ssize_t)n : -1;
		n += (size_t)r;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return (ssize_t)strlen(buf);
}

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *
serve(void *arg)
{
	struct fc_control *c = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = c->stop_pipe[0], .events = POLLIN } };
		char line[FC_CONTROL_LINE_MAX];
		int cfd;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			return NULL;
		cfd = accept(c->fd, NULL, NULL);
		if (cfd < 0)
			continue;
		/* One request a connection; a silent client is dropped after a second. */
		if (read_line(cfd, line, sizeof(line), 1000) >= 0) {
			c->handler(c->arg, line, c->reply, FC_CONTROL_REPLY_MAX - 1);
			strcat(c->reply, "\n");
			(void)write_all(cfd, c->reply, strlen(c->reply));
		}
		close(cfd);
	}
}

struct fc_control *
fc_control_start(const char *path, fc_control_handler handler, void *arg, char *err, size_t err_len)
{
	struct fc_control *c = calloc(1, sizeof(*c));
	struct sockaddr_un a;
	int e;

	if (c == NULL || (c->reply = malloc(FC_CONTROL_REPLY_MAX)) == NULL) {
		e = ENOMEM;
		snprintf(err, err_len, "control socket: out of memory");
		goto fail;
	}
	c->fd = -1;
	c->stop_pipe[0] = c->stop_pipe[1] = -1;
	c->handler = handler;
	c->arg = arg;
	if (unix_addr(path, &a) != 0) {
		e = ENAMETOOLONG;
		snprintf(err, err_len, "control socket %s: path too long", path);
		goto fail;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path); /* a socket left by a killed floord */
	if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    chmod(path, 0660) != 0 || listen(c->fd, 8) != 0 || pipe(c->stop_pipe) != 0) {
		e = errno;
		snprintf(err, err_len, "control socket %s: %s", path, strerror(e));
		goto fail;
	}
	e = pthread_create(&c->thread, NULL, serve, c);
	if (e != 0) {
		snprintf(err, err_len, "control socket %s: thread: %s", path, strerror(e));
		goto fail;
	}
	return c;
fail:
	if (c != NULL) {
		if (c->fd >= 0) {
			close(c->fd);
			unlink(path);
		}
		if (c->stop_pipe[0] >= 0) {
			close(c->stop_pipe[0]);
			close(c->stop_pipe[1]);
		}
		free(c->reply);
		free(c);
	}
	errno = e;
	return NULL;
}

void
fc_control_stop(struct fc_control *c)
{
	if (c == NULL)
		return;
	(void)write_all(c->stop_pipe[1], "x", 1);
	pthread_join(c->thread, NULL);
	close(c->fd);
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
	unlink(c->path);
	free(c->reply);
	free(c);
}

int
fc_control_request(const char *path, const char *request, char *reply, size_t len, int timeout_ms)
{
	struct sockaddr_un a;
	int fd, rc = 0;

	if (unix_addr(path, &a) != 0)
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		rc = -errno;
	} else if (write_all(fd, request, strlen(request)) != 0 || write_all(fd, "\n", 1) != 0) {
		rc = -EIO;
	} else if (read_line(fd, reply, len, timeout_ms) < 0) {
		rc = -ETIMEDOUT;
	}
	close(fd);
	return rc;
}
