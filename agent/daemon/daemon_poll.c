/* SPDX-License-Identifier: MIT */
/* The service's polls: the metadata every interval (sooner after a failure), the API every
 * api_interval with source = api. A fetch runs on the event loop, so healing never waits for it. */
#include <systemd/sd-daemon.h>

#include "backoff.h"
#include "daemon_internal.h"
#include "log.h"
#include "metadata_fetch.h"

void daemon_schedule_poll(struct daemon *d, uint64_t delay_usec) {
        uint64_t now;

        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(d->poll_timer, now + delay_usec);
        (void) sd_event_source_set_enabled(d->poll_timer, SD_EVENT_ONESHOT);
}

/* The API (source = api). */

void daemon_schedule_api(struct daemon *d, uint64_t delay_usec) {
        uint64_t now, when, not_before = api_retry_after_usec(d->api);

        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        when = now + delay_usec;
        /* Rate limited: not before the API said, and not all of a fleet at that very second. */
        if (not_before > when)
                when = now + backoff_spread(not_before > now ? not_before - now : 0);
        (void) sd_event_source_set_time(d->api_timer, when);
        (void) sd_event_source_set_enabled(d->api_timer, SD_EVENT_ONESHOT);
}

/* What is left of the start spread, and the part of it gone by (1 when there is none). */
static uint64_t start_left(const struct daemon *d, uint64_t now) {
        return usec_until(d->src.api_start_end, now);
}

static double start_arrived(const struct daemon *d, uint64_t now) {
        if (d->src.api_start_spread == 0)
                return 1.0;
        return 1.0 - (double) start_left(d, now) / (double) d->src.api_start_spread;
}

/* api_interval, or longer when a fleet shares the token (api_pace.h), after a round (first: the
 * service's first); said in the log when it changes by more than a quarter. */
uint64_t daemon_api_interval(struct daemon *d, bool first) {
        uint64_t was = d->src.pace_logged, every;
        char t[32];

        api_pace_next(d->api, d->config, first, start_arrived(d, now_usec_monotonic()), &d->src.pace);
        every = d->src.pace.interval;
        if (d->src.pace.limit <= 0)
                return every;
        if (d->src.pace.exhausted) {
                log_warning("API: the token has %lld of %lld requests left in its window; waiting %s for the oldest to expire",
                            (long long) (d->src.pace.limit - (int64_t) d->src.pace.used), (long long) d->src.pace.limit,
                            format_timespan(every, false, t));
                return every;
        }
        if (was == 0 ? every <= api_interval(d->config) : every <= was + was / 4 && every + every / 4 >= was)
                return every;
        d->src.pace_logged = every;
        if (every <= api_interval(d->config))
                log_info("API: the token's use (%llu of %lld requests in its window) leaves room; asking every %s",
                         (unsigned long long) d->src.pace.used, (long long) d->src.pace.limit, format_timespan(every, false, t));
        else
                log_info("API: the token is shared by about %.0f agents like this one (%llu of %lld requests in its window); "
                         "asking every %s to keep them under %u%%",
                         d->src.pace.fleet, (unsigned long long) d->src.pace.used, (long long) d->src.pace.limit,
                         format_timespan(every, false, t), d->config->api_budget);
        return every;
}

/* A held withdrawal (withdrawal.h) waits for a second answer of its kind, exactly an interval
 * after the first: bring that poll or round forward. Called after every reconcile a poll makes. */
static void ask_confirmation(struct daemon *d) {
        const struct withdrawal *w = &d->rt.withdrawal;

        if (!w->pending || w->since == d->src.confirm_since)
                return;
        d->src.confirm_since = w->since;
        if (w->by == ANSWER_API)
                daemon_schedule_api(d, api_interval(d->config));
        else
                daemon_schedule_poll(d, d->config->interval_usec);
}

void daemon_sources_new_config(struct daemon *d) {
        /* A new config may mean a new metadata_url or different routes: parse again. */
        free(d->src.body);
        d->src.body = NULL;
        d->src.body_size = 0;
        /* A failure of the old configuration is no news about the new one: the round the reload
         * starts says again if the API still fails. */
        d->src.api_failures = 0;
        d->src.api_failing_since = 0;
        d->src.api_error[0] = '\0';
        if (d->config->source == SOURCE_API)
                return; /* the last good answer stays the desired set until the next one */
        api_peers_done(&d->src.peers);
        d->src.have_api = false;
        d->src.peers_generation++;
        d->src.pace = (struct api_pace) {};
        d->src.pace_logged = 0;
}

void daemon_poll_reload(struct daemon *d, bool config_changed) {
        d->src.reloading = true;
        /* A reload asks now, even during the start spread, which then no longer applies. */
        d->src.api_start_at = d->src.api_start_end = d->src.api_start_spread = 0;
        if (config_changed)
                daemon_sources_new_config(d);
        /* Poll now: `systemctl reload` is the one-shot for a running service. */
        api_round_cancel(d->api);
        http_cancel_all(d->http);
        d->src.fetching = false;
        daemon_start_fetch(d);
        daemon_start_api_round(d);
}

