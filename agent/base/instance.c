/* SPDX-License-Identifier: MIT */
/* The running service's abstract socket: see instance.h. */
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "instance.h"

static socklen_t instance_address(struct sockaddr_un *sa) {
        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        /* sun_path[0] stays '\0': the abstract namespace, no file to clean up. */
        memcpy(sa->sun_path + 1, INSTANCE_SOCKET_NAME, strlen(INSTANCE_SOCKET_NAME));
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(INSTANCE_SOCKET_NAME));
}

int instance_listen(int *ret_fd) {
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa;
        socklen_t len = instance_address(&sa);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 8) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void instance_answer(int listen_fd, uint64_t fingerprint) {
        char line[32];
        int n, fd;

        while ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
                n = snprintf(line, sizeof line, "%016" PRIx64 "\n", fingerprint);
                /* A reader that went away or never reads costs nothing: the line fits the buffer. */
                (void) send(fd, line, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
                close(fd);
        }
}

int instance_query(struct instance *ret) {
        _cleanup_close_ int fd = -1;
        struct instance in = {};
        struct sockaddr_un sa;
        socklen_t len = instance_address(&sa);
        struct ucred cred;
        socklen_t cl = sizeof cred;
        struct pollfd p;
        char line[32];
        ssize_t n;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, len) < 0)
                return errno == ECONNREFUSED || errno == ENOENT ? 0 : -errno;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 && cl == sizeof cred)
                in.pid = cred.pid;
        /* The service answers from its event loop; one that does not within a second still runs. */
        p = (struct pollfd) { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 1000) == 1) {
                n = recv(fd, line, sizeof line - 1, 0);
                if (n == 17 && line[16] == '\n') {
                        char *end;
                        line[16] = '\0';
                        errno = 0;
                        in.fingerprint = strtoull(line, &end, 16);
                        in.have_fingerprint = errno == 0 && *end == '\0';
                }
        }
        *ret = in;
        return 1;
}
