/* SPDX-License-Identifier: MIT */
/* The API round as a small state machine of chained GETs. Any failure ends the round with an
 * error and no result: the caller keeps its last good set, so nothing is ever removed because
 * the API misbehaved. */
#include <stdarg.h>

#include "api_round_internal.h"
#include "backoff.h"
#include "log.h"
#include "url.h"

/* How long the droplet's VPC is taken as known without a sign that it changed: 6 hours, and up
 * to 6 more, so that a fleet started together does not read its droplets together again. */
#define VPC_KNOWN_USEC (6ULL * 3600 * USEC_PER_SEC)

int api_client_new(struct http_client *http, struct api_client **ret) {
        struct api_client *a = calloc(1, sizeof *a);

        if (!a)
                return -ENOMEM;
        a->http = http;
        if (api_budget_init(&a->budget, api_time_scale()) < 0) {
                api_client_free(a);
                return -ENOMEM;
        }
        *ret = a;
        return 0;
}

static void round_reset(struct api_client *a) {
        a->step = STEP_IDLE;
        free(a->base);
        free(a->ca_file);
        free(a->url);
        secret_free(a->token);
        free(a->active);
        free(a->waiting);
        a->base = a->ca_file = a->url = a->token = NULL;
        a->active = NULL;
        a->waiting = NULL;
        a->n_active = a->cap_active = a->vpc_next = 0;
        a->n_waiting = a->cap_waiting = 0;
        a->pages = a->requests = a->droplet_reads = 0;
        a->received = a->total = 0;
        a->has_total = false;
        a->own_vpc[0] = '\0';
        a->vpc_remembered = false;
}

void api_client_free(struct api_client *a) {
        if (!a)
                return;
        round_reset(a);
        api_budget_done(&a->budget);
        api_memory_free(&a->cache, &a->notes);
        free(a);
}

bool api_round_running(const struct api_client *a) {
        return a->step != STEP_IDLE;
}

uint64_t api_retry_after_usec(const struct api_client *a) {
        return a->retry_after;
}

void api_client_forget_vpc(struct api_client *a) {
        a->vpc_known = false;
}

void api_client_assume_vpc(struct api_client *a, const struct api_target *t, const char *vpc) {
        snprintf(a->vpc, sizeof a->vpc, "%s", vpc);
        a->vpc_target = *t;
        a->vpc_known = true;
        a->vpc_until = now_usec_monotonic() +
                       (uint64_t) ((1.0 + backoff_uniform()) * (double) VPC_KNOWN_USEC / (double) api_time_scale());
}

static bool target_equal(const struct api_target *x, const struct api_target *y) {
        return x->droplet_id == y->droplet_id && x->address == y->address && x->prefixlen == y->prefixlen;
}

void api_round_cancel(struct api_client *a) {
        if (a->step == STEP_IDLE)
                return;
        a->generation++;
        round_reset(a);
}

/* Ends the round: with a result on success, with err on failure. */
static void round_finish(struct api_client *a, int error, const struct error *err, struct api_peers *peers) {
        api_done_fn done = a->done;
        void *userdata = a->userdata;

        /* What a steady round costs: the droplet's read comes once in hours. */
        if (a->requests > a->droplet_reads)
                a->rate.last_round_requests = a->requests - a->droplet_reads;
        round_reset(a);
        done(error, err, peers, userdata);
}

void api_round_fail(struct api_client *a, int error, const char *fmt, ...) {
        struct error err;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err.msg, sizeof err.msg, fmt, ap);
        va_end(ap);
        round_finish(a, error < 0 ? error : -EIO, &err, NULL);
}

struct request_ctx {
        struct api_client *client;
        uint64_t generation;
};

static void on_response(struct http_response *resp, void *userdata);

const char *api_round_path(const struct api_client *a, const char *url) {
        size_t l = strlen(a->base);
        return strncmp(url, a->base, l) == 0 ? url + l : url;
}

