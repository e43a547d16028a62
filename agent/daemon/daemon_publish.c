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

        if (d->src.failures > 0) {
                snprintf(buf, size, "metadata %s for %s, keeping %zu route%s", d->src.metadata_invalid ? "invalid" : "unreachable",
                         format_timespan(daemon_elapsed_sec(d->src.failing_since, now_mono) * USEC_PER_SEC, false, ago), d->rt.own.n,
                         d->rt.own.n == 1 ? "" : "s");
                return;
        }
        if (d->src.api_failures > 0) {
                snprintf(buf, size, "API unreachable for %s, keeping %zu route%s",
                         format_timespan(daemon_elapsed_sec(d->src.api_failing_since, now_mono) * USEC_PER_SEC, false, ago), d->rt.own.n,
                         d->rt.own.n == 1 ? "" : "s");
                return;
        }
        if (!d->src.have_md) {
                snprintf(buf, size, "waiting for the first metadata answer");
                return;
        }
        if (d->config->source == SOURCE_API && !d->src.have_api) {
                snprintf(buf, size, "waiting for the first API answer");
                return;
        }
        if (d->rt.waiting[0]) {
                snprintf(buf, size, "waiting: %.200s", d->rt.waiting);
                return;
        }
        reconcile_routes_summary(&d->rt.plan, d->rt.desired.n, &d->src.md, d->config, d->rt.link.ifname, summary, sizeof summary);
        if (d->rt.withdrawal.pending)
                snprintf(buf, size, "%.160s; keeping %zu route%s until a second answer says the same", summary, d->rt.withdrawal.routes,
                         d->rt.withdrawal.routes == 1 ? "" : "s");
        else if (d->rt.desired.n == 0)
                snprintf(buf, size, "%s", summary);
        else
                snprintf(buf, size, "%.200s, in sync since %s", summary, format_clock(d->rt.in_sync_since, now_wall, when));
        if (d->rt.egress[0]) {
                size_t l = strlen(buf);
                snprintf(buf + l, size > l ? size - l : 0, "; egress %s", d->rt.egress);
        }
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
                .last_success = d->rt.last_success,
                .last_error_time = d->src.last_error_time,
                .failing_since = d->src.failures ? d->src.failing_since_wall : 0,
                .source = route_source_to_string(d->config->source),
                .have_link = d->rt.have_link,
                .have_metadata = d->src.have_md,
                .gateway = d->src.md.gateway,
                .gateway_origin = d->src.md.gateway_origin,
                .peering_enabled = d->src.md.peering_enabled,
                .desired = &d->rt.desired,
                .installed = &d->rt.own,
                .plan = &d->rt.plan,
                .peers = d->config->source == SOURCE_API && d->src.have_api ? &d->src.peers : NULL,
                .reconciles = d->rt.reconciles,
                .heals = d->rt.heals,
                .heal_backoffs = d->rt.heal_backoffs,
                .fights = &d->rt.fights,
                .pace = d->config->source == SOURCE_API && d->src.pace.limit > 0 ? &d->src.pace : NULL,
                .now = now_usec_monotonic(),
                .metadata_errors = d->src.metadata_errors,
                .api_errors = d->config->source == SOURCE_API ? d->src.api_errors : NULL,
                .fetch_duration_usec = d->src.fetch_duration_usec,
                .poll_cpu_usec = d->src.poll_cpu_usec,
                .egress = d->config->nat_gateway.mode != NAT_OFF ? d->rt.egress : NULL,
                .egress_active = d->rt.egress_active,
        };
        snprintf(s.last_error, sizeof s.last_error, "%s", d->src.last_error[0] ? d->src.last_error : d->src.api_error);
        snprintf(s.ifname, sizeof s.ifname, "%s", d->rt.link.ifname);
        daemon_format_status(d, now_usec_monotonic(), daemon_now_sec(), s.status, sizeof s.status);

        note_write(&d->told.state_failing, d->config->state_file, state_write(d->config->state_file, &s));
        if (d->config->metrics_file)
                note_write(&d->told.metrics_failing, d->config->metrics_file, metrics_write(d->config->metrics_file, &s));
        if (!streq(s.status, d->told.last_status)) {
                (void) sd_notifyf(false, "STATUS=%s", s.status);
                snprintf(d->told.last_status, sizeof d->told.last_status, "%s", s.status);
        }
}
