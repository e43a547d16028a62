/* SPDX-License-Identifier: MIT */
/* Layer daemon (agent/daemon/): the service's loop over reconcile. Uses every layer below it. */
/* `vpc-peer-routes run`: the long-running service. */
#pragma once

#include "config.h"

struct daemon_options {
        const char *config_path;
        bool config_explicit;
        struct config_overrides overrides;
};

/* Runs until SIGTERM or SIGINT; takes ownership of config. Returns the process exit code. */
int daemon_run(const struct daemon_options *o, struct config *config);