void api_round_get(struct api_client *a, char *url) {
        struct http_request req = {
                .url = url,
                .connect_timeout_usec = a->connect_timeout_usec,
                .timeout_usec = a->timeout_usec,
                .max_size = API_MAX_BODY,
                .bearer_token = a->token,
                .ca_file = a->ca_file,
                .headers = api_rate_headers,
        };
        uint64_t now = now_usec_monotonic(), slot;
        struct request_ctx *ctx;
        int r;

        free(a->url);
        a->url = url;
        /* The last answer of this round said the token has nothing left in its window
         * (ratelimit-remaining: 0): the next request would only meet a 429. */
        if (a->retry_after > now) {
                char wait[32];
                api_round_fail(a, -EBUSY, "API: the token has no request left in its window (ratelimit-remaining: 0); "
                           "next request in %s",
                           format_timespan((usec_until(a->retry_after, now) / 1000000ULL + 1) * USEC_PER_SEC, false, wait));
                return;
        }
        slot = api_budget_next_slot(&a->budget, now);
        if (slot) {
                a->retry_after = slot;
                api_round_fail(a, -EAGAIN, "API: request budget used up (%d a minute, %d an hour); next request in %llu s",
                           API_BUDGET_MINUTE, API_BUDGET_HOUR, (unsigned long long) (usec_until(slot, now) / 1000000ULL + 1));
                return;
        }
        ctx = malloc(sizeof *ctx);
        if (!ctx) {
                api_round_fail(a, -ENOMEM, "API: out of memory");
                return;
        }
        *ctx = (struct request_ctx) { .client = a, .generation = a->generation };
        r = http_get(a->http, &req, on_response, ctx, free);
        if (r < 0) {
                free(ctx);
                api_round_fail(a, r, "API: could not start a request: %s", strerror(-r));
                return;
        }
        api_budget_spend(&a->budget, now);
        a->requests++;
}

static void get_vpc_or_finish(struct api_client *a);

bool api_round_follow(struct api_client *a, char *next, const char *what) {
        char q[QUOTE_BUF];

        /* Only ever to the API we were configured with: the token goes with the request. */
        if (!url_same_origin(next, a->base)) {
                api_round_fail(a, -EPERM, "API: links.pages.next \"%s\" points away from %s; not following it",
                               str_quote(next, strlen(next), 120, q, sizeof q), a->base);
                free(next);
                return false;
        }
        if (++a->pages >= MAX_PAGES || streq(next, a->url)) {
                api_round_fail(a, -ELOOP, "API: %s do not end after %u pages; giving up this round", what, a->pages);
                free(next);
                return false;
        }
        api_round_get(a, next);
        return true;
}

void api_round_succeed(struct api_client *a) {
        struct api_peers peers = {};

        memcpy(peers.own_vpc, a->own_vpc, UUID_STRLEN);
        peers.waiting = TAKE_PTR(a->waiting);
        peers.n_waiting = a->n_waiting;
        a->n_waiting = a->cap_waiting = 0;
        if (a->n_active > 0) {
                peers.peers = calloc(a->n_active, sizeof *peers.peers);
                if (!peers.peers) {
                        api_peers_done(&peers);
                        api_round_fail(a, -ENOMEM, "API: out of memory");
                        return;
                }
        }
        for (size_t i = 0; i < a->n_active; i++) {
                const struct api_peering *p = &a->active[i];
                const char *other = api_peering_other_vpc(p, a->own_vpc);
                const struct vpc_cache_entry *vpc = vpc_cache_find(&a->cache, other);
                struct api_peer *out;
                if (!vpc)
                        continue; /* cannot happen: every active peer's VPC was fetched */
                out = &peers.peers[peers.n++];
                out->range = vpc->range;
                snprintf(out->peering_id, sizeof out->peering_id, "%s", p->id);
                snprintf(out->peering_name, sizeof out->peering_name, "%s", p->name);
                snprintf(out->vpc_id, sizeof out->vpc_id, "%s", other);
                snprintf(out->vpc_name, sizeof out->vpc_name, "%s", vpc->name);
        }
        api_peers_sort(&peers);
        peers.nat_checked = a->nat_mode != NAT_OFF;
        peers.nat_found = a->nat_found;
        if (a->nat_found)
                peers.nat = a->nat;
        /* VPCs no longer peered leave the cache. */
        api_memory_sweep(&a->cache, &a->notes);
        round_finish(a, 0, NULL, &peers);
        api_peers_done(&peers);
}