void daemon_sources_done(struct daemon *d) {
        api_peers_done(&d->src.peers);
        free(d->src.body);
}

static void api_failed(struct daemon *d, int error, const char *msg) {
        /* Up to the paced interval: a fleet whose API fails together must not retry faster than
         * it asks when all is well. */
        uint64_t backoff = backoff_delay(d->src.api_failures, RETRY_MIN_USEC, MAX(api_interval(d->config), d->src.pace.interval));

        d->src.api_failures++;
        d->src.api_errors[api_error_kind(error)]++;
        snprintf(d->src.api_error, sizeof d->src.api_error, "%s", msg);
        if (d->src.api_failures == 1) {
                d->src.api_failing_since = now_usec_monotonic();
                log_warning("%s; keeping %zu route%s", msg, d->rt.own.n, d->rt.own.n == 1 ? "" : "s");
        } else
                log_debug("%s (failure %u)", msg, d->src.api_failures);
        daemon_schedule_api(d, backoff);
        daemon_publish(d);
}

static void on_api_done(int error, const struct error *err, struct api_peers *peers, void *userdata) {
        struct daemon *d = userdata;
        bool first = !d->src.have_api;
        char ago[32];

        if (error < 0) {
                api_failed(d, error, err->msg);
                return;
        }
        if (d->src.api_failures > 0)
                log_info("API answers again after %s", format_timespan((daemon_elapsed_sec(d->src.api_failing_since, now_usec_monotonic())) * USEC_PER_SEC, false, ago));
        d->src.api_failures = 0;
        d->src.api_error[0] = '\0';
        if (!d->src.have_api || !api_peers_equal(&d->src.peers, peers)) {
                log_info("API: VPC %s has %zu ACTIVE peering%s", peers->own_vpc, peers->n, peers->n == 1 ? "" : "s");
                d->src.peers_generation++;
        }
        api_peers_done(&d->src.peers);
        d->src.peers = *peers;
        *peers = (struct api_peers) {};
        d->src.have_api = true;
        /* First the next round, which a held withdrawal may bring forward to confirm it. */
        (void) daemon_api_interval(d, first);
        daemon_schedule_api(d, api_pace_delay(&d->src.pace, first, start_left(d, now_usec_monotonic()), backoff_uniform()));
        if (d->src.pace.limit > 0 && !d->src.pace.exhausted)
                api_fleet_hint_save(d->config, d->src.pace.fleet, &d->src.fleet_kept);
        (void) daemon_reconcile(d, TRIGGER_API);
        ask_confirmation(d);
        daemon_publish(d);
}

/* The service's first round: a fleet booted at once must not ask all in its first seconds (the
 * token allows 250 requests a minute). It waits a draw from the spread the fleet the last run saw
 * needs (a droplet alone: under a second; a new droplet, knowing nothing: 9 minutes). false
 * while it waits (the API timer is set). */
static bool wait_start(struct daemon *d) {
        uint64_t now = now_usec_monotonic(), minute = 60 * USEC_PER_SEC / api_time_scale();
        double fleet;
        char t[FORMAT_TIMESPAN_MAX], spread[FORMAT_TIMESPAN_MAX], whose[96];

        if (!d->src.api_start_drawn) {
                d->src.api_start_drawn = true;
                d->src.fleet_kept = fleet = api_fleet_hint_read(d->config);
                d->src.api_start_spread = api_pace_start_spread(fleet, minute);
                d->src.api_start_end = now + d->src.api_start_spread;
                d->src.api_start_at = now + (uint64_t) (backoff_uniform() * (double) d->src.api_start_spread);
                if (fleet > 0)
                        snprintf(whose, sizeof whose, "the token was shared by about %.0f agents: their starts", fleet);
                else
                        snprintf(whose, sizeof whose,
                                 "a new droplet does not know how many share the token: the starts of a fleet");
                if (fleet <= 0 || usec_until(d->src.api_start_at, now) >= USEC_PER_SEC)
                        log_info("API: first round in %s (%s spread over %s)",
                                 format_timespan(d->src.api_start_at - now, false, t), whose,
                                 format_timespan(d->src.api_start_spread, false, spread));
        }
        if (now >= d->src.api_start_at)
                return true;
        daemon_schedule_api(d, d->src.api_start_at - now);
        return false;
}

void daemon_start_api_round(struct daemon *d) {
        struct error err = {0};
        int r;

        if (d->config->source != SOURCE_API || !d->src.have_md || api_round_running(d->api))
                return;
        if (metadata_require_droplet_id(&d->src.md, &err) < 0) {
                api_failed(d, -EBADMSG, err.msg); /* the metadata has no droplet_id to ask about */
                return;
        }
        if (!wait_start(d))
                return;
        r = api_round_start(d->api, d->config,
                            &(struct api_target) { d->src.md.droplet_id, d->src.md.address, d->src.md.prefixlen }, on_api_done, d);
        if (r == -EAGAIN)
                daemon_schedule_api(d, 0); /* rate limited: the timer waits for the limit to lift */
        else if (r < 0)
                log_error_errno(r, "Could not start an API round: %m");
}

