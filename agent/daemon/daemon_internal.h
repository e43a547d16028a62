/* SPDX-License-Identifier: MIT */
/* The service's state, in parts each written by one file and read by the others: daemon.c (the
 * loop: setup, signals, reload), daemon_poll.c (the metadata and API polls), daemon_heal.c
 * (reconciling, and healing on kernel events) and daemon_publish.c (state file, metrics,
 * STATUS=). The only mutable state of the program lives in the struct daemon that daemon_run()
 * owns. */
#pragma once

#include <systemd/sd-event.h>

#include "api_round.h"
#include "api_rate.h"
#include "daemon.h"
#include "heal_backoff.h"
#include "withdrawal.h"
#include "http.h"
#include "kernel.h"
#include "reconcile.h"

#define RETRY_MIN_USEC (1000 * 1000ULL)

/* What makes the daemon reconcile. */
enum trigger {
        TRIGGER_METADATA,   /* a metadata answer: a new document, or the same one again */
        TRIGGER_API,        /* an API answer */
        TRIGGER_EVENT,      /* a kernel event */
        TRIGGER_RETRY,      /* nothing new: the last reconcile fell short */
};

/* What the metadata service and the API said, and how asking them goes. Owned by
 * daemon_poll.c: the other files read it. */
struct daemon_sources {
        /* The last metadata document that parsed. */
        char *body;
        size_t body_size;
        struct metadata md;
        bool have_md;

        bool fetching;
        bool ready;                 /* READY=1 was sent */
        bool reloading;             /* RELOADING=1 was sent, READY=1 not yet again */
        unsigned failures;
        bool metadata_invalid;      /* the last failure was a document, not the service */
        uint64_t failing_since;     /* CLOCK_MONOTONIC usec of the first failure in a row */
        uint64_t failing_since_wall; /* the same as Unix seconds, for the state file */
        uint64_t fetch_duration_usec;
        uint64_t poll_cpu_usec;
        uint64_t metadata_errors;
        char last_error[ERROR_MAX];
        uint64_t last_error_time;

        /* source = api: the last complete answer. Until the first one, nothing is changed. */
        struct api_peers peers;
        bool have_api;
        uint64_t peers_generation;  /* counts changes of peers: the log speaks of skipped ranges once per change */
        /* When to ask next, and the last pacing the log spoke of (api_pace.h). */
        struct api_pace pace;
        uint64_t pace_logged;
        /* The service's first round waits a draw from a start spread (api_pace_start_spread) sized
         * by the fleet the last run saw (api_fleet_hint_read): CLOCK_MONOTONIC usec. */
        bool api_start_drawn;
        uint64_t api_start_at, api_start_end, api_start_spread;
        double fleet_kept;
        unsigned api_failures;
        uint64_t api_errors[_API_ERROR_KIND_MAX]; /* failed rounds, by kind, since start */
        uint64_t api_failing_since; /* CLOCK_MONOTONIC usec: durations never use the wall clock */
        char api_error[ERROR_MAX];
        uint64_t confirm_since;     /* the withdrawal whose confirming answer is asked for */
};

/* The routes: what should be installed, what is, and the guards on changing them. Owned by
 * daemon_heal.c. Every change to the routes, the NIC or its addresses after a reconcile arrives
 * as a kernel event and is healed at once. */
struct daemon_routes {
        struct route_set desired;
        struct route_set own;
        struct plan plan;
        bool last_failed;
        struct link_info link;
        bool have_link;
        char waiting[256];          /* why routes cannot be installed now, "" when they can */
        struct withdrawal withdrawal;
        struct heal_backoff fights; /* own routes another program keeps removing */
        uint64_t heal_backoffs;     /* re-adds postponed because of a fight */
        uint64_t nic_changed;       /* CLOCK_MONOTONIC usec of the last link or address event of the NIC */
        uint64_t last_heal;         /* CLOCK_MONOTONIC usec of the last heal */
        char nic_line[RECONCILE_NIC_LINE_MAX]; /* the last "Private NIC …" line logged */
        char notes[2048];           /* the last reconcile notes logged (reconcile.h) */
        bool owner_warned;          /* owner_file was bad, and the log said so */
        uint64_t peers_seen;        /* the sources' peers_generation the last reconcile used */
        char egress[192];           /* reconcile_egress_summary of the last reconcile, "" when off */
        bool egress_active;
        bool egress_clean;          /* nat_gateway = off and no egress state left (checked) */
        uint64_t reconciles;
        uint64_t heals;
        uint64_t last_success;
        uint64_t in_sync_since;     /* realtime seconds of the last change to the routes */
};