static void get_vpc_or_finish(struct api_client *a) {
        char *url;

        while (a->vpc_next < a->n_active) {
                const struct api_peering *p = &a->active[a->vpc_next];
                const char *other = api_peering_other_vpc(p, a->own_vpc);
                struct vpc_cache_entry *vpc = vpc_cache_find(&a->cache, other);
                if (!vpc) {
                        a->step = STEP_VPCS;
                        if (asprintf(&url, "%s/v2/vpcs/%s", a->base, other) < 0) {
                                api_round_fail(a, -ENOMEM, "API: out of memory");
                                return;
                        }
                        api_round_get(a, url);
                        return;
                }
                vpc->used = true;
                a->vpc_next++;
        }
        /* With nat_gateway, the VPC's NAT gateways come last. */
        if (a->nat_mode != NAT_OFF)
                api_nat_start(a);
        else
                api_round_succeed(a);
}

static int add_active(struct api_client *a, const struct api_peering *p) {
        if (GREEDY_REALLOC(a->active, a->cap_active, a->n_active + 1) < 0)
                return -ENOMEM;
        a->active[a->n_active++] = *p;
        return 0;
}

static int add_waiting(struct api_client *a, const struct api_peering *p) {
        if (GREEDY_REALLOC(a->waiting, a->cap_waiting, a->n_waiting + 1) < 0)
                return -ENOMEM;
        struct api_waiting *w = &a->waiting[a->n_waiting++];
        snprintf(w->peering_id, sizeof w->peering_id, "%s", p->id);
        snprintf(w->peering_name, sizeof w->peering_name, "%s", p->name);
        return 0;
}

/* What one peering of a page means for this droplet: a route (ACTIVE), something to wait for
 * (PROVISIONING), or nothing. */
static int take_peering(struct api_client *a, const struct api_peering *p) {
        bool ours = streq(p->vpc_ids[0], a->own_vpc) || (p->n_vpc_ids > 1 && streq(p->vpc_ids[1], a->own_vpc));

        if (!ours || (p->n_vpc_ids > 1 && streq(p->vpc_ids[0], p->vpc_ids[1]))) {
                log_debug("API: peering %s (%s) does not join our VPC %s; ignoring it", p->id, p->name, a->own_vpc);
                return 0;
        }
        if (p->n_vpc_ids < 2) {
                if (notes_first(&a->notes, p->id, "one VPC"))
                        log_warning("API: peering %s (%s) names only the VPC %s in vpc_ids; without the other VPC there "
                                    "is nothing to route", p->id, p->name, p->vpc_ids[0]);
                return 0;
        }
        switch (p->status) {
        case PEERING_ACTIVE:
                return add_active(a, p);
        case PEERING_PROVISIONING:
                log_debug("API: peering %s (%s) is PROVISIONING; its route comes once it is ACTIVE", p->id, p->name);
                return add_waiting(a, p);
        case PEERING_DELETING:
                log_debug("API: peering %s (%s) is DELETING; no route for it", p->id, p->name);
                return 0;
        default:
                if (notes_first(&a->notes, p->id, p->status_text))
                        log_warning("API: peering %s (%s) has the status \"%s\", which this agent does not know; "
                                    "treating it as not ACTIVE", p->id, p->name, p->status_text);
                return 0;
        }
}

