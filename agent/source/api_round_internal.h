/* SPDX-License-Identifier: MIT */
/* Shared by the files of the API round only: api_round.c (the state machine) and api_nat.c
 * (its NAT gateway step). */
#pragma once

#include "api_budget.h"
#include "api_memory.h"
#include "api_rate.h"
#include "api_round.h"

#define MAX_PAGES 100
#define PER_PAGE 200
#define API_MAX_BODY ((size_t) 8 * 1024 * 1024)

enum step {
        STEP_IDLE,
        STEP_DROPLET,
        STEP_PEERINGS,
        STEP_VPCS,
        STEP_NAT,
};

struct api_client {
        struct http_client *http;
        struct api_budget budget;
        uint64_t retry_after;   /* monotonic usec */
        struct api_rate rate;
        struct vpc_cache cache;
        struct notes notes;
        /* The droplet's VPC as the last GET /v2/droplets said ("" before), for whom, and until
         * when (CLOCK_MONOTONIC) it is taken as known. */
        bool vpc_known;
        char vpc[UUID_STRLEN];
        struct api_target vpc_target;
        uint64_t vpc_until;

        /* the round in progress */
        enum step step;
        uint64_t generation;    /* bumps on cancel: late answers of a cancelled round are dropped */
        char *base;
        char *token;
        char *ca_file;
        uint64_t connect_timeout_usec;
        uint64_t timeout_usec;
        char own_vpc[UUID_STRLEN];
        struct api_peering *active;
        size_t n_active, cap_active;
        struct api_waiting *waiting;
        size_t n_waiting, cap_waiting;
        size_t vpc_next;        /* index into active while fetching VPCs */
        unsigned pages;
        unsigned requests;      /* sent in this round */
        unsigned droplet_reads; /* of them, GET /v2/droplets */
        uint64_t received;      /* peerings on the pages so far, ours or not */
        uint64_t total;         /* meta.total of the first page */
        bool has_total;
        char *url;              /* the request in flight */
        struct api_target target;
        bool vpc_remembered;    /* the round began with the remembered VPC, not the droplet */
        /* nat_gateway (egress): which NAT gateway the round looks for, and what it found */
        enum nat_mode nat_mode;
        uint32_t nat_address;
        bool nat_found;
        struct api_nat_gateway nat;
        api_done_fn done;
        void *userdata;
};

/* Sends a GET of url (taken over) within the budgets; a failure ends the round. */
void api_round_get(struct api_client *a, char *url);
/* Ends the round with an error; the message names what failed. */
void api_round_fail(struct api_client *a, int error, const char *fmt, ...) _printf_(3, 4);
/* The path part of a URL, for messages ("GET /v2/droplets/1"). */
const char *api_round_path(const struct api_client *a, const char *url);
/* Follows a page's links.pages.next (taken over): only to the configured API, and not forever.
 * false when it ended the round instead. */
bool api_round_follow(struct api_client *a, char *next, const char *what);
/* Ends the round with its result. */
void api_round_succeed(struct api_client *a);

/* api_nat.c: the step after the VPCs when nat_gateway is on. */
void api_nat_start(struct api_client *a);
void api_nat_handle(struct api_client *a, const char *body, size_t size);
