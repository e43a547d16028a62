/* SPDX-License-Identifier: MIT */
/* The service: an sd-event loop that polls the metadata, heals routes on kernel events, and
 * talks to systemd (READY/RELOADING/STOPPING/STATUS/WATCHDOG). The only mutable state of the
 * program lives in struct daemon here.
 *
 * The metadata fetch runs on libcurl's multi interface inside this loop (http.c), so a
 * metadata service that hangs never blocks healing or the watchdog. Reconciles themselves are
 * synchronous netlink round trips to the kernel: microseconds to milliseconds. */
#include <signal.h>
#include <sys/random.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "api_fetch.h"
#include "daemon.h"
#include "desired.h"
#include "event.h"
#include "http.h"
#include "log.h"
#include "metadata_fetch.h"
#include "nl.h"
#include "reconcile.h"
#include "state.h"

/* Kernel events are coalesced for this long: one heal per burst (a link flap deletes every
 * route at once). */
#define HEAL_DEBOUNCE_USEC (10 * 1000ULL)
#define RETRY_MIN_USEC (1000 * 1000ULL)

enum trigger {
        TRIGGER_POLL,
        TRIGGER_EVENT,
};

struct daemon {
        const struct daemon_options *options;
        struct config *config;
        sd_event *event;
        struct nl_ctx *nl;
        struct nl_monitor *monitor;
        struct http_client *http;
        struct api_client *api;
        sd_event_source *poll_timer;
        sd_event_source *api_timer;
        sd_event_source *heal_timer;
        sd_event_source *signals[3];

        /* The last metadata document that parsed. */
        char *body;
        size_t body_size;
        struct metadata md;
        bool have_md;

        /* source = api: the last complete answer. Until the first one, nothing is changed. */
        struct api_peers peers;
        bool have_api;
        bool peers_changed;         /* log skipped ranges loudly once per change */
        unsigned api_failures;
        uint64_t api_failing_since;
        char api_error[API_ROUND_ERR_MAX];

        /* The last reconcile. */
        struct route_set desired;
        struct route_set own;
        struct plan plan;
        bool last_failed;
        struct link_info link;
        bool have_link;

        bool fetching;
        bool ready;
        bool reloading;
        unsigned failures;
        uint64_t failing_since;     /* realtime seconds */
        uint64_t fetch_duration_usec;
        uint64_t poll_cpu_usec;
        char last_error[512];
        uint64_t last_error_time;
        uint64_t last_success;
        uint64_t in_sync_since;     /* realtime seconds of the last change to the routes */
        char last_status[256];      /* the STATUS= last sent: sent again only when it changes */
        uint64_t reconciles;
        uint64_t heals;
        uint64_t metadata_errors;
        char waiting[256];          /* why routes cannot be installed now, "" when they can */
        char nic_line[RECONCILE_NIC_LINE_MAX]; /* the last "Private NIC …" line logged */
};

static uint64_t random_u64(void) {
        uint64_t v;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v)
                v = now_usec_monotonic() ^ ((uint64_t) getpid() << 32);
        return v;
}

static uint64_t now_sec(void) {
        return now_usec_realtime() / 1000000ULL;
}

/* ---- publishing: state file, metrics, STATUS= ---- */

static void format_status(struct daemon *d, char *buf, size_t size) {
        char gw[IPV4_STRLEN], ago[32];
        size_t n = d->plan.count[PLAN_KEEP] + d->plan.count[PLAN_ADD] + d->plan.count[PLAN_REPLACE] +
                   d->plan.count[PLAN_FOREIGN_EQUAL];

        if (d->failures > 0) {
                snprintf(buf, size, "metadata unreachable for %s, keeping %zu route%s",
                         format_ago(now_sec() - d->failing_since, ago, sizeof ago), d->own.n, d->own.n == 1 ? "" : "s");
                return;
        }
        if (d->api_failures > 0) {
                snprintf(buf, size, "API unreachable for %s, keeping %zu route%s",
                         format_ago(now_sec() - d->api_failing_since, ago, sizeof ago), d->own.n, d->own.n == 1 ? "" : "s");
                return;
        }
        if (!d->have_md) {
                snprintf(buf, size, "waiting for the first metadata answer");
                return;
        }
        if (d->config->source == SOURCE_API && !d->have_api) {
                snprintf(buf, size, "waiting for the first API answer");
                return;
        }
        if (d->waiting[0]) {
                snprintf(buf, size, "waiting: %.200s", d->waiting);
                return;
        }
        if (d->desired.n == 0) {
                snprintf(buf, size, "no routes wanted (vpc_peering_enabled is %s)", tristate_to_string(d->md.peering_enabled));
                return;
        }
        time_t t = (time_t) d->in_sync_since;
        struct tm tm;
        char when[16] = "";
        if (localtime_r(&t, &tm))
                strftime(when, sizeof when, "%H:%M:%S", &tm);
        snprintf(buf, size, "%zu route%s via %s dev %s%s, in sync since %s", n, n == 1 ? "" : "s",
                 ipv4_to_string(d->md.gateway, gw), d->link.ifname,
                 d->plan.count[PLAN_CONFLICT] ? ", with conflicts" : "", when);
}