static void handle_peerings(struct api_client *a, const char *body, size_t size) {
        struct api_peerings_page page = {};
        struct error err = {0};
        int r;

        r = api_parse_peerings_page(body, size, &page, &err);
        if (r < 0) {
                api_round_fail(a, r, "API: GET %s: %s", api_round_path(a, a->url), err.msg);
                return;
        }
        /* meta.total counts the peerings of all pages: a page that says otherwise than the first,
         * or pages that together hold another number, mean the list changed under us or pages
         * went missing. Either way this answer is not the whole truth. */
        if (page.has_total && a->pages > 0 && (!a->has_total || page.total != a->total)) {
                api_round_fail(a, -EBADMSG, "API: GET %s: meta.total is %llu, but the first page said %llu%s; not trusting this answer",
                           api_round_path(a, a->url), (unsigned long long) page.total, (unsigned long long) a->total,
                           a->has_total ? "" : " (nothing)");
                api_peerings_page_done(&page);
                return;
        }
        if (a->pages == 0) {
                a->has_total = page.has_total;
                a->total = page.total;
        }
        a->received += page.n;
        for (size_t i = 0; i < page.n; i++) {
                if ((r = take_peering(a, &page.peerings[i])) < 0) {
                        api_peerings_page_done(&page);
                        api_round_fail(a, r, "API: out of memory");
                        return;
                }
        }
        if (page.next) {
                char *next = TAKE_PTR(page.next);
                api_peerings_page_done(&page);
                (void) api_round_follow(a, next, "peerings");
                return;
        }
        api_peerings_page_done(&page);
        if (a->has_total && a->received != a->total) {
                api_round_fail(a, -EBADMSG, "API: the pages held %llu peerings, but meta.total says %llu; not trusting this answer",
                           (unsigned long long) a->received, (unsigned long long) a->total);
                return;
        }
        a->vpc_next = 0;
        get_vpc_or_finish(a);
}

static void remember_vpc(struct api_client *a) {
        if (a->vpc[0] && !streq(a->vpc, a->own_vpc))
                log_info("API: droplet %llu is now in VPC %s (it was in %s)", (unsigned long long) a->target.droplet_id,
                         a->own_vpc, a->vpc);
        api_client_assume_vpc(a, &a->target, a->own_vpc);
}

static int get_droplet(struct api_client *a) {
        char *url;

        if (asprintf(&url, "%s/v2/droplets/%llu", a->base, (unsigned long long) a->target.droplet_id) < 0)
                return -ENOMEM;
        a->step = STEP_DROPLET;
        a->droplet_reads++;
        api_round_get(a, url);
        return 0;
}

static int get_peerings(struct api_client *a) {
        char *url;

        if (asprintf(&url, "%s/v2/vpcs/%s/peerings?per_page=%d", a->base, a->own_vpc, PER_PAGE) < 0)
                return -ENOMEM;
        a->step = STEP_PEERINGS;
        api_round_get(a, url);
        return 0;
}

static void handle_ok(struct api_client *a, const char *body, size_t size) {
        struct error err = {0};
        struct api_vpc vpc;
        int r;

        switch (a->step) {
        case STEP_DROPLET:
                r = api_parse_droplet(body, size, a->own_vpc, &err);
                if (r < 0) {
                        api_round_fail(a, r, "API: GET %s: %s", api_round_path(a, a->url), err.msg);
                        return;
                }
                if (!a->own_vpc[0]) {
                        a->vpc_known = false;
                        api_round_fail(a, -ENXIO, "API: GET %s: droplet.vpc_uuid is null; the droplet is in no VPC, so no "
                                   "peering can reach it", api_round_path(a, a->url));
                        return;
                }
                remember_vpc(a);
                if (get_peerings(a) < 0)
                        api_round_fail(a, -ENOMEM, "API: out of memory");
                return;
        case STEP_PEERINGS:
                handle_peerings(a, body, size);
                return;
        case STEP_NAT:
                api_nat_handle(a, body, size);
                return;
        case STEP_VPCS: {
                const struct api_peering *p = &a->active[a->vpc_next];
                const char *other = api_peering_other_vpc(p, a->own_vpc);
                r = api_parse_vpc(body, size, &vpc, &err);
                if (r < 0) {
                        api_round_fail(a, r, "API: GET %s: %s", api_round_path(a, a->url), err.msg);
                        return;
                }
                if (!streq(vpc.id, other)) {
                        api_round_fail(a, -EINVAL, "API: GET %s answered for VPC %s", api_round_path(a, a->url), vpc.id);
                        return;
                }
                if (vpc_cache_add(&a->cache, &vpc) < 0) {
                        api_round_fail(a, -ENOMEM, "API: out of memory");
                        return;
                }
                get_vpc_or_finish(a); /* marks it used */
                return;
        }
        default:
                return;
        }
}

