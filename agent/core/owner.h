/* SPDX-License-Identifier: MIT */
/* Which protocol number and table the agent's routes carry, remembered across runs in
 * owner_file: when the config changes either, the routes that carry the old ones are still the
 * agent's, and the next reconcile moves them instead of leaving them behind. */
#pragma once

#include "util.h"

struct owner {
        uint8_t protocol;
        uint32_t table;
};

static inline bool owner_equal(const struct owner *a, const struct owner *b) {
        return a->protocol == b->protocol && a->table == b->table;
}

/* Pure: "protocol = N" and "table = N" lines. -EBADMSG for anything else, -EPROTO for a
 * protocol number of the kernel or another program (route_protocol_name()). */
int owner_parse(const char *text, struct owner *ret);
/* -ENOENT when there is no record yet. */
int owner_read(const char *path, struct owner *ret);
int owner_write(const char *path, const struct owner *o);