static void publish(struct daemon *d) {
        struct agent_state s = {
                .pid = getpid(),
                .updated = now_sec(),
                .last_success = d->last_success,
                .last_error_time = d->last_error_time,
                .failing_since = d->failures ? d->failing_since : 0,
                .source = route_source_to_string(d->config->source),
                .have_link = d->have_link,
                .have_metadata = d->have_md,
                .gateway = d->md.gateway,
                .gateway_origin = d->md.gateway_origin,
                .peering_enabled = d->md.peering_enabled,
                .desired = &d->desired,
                .installed = &d->own,
                .plan = &d->plan,
                .peers = d->config->source == SOURCE_API && d->have_api ? &d->peers : NULL,
                .reconciles = d->reconciles,
                .heals = d->heals,
                .metadata_errors = d->metadata_errors,
                .fetch_duration_usec = d->fetch_duration_usec,
                .poll_cpu_usec = d->poll_cpu_usec,
        };
        int r;

        snprintf(s.last_error, sizeof s.last_error, "%s", d->last_error[0] ? d->last_error : d->api_error);
        snprintf(s.ifname, sizeof s.ifname, "%s", d->link.ifname);
        format_status(d, s.status, sizeof s.status);

        r = state_write(d->config->state_file, &s);
        if (r < 0)
                log_debug_errno(r, "Could not write %s: %m", d->config->state_file);
        if (d->config->metrics_file) {
                r = metrics_write(d->config->metrics_file, &s);
                if (r < 0)
                        log_debug_errno(r, "Could not write %s: %m", d->config->metrics_file);
        }
        if (!streq(s.status, d->last_status)) {
                (void) sd_notifyf(false, "STATUS=%s", s.status);
                snprintf(d->last_status, sizeof d->last_status, "%s", s.status);
        }
}

/* ---- reconcile ---- */

static void set_waiting(struct daemon *d, const char *why) {
        if (streq(d->waiting, why))
                return;
        if (*why)
                log_notice("Waiting: %s", why);
        else if (d->waiting[0])
                log_info("No longer waiting: the private NIC is ready");
        snprintf(d->waiting, sizeof d->waiting, "%s", why);
}

static void log_nic_line(struct daemon *d, const struct reconcile *rc) {
        char line[RECONCILE_NIC_LINE_MAX];

        reconcile_nic_line(rc, d->config, line, sizeof line);
        if (!streq(line, d->nic_line)) {
                log_info("%s", line);
                snprintf(d->nic_line, sizeof d->nic_line, "%s", line);
        }
}

/* Reconciles from the last good metadata. Returns 0 when the kernel is as desired (or cannot
 * be yet: waiting), negative when a change failed. */