int daemon_on_api_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        daemon_start_api_round(userdata);
        return 0;
}

static void notify_ready(struct daemon *d) {
        if (!d->src.ready || d->src.reloading) {
                (void) sd_notify(false, "READY=1");
                d->src.ready = true;
                d->src.reloading = false;
        }
}

/* invalid: the service answered, but with a document that does not pass. */
static void metadata_failed(struct daemon *d, const char *msg, bool invalid) {
        uint64_t backoff;
        char ago[32];

        d->src.metadata_errors++;
        d->src.failures++;
        if (!d->src.have_md) {
                /* No metadata yet (the service restarted while the metadata is down): what is
                 * installed is what we keep, and what STATUS= counts. */
                daemon_routes_read_installed(d);
        }
        d->src.metadata_invalid = invalid;
        snprintf(d->src.last_error, sizeof d->src.last_error, "%s", msg);
        d->src.last_error_time = daemon_now_sec();
        backoff = backoff_delay(d->src.failures - 1, RETRY_MIN_USEC, d->config->interval_usec);
        if (d->src.failures == 1) {
                d->src.failing_since = now_usec_monotonic();
                d->src.failing_since_wall = daemon_now_sec();
                log_warning("%s; keeping %zu route%s, retrying in %s", msg, d->rt.own.n, d->rt.own.n == 1 ? "" : "s",
                            format_timespan(backoff, false, ago));
        } else
                log_debug("%s (failure %u, retrying in %llu ms)", msg, d->src.failures, (unsigned long long) (backoff / 1000));
        daemon_schedule_poll(d, backoff);
        /* The kernel side can still be checked against the last good metadata. */
        (void) daemon_check(d, TRIGGER_RETRY);
        ask_confirmation(d);
}

static void metadata_succeeded(struct daemon *d) {
        char ago[32];

        if (d->src.failures > 0)
                log_info("Metadata service answers again after %s", format_timespan((daemon_elapsed_sec(d->src.failing_since, now_usec_monotonic())) * USEC_PER_SEC, false, ago));
        d->src.failures = 0;
        d->src.last_error[0] = '\0';
        daemon_schedule_poll(d, backoff_jitter(d->config->interval_usec));
}

static void on_fetch_done(struct http_response *resp, void *userdata) {
        struct daemon *d = userdata;
        _cleanup_reconcile_ struct reconcile rc = {};
        struct error err = {0};
        uint64_t cpu_start = cpu_usec();
        int r;

        d->src.fetching = false;
        d->src.fetch_duration_usec = resp->duration_usec;
        r = metadata_fetch_check(d->config, resp, &err);
        if (r < 0) {
                char msg[sizeof err + 16];
                snprintf(msg, sizeof msg, "metadata: %s", err.msg);
                metadata_failed(d, msg, false);
                goto done;
        }

        if (d->src.have_md && resp->size == d->src.body_size && memcmp(resp->body, d->src.body, resp->size) == 0) {
                /* Byte-identical to the last good document: nothing to parse or plan. */
                metadata_succeeded(d);
                (void) daemon_check(d, TRIGGER_METADATA);
                ask_confirmation(d);
                goto done;
        }

        r = reconcile_parse(&rc, d->config, resp->body, resp->size);
        if (r < 0) {
                metadata_failed(d, rc.err.msg, true);
                goto done;
        }
        free(d->src.body);
        d->src.body = TAKE_PTR(resp->body);
        d->src.body_size = resp->size;
        /* Another droplet, or the droplet in another place (a VPC migration changes the private
         * address): the API is asked now, and its round reads the droplet's VPC again. */
        bool droplet_changed = !d->src.have_md || d->src.md.droplet_id != rc.md.droplet_id ||
                               d->src.md.address != rc.md.address || d->src.md.prefixlen != rc.md.prefixlen;
        d->src.md = rc.md;
        d->src.have_md = true;
        metadata_succeeded(d);
        (void) daemon_reconcile(d, TRIGGER_METADATA);
        ask_confirmation(d);
        if (droplet_changed || !d->src.have_api)
                daemon_start_api_round(d);

done:
        notify_ready(d);
        /* What a poll costs beyond its HTTP exchange: compare, check the kernel, publish. The
         * figure published is that of the previous poll (this one is still publishing). */
        daemon_publish(d);
        d->src.poll_cpu_usec = cpu_usec() - cpu_start;
}

void daemon_start_fetch(struct daemon *d) {
        struct http_request req;
        int r;

        if (d->src.fetching)
                return;
        metadata_fetch_request(d->config, &req);
        r = http_get(d->http, &req, on_fetch_done, d, NULL);
        if (r < 0) {
                metadata_failed(d, "metadata: could not start a request", false);
                notify_ready(d);
                daemon_publish(d);
                return;
        }
        d->src.fetching = true;
}

int daemon_on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) s;
        (void) usec;
        daemon_start_fetch(userdata);
        return 0;
}
