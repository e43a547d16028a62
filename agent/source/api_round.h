/* SPDX-License-Identifier: MIT */
/* Layer source (agent/source/): where the routes come from, the metadata service and the
 * DigitalOcean API: fetching, parsing, budgets. Uses config, core and base (not kernel). */
/* One "API round": droplet → its VPC → the VPC's peerings (every page) → each ACTIVE peer VPC's
 * ip_range, over http.c on the event loop. VPC ranges are cached (a VPC's range never changes),
 * and so is the droplet's VPC, which changes only when the droplet moves to another VPC (its
 * private address changes with it): a steady-state round costs one request, the peerings. The
 * droplet is read again when the metadata's private address or subnet changes, when the
 * peerings answer 404 (the VPC is gone), after a reload with another api_url or token, and
 * after 6 to 12 hours. Requests stay inside DigitalOcean's budget. */
#pragma once

#include <systemd/sd-event.h>

#include "api_parse.h"
#include "api_peers.h"
#include "config.h"
#include "http.h"


struct api_client;

/* error < 0: err says why (never the token) and peers is NULL. Otherwise peers is the complete,
 * successful answer; the callee may take it over (move it out). */
typedef void (*api_done_fn)(int error, const struct error *err, struct api_peers *peers, void *userdata);

int api_client_new(struct http_client *http, struct api_client **ret);
void api_client_free(struct api_client *a);

/* The droplet a round asks about, and where the metadata puts it: the droplet's VPC is read
 * again when any of it changes. */
struct api_target {
        uint64_t droplet_id;
        uint32_t address;       /* the private interface's, host order */
        uint8_t prefixlen;
};

/* Starts a round with the config's api_url, token, CA file and timeouts (copied: a reload during
 * the round does not disturb it). -EBUSY when one runs already; -EAGAIN while rate limited
 * (api_retry_after_usec says until when). */
int api_round_start(struct api_client *a, const struct config *c, const struct api_target *t, api_done_fn done,
                    void *userdata);
/* Forgets the droplet's VPC: the next round reads the droplet first (another api_url or token). */
void api_client_forget_vpc(struct api_client *a);
/* Takes vpc as the droplet's VPC for the next 6 to 12 hours, as a round for t said (the client's
 * own rounds, and sync --wait's next pass). */
void api_client_assume_vpc(struct api_client *a, const struct api_target *t, const char *vpc);
void api_round_cancel(struct api_client *a);
bool api_round_running(const struct api_client *a);
/* CLOCK_MONOTONIC time before which the API must not be asked again (429, exhausted budget). */
uint64_t api_retry_after_usec(const struct api_client *a);
/* When to start the next round: api_interval, stretched when a fleet shares the token (see
 * api_pace.h), from the last answer's rate-limit headers and the intervals this client planned
 * before; call once after each successful round (it records the interval planned). first: the
 * round was this client's first, arrived the part of its start spread gone by (1 when none;
 * api_pace_delay says how to draw the delay from them). */
struct api_pace;
void api_pace_next(struct api_client *a, const struct config *c, bool first, double arrived, struct api_pace *ret);

/* One round on a private event loop, for one-shot commands. known_vpc (may be NULL): the
 * droplet's VPC as an earlier round for t said, so that only its peerings are asked.
 * *ret_retry_after (may be NULL) gets the CLOCK_MONOTONIC time before which the API must not be
 * asked again, or 0. */
int api_round_blocking(const struct config *c, const struct api_target *t, const char *known_vpc, struct api_peers *ret,
                       uint64_t *ret_retry_after, struct error *err);
/* Whether a round's error may pass by itself (a timeout, a refused connection, a 429, a 5xx, a
 * list that changed under the pages), as opposed to one that asks for a change (the token, its
 * scopes, the droplet's VPC, an answer that does not parse). */
bool api_error_is_transient(int error);

/* What went wrong in an API round, for the metrics. */
enum api_error_kind {
        API_ERROR_NETWORK,      /* no answer: refused, timed out, broken connection, TLS */
        API_ERROR_RATE_LIMIT,   /* 429, an exhausted token, the agent's own request budget */
        API_ERROR_TOKEN,        /* 401, 403 */
        API_ERROR_HTTP,         /* any other HTTP status */
        API_ERROR_ANSWER,       /* an answer that does not pass, or says the droplet is in no VPC */
        _API_ERROR_KIND_MAX,
};
enum api_error_kind api_error_kind(int error);
/* "network", "rate_limit", "token", "http", "answer". */
const char *api_error_kind_to_string(enum api_error_kind k);
