/* SPDX-License-Identifier: MIT */
/* The one-shot commands, callable from main.c and from tests. */
#pragma once

#include "config.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,
        EXIT_USAGE = 2,
        EXIT_CONFLICT = 3,
};

struct command_hooks {
        /* Called by sync between planning and applying: tests use it to change the world there
         * (a NIC vanishing under the plan). */
        void (*before_apply)(void *userdata);
        void *userdata;
};

int command_sync(const struct config *c, bool dry_run, const struct command_hooks *hooks);
int command_status(const struct config *c, bool json);
int command_flush(const struct config *c);
