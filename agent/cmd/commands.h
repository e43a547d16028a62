/* SPDX-License-Identifier: MIT */
/* Layer cmd (agent/cmd/): main() and the one-shot commands. Uses every layer below it. */
/* The one-shot commands, one file each (sync.c, status.c, flush.c, check_config.c), callable
 * from main.c and from tests. `run` is the daemon (daemon.h). */
#pragma once

#include "config.h"

struct kernel_ctx;

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,
        EXIT_USAGE = 2,
        EXIT_CONFLICT = 3,
};

struct command_hooks {
        /* Called by sync between planning and applying: tests use it to change the world there
         * (a NIC vanishing under the plan). */
        void (*before_apply)(struct kernel_ctx *nl, void *userdata);
        void *userdata;
};

struct sync_options {
        bool dry_run;           /* print the plan, change nothing */
        bool json;              /* with dry_run: the plan as JSON */
        uint64_t wait_usec;     /* source = api: ask again until no peering is PROVISIONING, this long at most */
};

int command_sync(const struct config *c, const struct sync_options *o, const struct command_hooks *hooks);
/* 0, or logs that the command what needs CAP_NET_ADMIN and returns -EPERM. */
int command_require_net_admin(const char *what);
/* kernel_ctx_open, logging why it failed. */
int command_open_netlink(struct kernel_ctx **ret);
int command_status(const struct config *c, bool json);
/* Does traffic take the routes? Per destination a verdict (doctor.h); exit 0 when all are ok. */
int command_doctor(const struct config *c, bool json);
struct reconcile;
/* For status: 0 when doctor would find nothing, 1 with what it would find in buf, <0 when it
 * could not look. rc: prepared and planned with KERNEL_LIST_FULL. */
int doctor_summary(struct kernel_ctx *nl, const struct config *c, const struct reconcile *rc, char *buf, size_t size);
int command_flush(const struct config *c);
/* Prints the effective configuration unless quiet; c is already loaded and checked. */
int command_check_config(const struct config *c, bool quiet);