static int daemon_reconcile(struct daemon *d, enum trigger trigger) {
        _cleanup_reconcile_ struct reconcile rc = {};
        char why[256];
        bool quiet;
        int r;

        if (!d->have_md)
                return 0;
        if (d->config->source == SOURCE_API && !d->have_api)
                return 0; /* no answer yet: nothing is known to be unwanted */
        d->reconciles++;
        rc.md = d->md;
        rc.have_metadata = true;

        r = reconcile_find_link(&rc, d->nl, d->config);
        if (r == -ENODEV) {
                d->have_link = false;
                set_waiting(d, rc.error_msg);
                return 0;
        }
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return r;
        }
        d->link = rc.link;
        d->have_link = true;
        if (reconcile_link_ready(&rc, why, sizeof why) < 0) {
                set_waiting(d, why);
                return 0;
        }
        set_waiting(d, "");
        log_nic_line(d, &rc);

        if (d->config->source == SOURCE_API) {
                r = reconcile_use_peers(&rc, d->nl, d->config, &d->peers, d->peers_changed);
                if (r < 0) {
                        log_error("%s", rc.error_msg);
                        return r;
                }
                d->peers_changed = false;
        }
        r = reconcile_plan(&rc, d->nl, d->config, NL_LIST_FAST, NULL);
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return r;
        }
        /* The very same plan failed last time: say so once, not every round. */
        quiet = d->last_failed && plan_equal(&rc.plan, &d->plan);
        r = reconcile_apply(&rc, d->nl, d->config, quiet);
        if (!plan_conflicts_equal(&rc.plan, &d->plan))
                reconcile_log_conflicts(&rc);
        if (r < 0 && !quiet)
                log_error("%s", rc.error_msg);
        d->last_failed = r < 0;

        if (rc.applied_any || !d->in_sync_since)
                d->in_sync_since = now_sec();
        if (rc.applied_any) {
                if (trigger == TRIGGER_EVENT && rc.applied.ok > 0)
                        d->heals++;
                /* What is installed now, for the state file and the next cheap check. */
                _cleanup_route_set_ struct route_set foreign = {};
                (void) nl_list_routes(d->nl, NL_LIST_FAST, d->config->table, d->config->protocol, rc.link.ifindex,
                                      &rc.desired, &rc.own, &foreign);
        }

        route_set_move(&d->desired, &rc.desired);
        route_set_move(&d->own, &rc.own);
        plan_move(&d->plan, &rc.plan);
        if (r >= 0)
                d->last_success = now_sec();
        return r;
}

/* The metadata did not change: check only that our own routes are still the ones we left.
 * Anything else (a foreign route appearing, the NIC changing) arrives as a kernel event. */
static int daemon_verify(struct daemon *d) {
        _cleanup_route_set_ struct route_set own = {}, foreign = {}, none = {};
        int r;

        if (d->waiting[0] || !d->have_link || d->last_failed)
                return daemon_reconcile(d, TRIGGER_POLL);
        /* Converged (own routes exactly the desired ones): a lookup per route, no table walk. */
        if (reconcile_confirmed(d->nl, d->config, &d->own, &d->desired)) {
                d->reconciles++;
                d->last_success = now_sec();
                return 0;
        }
        r = nl_list_routes(d->nl, NL_LIST_FAST, d->config->table, d->config->protocol, 0, &none, &own, &foreign);
        if (r < 0 || !route_set_equal(&own, &d->own))
                return daemon_reconcile(d, TRIGGER_POLL);
        d->reconciles++;
        d->last_success = now_sec();
        return 0;
}

static void schedule_heal(struct daemon *d, const char *why) {
        uint64_t now;
        int enabled = SD_EVENT_OFF;

        log_debug("Kernel event: %s; checking routes", why);
        (void) sd_event_source_get_enabled(d->heal_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return; /* already pending: this event joins the burst */
        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(d->heal_timer, now + HEAL_DEBOUNCE_USEC);
        (void) sd_event_source_set_enabled(d->heal_timer, SD_EVENT_ONESHOT);
}

static int on_heal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;

        (void) s;
        (void) usec;
        (void) daemon_reconcile(d, TRIGGER_EVENT);
        publish(d);
        return 0;
}

static bool desired_has_prefix(const struct route_set *desired, const struct route *r) {
        for (size_t i = 0; i < desired->n; i++)
                if (route_same_prefix(&desired->routes[i], r))
                        return true;
        return false;
}

static void on_kernel_event(const struct nl_event *ev, void *userdata) {
        struct daemon *d = userdata;

        if (ev->kind == NL_EVENT_OVERFLOW) {
                schedule_heal(d, "event queue overflow");
                return;
        }
        if (ev->self || !d->have_md)
                return;
        switch (ev->kind) {
        case NL_EVENT_ROUTE:
                /* Own routes, and any route in a slot we want (an equal foreign route going away,
                 * or one of another program taking the slot). */
                if (ev->route.table == d->config->table &&
                    (ev->route.protocol == d->config->protocol || desired_has_prefix(&d->desired, &ev->route)))
                        schedule_heal(d, ev->removed ? "route removed" : "route added or changed");
                break;
        case NL_EVENT_LINK:
                if ((d->have_link && ev->ifindex == d->link.ifindex) ||
                    (ev->link.has_mac && memcmp(ev->link.mac, d->md.mac, 6) == 0) ||
                    (d->config->interface && streq(ev->link.ifname, d->config->interface)))
                        schedule_heal(d, "private NIC changed");
                break;
        case NL_EVENT_ADDRESS:
                if (!d->have_link || ev->ifindex == d->link.ifindex)
                        schedule_heal(d, "address changed on the private NIC");
                break;
        default:
                break;
        }
}