/* What the service last told systemd and the files. Owned by daemon_publish.c. */
struct daemon_told {
        char last_status[256];      /* the STATUS= last sent: sent again only when it changes */
        bool state_failing;         /* the state file or the metrics could not be written */
        bool metrics_failing;
};

/* The service: the loop and its sources of events (daemon.c), and one part per file. Calls go
 * one way: daemon.c → daemon_poll.c → daemon_heal.c → daemon_publish.c. */
struct daemon {
        const struct daemon_options *options;
        struct config *config;
        sd_event *event;
        struct kernel_ctx *nl;
        struct kernel_monitor *monitor;
        struct http_client *http;
        struct api_client *api;
        sd_event_source *poll_timer; /* armed by daemon_poll.c */
        sd_event_source *api_timer;  /* armed by daemon_poll.c */
        sd_event_source *heal_timer; /* armed by daemon_heal.c */
        sd_event_source *signals[3];
        /* The abstract socket that tells flush and sync this service runs (instance.h). */
        int instance_fd;
        sd_event_source *instance_source;

        struct daemon_sources src;
        struct daemon_routes rt;
        struct daemon_told told;
};

/* Unix seconds, for what the state file and STATUS= show; durations use CLOCK_MONOTONIC. */
static inline uint64_t daemon_now_sec(void) {
        return now_usec_realtime() / USEC_PER_SEC;
}
/* Seconds from since to now, both CLOCK_MONOTONIC usec; 0 when since is later. */
static inline uint64_t daemon_elapsed_sec(uint64_t since, uint64_t now) {
        return usec_until(now, since) / 1000000ULL;
}

/* ---- daemon_poll.c: the metadata and API polls (struct daemon_sources) ---- */
/* The next metadata poll, or API round, in delay_usec. */
void daemon_schedule_poll(struct daemon *d, uint64_t delay_usec);
void daemon_schedule_api(struct daemon *d, uint64_t delay_usec);
uint64_t daemon_api_interval(struct daemon *d, bool first);
void daemon_start_fetch(struct daemon *d);
int daemon_on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata);
void daemon_start_api_round(struct daemon *d);
int daemon_on_api_timer(sd_event_source *s, uint64_t usec, void *userdata);
/* A new config is in place: the metadata is parsed again; the API's failures are forgotten, and
 * with a source other than api everything the API said (STATUS=, last_error and the pacing then
 * speak of the metadata alone). */
void daemon_sources_new_config(struct daemon *d);
/* After SIGHUP: polls at once (config_changed: daemon_sources_new_config first). */
void daemon_poll_reload(struct daemon *d, bool config_changed);
void daemon_sources_done(struct daemon *d);

/* ---- daemon_heal.c: reconciling and healing (struct daemon_routes) ---- */
/* Reconciles from the last good metadata. 0 when the kernel is as desired (or cannot be yet:
 * waiting), negative when a change failed. */
int daemon_reconcile(struct daemon *d, enum trigger trigger);
/* A poll found the metadata unchanged (trigger METADATA), or failed (RETRY): reconcile only if
 * the last reconcile did not reach the desired state or holds a withdrawal; any change since
 * arrived as a kernel event. */
int daemon_check(struct daemon *d, enum trigger trigger);
void daemon_on_kernel_event(const struct kernel_event *ev, void *userdata);
int daemon_on_heal_timer(sd_event_source *s, uint64_t usec, void *userdata);
/* No metadata yet: the own routes installed are those the service keeps and counts. */
void daemon_routes_read_installed(struct daemon *d);
/* A new configuration: the NIC line and the notes are said again. */
void daemon_routes_reload(struct daemon *d);
void daemon_routes_done(struct daemon *d);

/* ---- daemon_publish.c: what the world sees (struct daemon_told) ---- */
/* Writes the state file and the metrics, and sends STATUS= when it changed. */
void daemon_publish(struct daemon *d);
/* The STATUS= line at now_mono (CLOCK_MONOTONIC usec) and now_wall (Unix seconds). Pure. */
void daemon_format_status(const struct daemon *d, uint64_t now_mono, uint64_t now_wall, char *buf, size_t size);
