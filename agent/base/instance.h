/* SPDX-License-Identifier: MIT */
/* The running service, as the one-shot commands see it: `run` listens on an abstract unix
 * socket, which exists once per network namespace (as the routes do) and vanishes with the
 * process. `flush` and `sync` connect to it to learn whether a service would undo what they do;
 * the kernel tells them its PID, and the service answers with a fingerprint of its effective
 * configuration. */
#pragma once

#include <sys/types.h>

#include "util.h"

#define INSTANCE_SOCKET_NAME "vpc-peer-routes/run"

struct instance {
        pid_t pid;              /* 0 when the kernel did not say */
        uint64_t fingerprint;   /* of the service's configuration (config_fingerprint) */
        bool have_fingerprint;  /* false when the service did not answer in time */
};

/* Binds and listens (non-blocking, close-on-exec). -EADDRINUSE when another process listens. */
int instance_listen(int *ret_fd);
/* Accepts one connection on a listening fd, writes the fingerprint and closes it. */
void instance_answer(int listen_fd, uint64_t fingerprint);
/* 1 and the service's details when one listens in this network namespace, 0 when none does,
 * -errno when the question could not be asked. */
int instance_query(struct instance *ret);
