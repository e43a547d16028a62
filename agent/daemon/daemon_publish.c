/* SPDX-License-Identifier: MIT */
/* What the service tells the world after each reconcile: the state file that `status` reads,
 * the Prometheus textfile, and systemd's STATUS= line. */
#include <systemd/sd-daemon.h>
#include <time.h>

#include "daemon_internal.h"
#include "log.h"
#include "state.h"

void daemon_format_status(const struct daemon *d, uint64_t now_mono, uint64_t now_wall, char *buf, size_t size) {
        char summary[256], ago[32], when[32];

        if (d->failures > 0) {
                snprintf(buf, size, "metadata %s for %s, keeping %zu route%s", d->metadata_invalid ? "invalid" : "unreachable",
                         format_timespan(daemon_elapsed_sec(d->failing_since, now_mono) * USEC_PER_SEC, false, ago), d->own.n,
                         d->own.n == 1 ? "" : "s");
                return;
        }
        if (d->api_failures > 0) {
                snprintf(buf, size, "API unreachable for %s, keeping %zu route%s",
                         format_timespan(daemon_elapsed_sec(d->api_failing_since, now_mono) * USEC_PER_SEC, false, ago), d->own.n,
                         d->own.n == 1 ? "" : "s");
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
        reconcile_routes_summary(&d->plan, d->desired.n, &d->md, d->config, d->link.ifname, summary, sizeof summary);
        if (d->withdrawal.pending)
                snprintf(buf, size, "%.160s; keeping %zu route%s until a second answer says the same", summary, d->withdrawal.routes,
                         d->withdrawal.routes == 1 ? "" : "s");
        else if (d->desired.n == 0)
                snprintf(buf, size, "%s", summary);
        else
                snprintf(buf, size, "%.200s, in sync since %s", summary, format_clock(d->in_sync_since, now_wall, when));
}

/* A file that cannot be written is worth one warning when it starts and one line when it works
 * again, not one a reconcile. */
static void note_write(bool *failing, const char *path, int r) {
        if (r < 0 && !*failing)
                log_warning_errno(r, "Could not write %s: %m; status and monitoring miss what the service does until it can",
                                  path);
        else if (r < 0)
                log_debug_errno(r, "Could not write %s: %m", path);
        else if (*failing)
                log_info("Writing %s again", path);
        *failing = r < 0;
}

void daemon_publish(struct daemon *d) {
        struct agent_state s = {
                .pid = getpid(),
                .updated = daemon_now_sec(),
                .last_success = d->last_success,
                .last_error_time = d->last_error_time,
                .failing_since = d->failures ? d->failing_since_wall : 0,
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
                .heal_backoffs = d->heal_backoffs,
                .fights = &d->fights,
                .pace = d->config->source == SOURCE_API && d->pace.limit > 0 ? &d->pace : NULL,
                .now = now_usec_monotonic(),
                .metadata_errors = d->metadata_errors,
                .api_errors = d->config->source == SOURCE_API ? d->api_errors : NULL,
                .fetch_duration_usec = d->fetch_duration_usec,
                .poll_cpu_usec = d->poll_cpu_usec,
        };
        snprintf(s.last_error, sizeof s.last_error, "%s", d->last_error[0] ? d->last_error : d->api_error);
        snprintf(s.ifname, sizeof s.ifname, "%s", d->link.ifname);
        daemon_format_status(d, now_usec_monotonic(), daemon_now_sec(), s.status, sizeof s.status);

        note_write(&d->state_failing, d->config->state_file, state_write(d->config->state_file, &s));
        if (d->config->metrics_file)
                note_write(&d->metrics_failing, d->config->metrics_file, metrics_write(d->config->metrics_file, &s));
        if (!streq(s.status, d->last_status)) {
                (void) sd_notifyf(false, "STATUS=%s", s.status);
                snprintf(d->last_status, sizeof d->last_status, "%s", s.status);
        }
}
