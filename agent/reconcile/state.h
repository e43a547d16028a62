/* SPDX-License-Identifier: MIT */
/* What the daemon publishes after each reconcile: the state file (JSON, read back by
 * `status`) and the optional Prometheus textfile. Both are written atomically. */
#pragma once

#include <sys/types.h>

#include "api_pace.h"
#include "api_peers.h"
#include "heal_backoff.h"
#include "metadata_parse.h"
#include "plan.h"
#include "route.h"

struct agent_state {
        pid_t pid;
        uint64_t updated;           /* Unix seconds */
        uint64_t last_success;      /* Unix seconds of the last complete reconcile, 0 never */
        char last_error[ERROR_MAX];       /* "" when the last attempt succeeded */
        uint64_t last_error_time;
        uint64_t failing_since;     /* Unix seconds the metadata has been failing since, 0 when not */
        const char *source;
        char status[256];           /* the STATUS= line */

        bool have_link;
        char ifname[IF_NAMESIZE];
        bool have_metadata;
        uint32_t gateway;
        enum gateway_origin gateway_origin;
        enum tristate peering_enabled;

        const struct route_set *desired;   /* may be NULL */
        const struct route_set *installed; /* own routes in the kernel, may be NULL */
        const struct plan *plan;           /* for conflicts, may be NULL */
        const struct api_peers *peers;     /* source = api: where each desired route comes from */
        const struct heal_backoff *fights;       /* may be NULL */
        const struct api_pace *pace;       /* source = api, once the API has sent rate-limit headers */
        uint64_t now;                      /* CLOCK_MONOTONIC usec, to tell which fights go on */

        uint64_t reconciles;
        uint64_t heals;
        uint64_t heal_backoffs;
        uint64_t metadata_errors;
        const uint64_t *api_errors;        /* _API_ERROR_KIND_MAX counters (api_round.h), may be NULL */
        uint64_t fetch_duration_usec;
        uint64_t poll_cpu_usec;            /* CPU the last poll spent after its HTTP exchange */
        const char *egress;                /* nat_gateway on: reconcile_egress_summary; NULL when off */
        bool egress_active;
};

int state_write(const char *path, const struct agent_state *s);

/* The Prometheus textfile: the metrics are the rows of one table in state.c (each documented in
 * vpc-peer-routes(8), which the docs test checks through metric_name()). */
#define METRIC_PREFIX "vpc_peer_routes_"
int metrics_write(const char *path, const struct agent_state *s);
/* The i-th metric's name without METRIC_PREFIX; NULL past the last. */
const char *metric_name(size_t i);

#define STATE_FIGHTS_MAX 8

/* What `status` shows of a state file. */
struct state_summary {
        pid_t pid;
        uint64_t updated;
        uint64_t last_success;
        char last_error[ERROR_MAX];
        char status[256];
        uint64_t reconciles;
        uint64_t heals;
        uint64_t heal_backoffs;
        uint64_t metadata_errors;
        /* source = api: how often the service asks, and what it saw of the token (0: unknown). */
        uint64_t api_interval_sec;
        uint64_t api_fleet;
        uint64_t api_used;
        uint64_t api_limit;
        /* Own routes another program keeps removing, with the pause before the next re-add. */
        struct {
                char destination[CIDR_STRLEN];
                uint64_t removals;
                uint64_t pause_ms;
        } fights[STATE_FIGHTS_MAX];
        size_t n_fights;
};

/* Parses a state file's text. Pure. */
int state_parse(const char *text, size_t size, struct state_summary *ret, struct error *err);
/* Reads path; -ENOENT when there is none. */
int state_read(const char *path, struct state_summary *ret, struct error *err);