static void on_response(struct http_response *resp, void *userdata) {
        struct request_ctx *ctx = userdata;
        struct api_client *a = ctx->client;
        bool stale = ctx->generation != a->generation || a->step == STEP_IDLE;
        char msg[160], wait[32];
        uint64_t until;

        free(ctx);
        if (stale)
                return;
        if (resp->error < 0) {
                api_round_fail(a, resp->error, "API: could not fetch %s: %s", a->url, resp->err.msg);
                return;
        }
        until = api_rate_read(&a->rate, resp);
        if (until > a->retry_after)
                a->retry_after = until;

        if (resp->status == 200) {
                handle_ok(a, resp->body, resp->size);
                return;
        }
        /* The remembered VPC is gone (the droplet moved, the VPC was deleted): ask the droplet. */
        if (resp->status == 404 && a->step == STEP_PEERINGS && a->vpc_remembered && a->pages == 0) {
                log_info("API: VPC %s answers 404 (gone); reading droplet %llu's VPC again", a->own_vpc,
                         (unsigned long long) a->target.droplet_id);
                a->vpc_known = false;
                a->vpc_remembered = false;
                a->own_vpc[0] = '\0';
                if (get_droplet(a) < 0)
                        api_round_fail(a, -ENOMEM, "API: out of memory");
                return;
        }
        api_parse_error_message(resp->body, resp->size, msg, sizeof msg);
        switch (resp->status) {
        case 401:
                api_round_fail(a, -EACCES,
                           "API: the token was rejected (HTTP 401%s%s%s); check the API token file: it must be a valid "
                           "token with read access to droplets and VPCs (scopes droplet:read and vpc:read)",
                           msg[0] ? ": \"" : "", msg, msg[0] ? "\"" : "");
                return;
        case 403:
                /* The scope each endpoint needs, from DigitalOcean's specification. */
                api_round_fail(a, -EACCES,
                           "API: the token may not read %s (HTTP 403%s%s%s); it lacks the %s scope (the agent needs "
                           "droplet:read and vpc:read)",
                           api_round_path(a, a->url), msg[0] ? ": \"" : "", msg, msg[0] ? "\"" : "",
                           a->step == STEP_DROPLET ? "droplet:read" : a->step == STEP_NAT ? "nat_gateway:read" : "vpc:read");
                return;
        case 429:
                api_round_fail(a, -EBUSY, "API: rate limited (HTTP 429); next request in %s",
                           format_timespan((usec_until(a->retry_after, now_usec_monotonic()) / 1000000ULL + 1) * USEC_PER_SEC, false, wait));
                return;
        default:
                api_round_fail(a, -EREMOTEIO, "API: GET %s answered HTTP %ld%s%s%s", api_round_path(a, a->url), resp->status,
                           msg[0] ? ": \"" : "", msg, msg[0] ? "\"" : "");
                return;
        }
}

int api_round_start(struct api_client *a, const struct config *c, const struct api_target *t, api_done_fn done,
                    void *userdata) {
        uint64_t now = now_usec_monotonic();
        int r;

        if (a->step != STEP_IDLE)
                return -EBUSY;
        if (a->retry_after > now)
                return -EAGAIN;
        a->base = strdup(c->api_url);
        a->token = c->api_token ? strdup(c->api_token) : NULL;
        a->ca_file = c->api_ca_file ? strdup(c->api_ca_file) : NULL;
        if (!a->base || !a->token || (c->api_ca_file && !a->ca_file)) {
                round_reset(a);
                return -ENOMEM;
        }
        a->target = *t;
        a->nat_mode = c->nat_gateway.mode;
        a->nat_address = c->nat_gateway.address;
        a->nat_found = false;
        a->connect_timeout_usec = c->connect_timeout_usec;
        a->timeout_usec = c->timeout_usec;
        a->done = done;
        a->userdata = userdata;
        /* Steady state: the peerings of the VPC the droplet was in, one request. */
        if (a->vpc_known && target_equal(&a->vpc_target, t) && now < a->vpc_until) {
                memcpy(a->own_vpc, a->vpc, UUID_STRLEN);
                a->vpc_remembered = true;
                r = get_peerings(a);
        } else
                r = get_droplet(a);
        if (r < 0) {
                round_reset(a);
                return r;
        }
        return 0;
}

void api_pace_next(struct api_client *a, const struct config *c, bool first, double arrived, struct api_pace *ret) {
        api_rate_pace(&a->rate, c, first, api_budget_hour_count(&a->budget, now_usec_monotonic()), arrived, ret);
}
