/* SPDX-License-Identifier: MIT */
/* What the API client remembers from one round to the next: the ranges of the VPCs it fetched (a
 * VPC's range never changes, so a steady-state round costs two requests) and the peerings it
 * has warned about (said once, again only after they changed or went away and came back). Both
 * forget, at the end of a successful round, whatever that round did not touch. */
#pragma once

#include "api_parse.h"

struct vpc_cache_entry {
        char id[UUID_STRLEN];
        char name[API_NAME_MAX];
        struct cidr range;
        bool used;      /* touched by the round in progress */
};

struct vpc_cache {
        struct vpc_cache_entry *entries;
        size_t n, cap;
};

/* The entry of VPC id, or NULL. */
struct vpc_cache_entry *vpc_cache_find(struct vpc_cache *c, const char *id);
/* Adds a VPC the API just answered for (untouched until the round uses it). */
int vpc_cache_add(struct vpc_cache *c, const struct api_vpc *vpc);

struct noted {
        char id[UUID_STRLEN];
        char what[32];
        bool used;      /* said again by the round in progress */
};

struct notes {
        struct noted *entries;
        size_t n, cap;
};

/* True the first time (id, what) comes up in a row of rounds: worth a warning then, and only
 * then. Without memory for it, says yes: a warning too many beats one lost. */
bool notes_first(struct notes *n, const char *id, const char *what);

/* After a successful round: forget what it did not touch. */
void api_memory_sweep(struct vpc_cache *c, struct notes *n);
void api_memory_free(struct vpc_cache *c, struct notes *n);