/* ---- polling the metadata ---- */

static void schedule_poll(struct daemon *d, uint64_t delay_usec) {
        uint64_t now;

        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(d->poll_timer, now + delay_usec);
        (void) sd_event_source_set_enabled(d->poll_timer, SD_EVENT_ONESHOT);
}

static uint64_t jittered_interval(const struct daemon *d) {
        uint64_t i = d->config->interval_usec;
        /* ±10 %, so that a fleet started together does not poll together. */
        return i - i / 10 + random_u64() % (i / 5 + 1);
}

/* ---- the API (source = api) ---- */

static void schedule_api(struct daemon *d, uint64_t delay_usec) {
        uint64_t now, when, not_before = api_retry_after_usec(d->api);

        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        when = now + delay_usec;
        if (not_before > when)
                when = not_before;
        (void) sd_event_source_set_time(d->api_timer, when);
        (void) sd_event_source_set_enabled(d->api_timer, SD_EVENT_ONESHOT);
}

static bool peers_equal(const struct api_peers *a, const struct api_peers *b) {
        if (a->n != b->n || !streq(a->own_vpc, b->own_vpc))
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (a->peers[i].range.addr != b->peers[i].range.addr || a->peers[i].range.len != b->peers[i].range.len ||
                    !streq(a->peers[i].peering_id, b->peers[i].peering_id))
                        return false;
        return true;
}

static void publish(struct daemon *d);

static void api_failed(struct daemon *d, const char *msg) {
        uint64_t backoff = RETRY_MIN_USEC << (d->api_failures < 16 ? d->api_failures : 16);

        if (backoff > d->config->api_interval_usec)
                backoff = d->config->api_interval_usec;
        d->api_failures++;
        snprintf(d->api_error, sizeof d->api_error, "%s", msg);
        if (d->api_failures == 1) {
                d->api_failing_since = now_sec();
                log_warning("%s; keeping %zu route%s", msg, d->own.n, d->own.n == 1 ? "" : "s");
        } else
                log_debug("%s (failure %u)", msg, d->api_failures);
        schedule_api(d, backoff);
        publish(d);
}

static void on_api_done(int error, const char *msg, struct api_peers *peers, void *userdata) {
        struct daemon *d = userdata;
        char ago[32];

        if (error < 0) {
                api_failed(d, msg);
                return;
        }
        if (d->api_failures > 0)
                log_info("API answers again after %s", format_ago(now_sec() - d->api_failing_since, ago, sizeof ago));
        d->api_failures = 0;
        d->api_error[0] = '\0';
        if (!d->have_api || !peers_equal(&d->peers, peers)) {
                log_info("API: VPC %s has %zu ACTIVE peering%s", peers->own_vpc, peers->n, peers->n == 1 ? "" : "s");
                d->peers_changed = true;
        }
        api_peers_done(&d->peers);
        d->peers = *peers;
        *peers = (struct api_peers) {};
        d->have_api = true;
        (void) daemon_reconcile(d, TRIGGER_POLL);
        schedule_api(d, d->config->api_interval_usec - d->config->api_interval_usec / 10 +
                                random_u64() % (d->config->api_interval_usec / 5 + 1));
        publish(d);
}

static void start_api_round(struct daemon *d) {
        char err[sizeof d->api_error];
        int r;

        if (d->config->source != SOURCE_API || !d->have_md || api_round_running(d->api))
                return;
        if (metadata_require_droplet_id(&d->md, err, sizeof err) < 0) {
                api_failed(d, err);
                return;
        }
        r = api_round_start(d->api, d->config, d->md.droplet_id, on_api_done, d);
        if (r == -EAGAIN)
                schedule_api(d, 0); /* rate limited: the timer waits for the limit to lift */
        else if (r < 0)
                log_error_errno(r, "Could not start an API round: %m");
}

static int on_api_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        start_api_round(userdata);
        return 0;
}

static void notify_ready(struct daemon *d) {
        if (!d->ready || d->reloading) {
                (void) sd_notify(false, "READY=1");
                d->ready = true;
                d->reloading = false;
        }
}

