/* SPDX-License-Identifier: MIT */
/* The service's state, shared by its files: daemon.c (the loop: setup, signals, reload),
 * daemon_poll.c (the metadata and API polls), daemon_heal.c (reconciling, and healing on
 * kernel events) and daemon_publish.c (state file, metrics, STATUS=). The only mutable state of
 * the program lives in the struct daemon that daemon_run() owns. */
#pragma once

#include <systemd/sd-event.h>

#include "api_round.h"
#include "api_rate.h"
#include "daemon.h"
#include "fight.h"
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

/* More than half of the own routes about to go on one answer: held until a second. */
struct withdrawal {
        bool pending;
        uint64_t fingerprint;       /* of the desired routes that answer asks for */
        uint64_t since;             /* CLOCK_MONOTONIC usec of the first answer */
        enum trigger by;            /* the kind of answer that must come again */
        size_t routes;              /* how many routes it would remove */
};

struct daemon {
        const struct daemon_options *options;
        struct config *config;
        sd_event *event;
        struct kernel_ctx *nl;
        struct kernel_monitor *monitor;
        struct http_client *http;
        struct api_client *api;
        sd_event_source *poll_timer;
        sd_event_source *api_timer;
        sd_event_source *heal_timer;
        sd_event_source *signals[3];
        /* The abstract socket that tells flush and sync this service runs (instance.h). */
        int instance_fd;
        sd_event_source *instance_source;
        bool owner_warned;          /* owner_file was bad, and the log said so */

        /* The last metadata document that parsed. */
        char *body;
        size_t body_size;
        struct metadata md;
        bool have_md;

        /* source = api: the last complete answer. Until the first one, nothing is changed. */
        struct api_peers peers;
        bool have_api;
        bool peers_changed;         /* log skipped ranges loudly once per change */
        /* When to ask next, and the last pacing the log spoke of (api_pace.h). */
        struct api_pace pace;
        uint64_t pace_logged;
        unsigned api_failures;
        uint64_t api_errors[_API_ERROR_KIND_MAX]; /* failed rounds, by kind, since start */
        uint64_t api_failing_since; /* CLOCK_MONOTONIC usec: durations never use the wall clock */
        char api_error[ERROR_MAX];

        /* The last reconcile. Every later change to the routes, the NIC or its addresses arrives
         * as a kernel event and is healed at once. */
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
        bool metadata_invalid;      /* the last failure was a document, not the service */
        uint64_t failing_since;     /* CLOCK_MONOTONIC usec of the first failure in a row */
        uint64_t failing_since_wall; /* the same as Unix seconds, for the state file */
        uint64_t fetch_duration_usec;
        uint64_t poll_cpu_usec;
        char last_error[ERROR_MAX];
        uint64_t last_error_time;
        uint64_t last_success;
        uint64_t in_sync_since;     /* realtime seconds of the last change to the routes */
        char last_status[256];      /* the STATUS= last sent: sent again only when it changes */
        bool state_failing;         /* the state file or the metrics could not be written */
        bool metrics_failing;
        uint64_t reconciles;
        uint64_t heals;
        uint64_t metadata_errors;
        char waiting[256];          /* why routes cannot be installed now, "" when they can */
        struct withdrawal withdrawal;
        struct fights fights;       /* own routes another program keeps removing */
        uint64_t heal_backoffs;     /* re-adds postponed because of a fight */
        uint64_t nic_changed;       /* CLOCK_MONOTONIC usec of the last link or address event of the NIC */
        uint64_t last_heal;         /* CLOCK_MONOTONIC usec of the last heal */
        char nic_line[RECONCILE_NIC_LINE_MAX]; /* the last "Private NIC …" line logged */
        char notes[2048];           /* the last reconcile notes logged (reconcile.h) */
};

/* Unix seconds, for what the state file and STATUS= show; durations use CLOCK_MONOTONIC. */
uint64_t daemon_now_sec(void);
/* Seconds from since to now, both CLOCK_MONOTONIC usec; 0 when since is later. */
static inline uint64_t daemon_elapsed_sec(uint64_t since, uint64_t now) {
        return usec_until(now, since) / 1000000ULL;
}

/* ---- daemon_publish.c ---- */
/* Writes the state file and the metrics, and sends STATUS= when it changed. */
void daemon_publish(struct daemon *d);
/* The STATUS= line at now_mono (CLOCK_MONOTONIC usec) and now_wall (Unix seconds). Pure. */
void daemon_format_status(const struct daemon *d, uint64_t now_mono, uint64_t now_wall, char *buf, size_t size);

/* ---- daemon_heal.c ---- */
/* Reconciles from the last good metadata. 0 when the kernel is as desired (or cannot be yet:
 * waiting), negative when a change failed. */
int daemon_reconcile(struct daemon *d, enum trigger trigger);
/* A poll found the metadata unchanged (trigger METADATA), or failed (RETRY): reconcile only if
 * the last reconcile did not reach the desired state or holds a withdrawal; any change since
 * arrived as a kernel event. */
int daemon_check(struct daemon *d, enum trigger trigger);
void daemon_on_kernel_event(const struct kernel_event *ev, void *userdata);
int daemon_on_heal_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* ---- daemon_poll.c ---- */
/* The next metadata poll, or API round, in delay_usec. */
void daemon_schedule_poll(struct daemon *d, uint64_t delay_usec);
void daemon_schedule_api(struct daemon *d, uint64_t delay_usec);
uint64_t daemon_api_interval(struct daemon *d);
void daemon_start_fetch(struct daemon *d);
int daemon_on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata);
void daemon_start_api_round(struct daemon *d);
/* After a reload: forgets the API's failures, and with a source other than api everything the
 * API said (STATUS=, last_error and the pacing then speak of the metadata alone). */
void daemon_api_reload(struct daemon *d);
int daemon_on_api_timer(sd_event_source *s, uint64_t usec, void *userdata);
