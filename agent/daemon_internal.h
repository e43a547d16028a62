/* SPDX-License-Identifier: MIT */
/* The service's state, shared by its files: daemon.c (the loop: setup, signals, reload),
 * daemon_poll.c (the metadata and API polls), daemon_heal.c (reconciling, and healing on
 * kernel events) and daemon_publish.c (state file, metrics, STATUS=). The only mutable state of
 * the program lives in the struct daemon that daemon_run() owns. */
#pragma once

#include <systemd/sd-event.h>

#include "api_fetch.h"
#include "daemon.h"
#include "http.h"
#include "nl.h"
#include "reconcile.h"

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

/* Unix seconds, for what the state file and STATUS= show. */
uint64_t daemon_now_sec(void);

/* ---- daemon_publish.c ---- */
/* Writes the state file and the metrics, and sends STATUS= when it changed. */
void daemon_publish(struct daemon *d);

/* ---- daemon_heal.c ---- */
/* Reconciles from the last good metadata. 0 when the kernel is as desired (or cannot be yet:
 * waiting), negative when a change failed. */
int daemon_reconcile(struct daemon *d, enum trigger trigger);
/* A poll found the metadata unchanged: reconcile only if the last reconcile did not reach the
 * desired state; any change since arrived as a kernel event. */
int daemon_check(struct daemon *d);
void daemon_on_kernel_event(const struct nl_event *ev, void *userdata);
int daemon_on_heal_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* ---- daemon_poll.c ---- */
void daemon_start_fetch(struct daemon *d);
int daemon_on_poll_timer(sd_event_source *s, uint64_t usec, void *userdata);
void daemon_start_api_round(struct daemon *d);
int daemon_on_api_timer(sd_event_source *s, uint64_t usec, void *userdata);