static void metadata_failed(struct daemon *d, const char *msg) {
        uint64_t backoff;
        char ago[32];

        d->metadata_errors++;
        d->failures++;
        if (!d->have_md) {
                /* No metadata yet (the service restarted while the metadata is down): what is
                 * installed is what we keep, and what STATUS= counts. */
                _cleanup_route_set_ struct route_set none = {}, foreign = {};
                (void) nl_list_routes(d->nl, NL_LIST_FAST, d->config->table, d->config->protocol, 0, &none, &d->own,
                                      &foreign);
        }
        snprintf(d->last_error, sizeof d->last_error, "%s", msg);
        d->last_error_time = now_sec();
        backoff = RETRY_MIN_USEC << (d->failures - 1 < 16 ? d->failures - 1 : 16);
        if (backoff > d->config->interval_usec)
                backoff = d->config->interval_usec;
        if (d->failures == 1) {
                d->failing_since = now_sec();
                log_warning("%s; keeping %zu route%s, retrying in %s", msg, d->own.n, d->own.n == 1 ? "" : "s",
                            format_ago(backoff / 1000000ULL, ago, sizeof ago));
        } else
                log_debug("%s (failure %u, retrying in %llu ms)", msg, d->failures, (unsigned long long) (backoff / 1000));
        schedule_poll(d, backoff);
        /* The kernel side can still be checked against the last good metadata. */
        (void) daemon_verify(d);
}

static void metadata_succeeded(struct daemon *d) {
        char ago[32];

        if (d->failures > 0)
                log_info("Metadata service answers again after %s", format_ago(now_sec() - d->failing_since, ago, sizeof ago));
        d->failures = 0;
        d->last_error[0] = '\0';
        schedule_poll(d, jittered_interval(d));
}

static void on_fetch_done(struct http_response *resp, void *userdata) {
        struct daemon *d = userdata;
        _cleanup_reconcile_ struct reconcile rc = {};
        char err[HTTP_ERR_MAX + 256];
        uint64_t cpu_start = cpu_usec();
        int r;

        d->fetching = false;
        d->fetch_duration_usec = resp->duration_usec;
        r = metadata_fetch_check(d->config, resp, err, sizeof err);
        if (r < 0) {
                char msg[sizeof err + 16];
                snprintf(msg, sizeof msg, "metadata: %s", err);
                metadata_failed(d, msg);
                goto done;
        }

        if (d->have_md && resp->size == d->body_size && memcmp(resp->body, d->body, resp->size) == 0) {
                /* Byte-identical to the last good document: nothing to parse or plan. */
                metadata_succeeded(d);
                (void) daemon_verify(d);
                goto done;
        }

        r = reconcile_parse(&rc, d->config, resp->body, resp->size);
        if (r < 0) {
                metadata_failed(d, rc.error_msg);
                goto done;
        }
        free(d->body);
        d->body = TAKE_PTR(resp->body);
        d->body_size = resp->size;
        bool droplet_changed = !d->have_md || d->md.droplet_id != rc.md.droplet_id;
        d->md = rc.md;
        d->have_md = true;
        metadata_succeeded(d);
        (void) daemon_reconcile(d, TRIGGER_POLL);
        if (droplet_changed || !d->have_api)
                start_api_round(d);

done:
        notify_ready(d);
        /* What a poll costs beyond its HTTP exchange: compare, check the kernel, publish. The
         * figure published is that of the previous poll (this one is still publishing). */
        publish(d);
        d->poll_cpu_usec = cpu_usec() - cpu_start;
}

static void start_fetch(struct daemon *d) {
        struct http_request req;
        int r;

        if (d->fetching)
                return;
        metadata_fetch_request(d->config, &req);
        r = http_get(d->http, &req, on_fetch_done, d, NULL);
        if (r < 0) {
                metadata_failed(d, "metadata: could not start a request");
                notify_ready(d);
                publish(d);
                return;
        }
        d->fetching = true;
}

static int on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        start_fetch(userdata);
        return 0;
}

