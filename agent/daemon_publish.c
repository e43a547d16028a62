/* SPDX-License-Identifier: MIT */
/* What the service tells the world after each reconcile: the state file that `status` reads,
 * the Prometheus textfile, and systemd's STATUS= line. */
#include <systemd/sd-daemon.h>
#include <time.h>

#include "daemon_internal.h"
#include "log.h"
#include "state.h"

/* The one line systemd shows (STATUS=) and status repeats. */
static void format_status(struct daemon *d, char *buf, size_t size) {
        char summary[256], ago[32];

        if (d->failures > 0) {
                snprintf(buf, size, "metadata unreachable for %s, keeping %zu route%s",
                         format_ago(daemon_now_sec() - d->failing_since, ago, sizeof ago), d->own.n, d->own.n == 1 ? "" : "s");
                return;
        }
        if (d->api_failures > 0) {
                snprintf(buf, size, "API unreachable for %s, keeping %zu route%s",
                         format_ago(daemon_now_sec() - d->api_failing_since, ago, sizeof ago), d->own.n, d->own.n == 1 ? "" : "s");
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
        reconcile_routes_summary(&d->plan, d->desired.n, &d->md, d->link.ifname, summary, sizeof summary);
        if (d->desired.n == 0) {
                snprintf(buf, size, "%s", summary);
                return;
        }
        time_t t = (time_t) d->in_sync_since;
        struct tm tm;
        char when[16] = "";
        if (localtime_r(&t, &tm))
                strftime(when, sizeof when, "%H:%M:%S", &tm);
        snprintf(buf, size, "%.200s, in sync since %s", summary, when);
}

void daemon_publish(struct daemon *d) {
        struct agent_state s = {
                .pid = getpid(),
                .updated = daemon_now_sec(),
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
