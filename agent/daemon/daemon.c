/* SPDX-License-Identifier: MIT */
/* The service's loop: an sd-event loop that owns the netlink sockets, the HTTP client and the
 * timers, and talks to systemd (READY/RELOADING/STOPPING/WATCHDOG). Polling is in
 * daemon_poll.c, reconciling and healing in daemon_heal.c, what it publishes in
 * daemon_publish.c.
 *
 * The metadata fetch runs on libcurl's multi interface inside this loop (http.c), so a
 * metadata service that hangs never blocks healing or the watchdog. Reconciles themselves are
 * synchronous netlink round trips to the kernel: microseconds to milliseconds. */
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "daemon_internal.h"
#include "event.h"
#include "instance.h"
#include "log.h"

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
        struct error err = {0};
        int r;

        (void) s;
        (void) si;
        (void) sd_notify(false, "RELOADING=1");
        r = config_load_full(d->options->config_path, d->options->config_explicit, &d->options->overrides, &c, &err);
        if (r < 0)
                log_error("Reload: %s; keeping the previous configuration", err.msg);
        else {
                /* Another API or token may see the droplet elsewhere: read its VPC again. */
                if (!streq_ptr(c->api_url, d->config->api_url) || !streq_ptr(c->api_token, d->config->api_token))
                        api_client_forget_vpc(d->api);
                config_free(d->config);
                d->config = c;
                log_info("Reloaded the configuration; polling the metadata now");
                daemon_routes_reload(d);
        }
        daemon_poll_reload(d, r >= 0);
        return 0;
}

static int on_instance(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct daemon *d = userdata;

        (void) s;
        (void) revents;
        instance_answer(fd, config_fingerprint(d->config));
        return 0;
}

/* Lets `flush` and `sync` see this service: without it, a flush would be undone at once. */
static void daemon_setup_instance(struct daemon *d) {
        struct instance other;
        int r;

        r = instance_listen(&d->instance_fd);
        if (r == -EADDRINUSE && instance_query(&other) > 0) {
                log_warning("Another \"vpc-peer-routes run\" (PID %d) keeps routes in this network namespace; "
                            "two services with different configurations undo each other's changes",
                            (int) other.pid);
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "Could not listen on @%s: %m; flush and sync cannot tell that the service runs",
                                  INSTANCE_SOCKET_NAME);
                return;
        }
        r = sd_event_add_io(d->event, &d->instance_source, d->instance_fd, EPOLLIN, on_instance, d);
        if (r < 0)
                log_warning_errno(r, "Could not watch @%s: %m", INSTANCE_SOCKET_NAME);
}

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
        daemon_setup_instance(d);
        /* WATCHDOG=1 at half of $WATCHDOG_USEC, from the loop itself: a stuck loop stops it. */
        r = sd_event_set_watchdog(d->event, true);
        if (r < 0)
                log_warning_errno(r, "Could not set up the watchdog: %m");

        r = kernel_ctx_open(&d->nl);
        if (r < 0)
                return log_error_errno(r, "Could not open a netlink socket: %m");
        r = kernel_monitor_new(d->event, d->nl, daemon_on_kernel_event, d, &d->monitor);
        if (r < 0)
                return log_error_errno(r, "Could not subscribe to kernel route, link and address events: %m");
        r = http_client_new(d->event, &d->http);
        if (r >= 0)
                r = api_client_new(d->http, &d->api);
        if (r < 0)
                return log_error_errno(r, "Could not set up the HTTP client: %m");

        /* sd-event's default accuracy is 250 ms: fine for polls (they have ±10 % jitter anyway),
         * far too coarse for healing. */
        r = sd_event_add_time(d->event, &d->poll_timer, CLOCK_MONOTONIC, 0, 100 * 1000ULL, daemon_on_poll_timer, d);
        if (r >= 0)
                r = sd_event_add_time(d->event, &d->heal_timer, CLOCK_MONOTONIC, 0, 1, daemon_on_heal_timer, d);
        if (r >= 0)
                r = sd_event_add_time(d->event, &d->api_timer, CLOCK_MONOTONIC, 0, 100 * 1000ULL, daemon_on_api_timer, d);
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
        kernel_monitor_free(d->monitor);
        kernel_ctx_close(d->nl);
        event_source_disable_unref(d->poll_timer);
        event_source_disable_unref(d->heal_timer);
        event_source_disable_unref(d->api_timer);
        for (size_t i = 0; i < ELEMENTSOF(d->signals); i++)
                event_source_disable_unref(d->signals[i]);
        event_source_disable_unref(d->instance_source);
        if (d->instance_fd >= 0)
                close(d->instance_fd);
        sd_event_unref(d->event);
        daemon_sources_done(d);
        daemon_routes_done(d);
        config_free(d->config);
}

int daemon_run(const struct daemon_options *o, struct config *config) {
        struct daemon d = { .options = o, .config = config, .instance_fd = -1 };
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