/* ---- signals ---- */

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;

        (void) s;
        (void) sd_notify(false, "STOPPING=1");
        log_info("Stopping on %s; routes stay in place (use \"vpc-peer-routes flush\" to remove them)",
                 strsignal((int) si->ssi_signo));
        return sd_event_exit(d->event, 0);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;
        struct config *c = NULL;
        char err[CONFIG_ERR_MAX + PATH_MAX];
        int r;

        (void) s;
        (void) si;
        (void) sd_notify(false, "RELOADING=1");
        d->reloading = true;
        r = config_load_full(d->options->config_path, d->options->config_explicit, &d->options->overrides, &c, err,
                             sizeof err);
        if (r < 0)
                log_error("Reload: %s; keeping the previous configuration", err);
        else {
                config_free(d->config);
                d->config = c;
                log_info("Reloaded the configuration; polling the metadata now");
                /* A new config may mean a new metadata_url or different routes: parse again. */
                free(d->body);
                d->body = NULL;
                d->body_size = 0;
                d->nic_line[0] = '\0';
        }
        /* Poll now: `systemctl reload` is the one-shot for a running service. */
        api_round_cancel(d->api);
        http_cancel_all(d->http);
        d->fetching = false;
        start_fetch(d);
        start_api_round(d);
        return 0;
}

/* ---- setup ---- */

static int daemon_setup(struct daemon *d) {
        static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Could not block signals: %m");

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Could not create the event loop: %m");
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++) {
                r = sd_event_add_signal(d->event, &d->signals[i], sigs[i], sigs[i] == SIGHUP ? on_reload : on_terminate, d);
                if (r < 0)
                        return log_error_errno(r, "Could not watch signal %d: %m", sigs[i]);
        }
        /* WATCHDOG=1 at half of $WATCHDOG_USEC, from the loop itself: a stuck loop stops it. */
        r = sd_event_set_watchdog(d->event, true);
        if (r < 0)
                log_warning_errno(r, "Could not set up the watchdog: %m");

        r = nl_ctx_open(&d->nl);
        if (r < 0)
                return log_error_errno(r, "Could not open a netlink socket: %m");
        r = nl_monitor_new(d->event, d->nl, on_kernel_event, d, &d->monitor);
        if (r < 0)
                return log_error_errno(r, "Could not subscribe to kernel route, link and address events: %m");
        r = http_client_new(d->event, &d->http);
        if (r >= 0)
                r = api_client_new(d->http, &d->api);
        if (r < 0)
                return log_error_errno(r, "Could not set up the HTTP client: %m");

        /* sd-event's default accuracy is 250 ms: fine for polls (they have ±10 % jitter anyway),
         * far too coarse for healing. */
        r = sd_event_add_time(d->event, &d->poll_timer, CLOCK_MONOTONIC, 0, 100 * 1000ULL, on_poll_timer, d);
        if (r >= 0)
                r = sd_event_add_time(d->event, &d->heal_timer, CLOCK_MONOTONIC, 0, 1, on_heal_timer, d);
        if (r >= 0)
                r = sd_event_add_time(d->event, &d->api_timer, CLOCK_MONOTONIC, 0, 100 * 1000ULL, on_api_timer, d);
        if (r < 0)
                return log_error_errno(r, "Could not create timers: %m");
        (void) sd_event_source_set_enabled(d->heal_timer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(d->api_timer, SD_EVENT_OFF);
        /* The poll timer fires at once: the first poll. */
        return 0;
}

static void daemon_free(struct daemon *d) {
        api_client_free(d->api);
        http_client_free(d->http);
        nl_monitor_free(d->monitor);
        nl_ctx_close(d->nl);
        event_source_disable_unref(d->poll_timer);
        event_source_disable_unref(d->heal_timer);
        event_source_disable_unref(d->api_timer);
        api_peers_done(&d->peers);
        for (size_t i = 0; i < ELEMENTSOF(d->signals); i++)
                event_source_disable_unref(d->signals[i]);
        sd_event_unref(d->event);
        route_set_done(&d->desired);
        route_set_done(&d->own);
        plan_done(&d->plan);
        free(d->body);
        config_free(d->config);
}

int daemon_run(const struct daemon_options *o, struct config *config) {
        struct daemon d = { .options = o, .config = config };
        char t[12];
        int r;

        r = daemon_setup(&d);
        if (r >= 0) {
                log_info("Starting: %s source, protocol %u, table %s, polling every %llu s", route_source_to_string(config->source),
                         config->protocol, table_to_string(config->table, t),
                         (unsigned long long) (config->interval_usec / 1000000ULL));
                r = sd_event_loop(d.event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
        }
        daemon_free(&d);
        return r < 0 ? 1 : 0;
}
