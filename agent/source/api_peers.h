/* SPDX-License-Identifier: MIT */
/* The peers an API round found: each ACTIVE peering of the droplet's VPC with the other VPC's
 * range. What desired, status and the state file see of the API. */
#pragma once

#include <cjson/cJSON.h>

#include "api_parse.h"

struct api_peer {
        struct cidr range;
        char peering_id[UUID_STRLEN];
        char peering_name[API_NAME_MAX];
        char vpc_id[UUID_STRLEN];
        char vpc_name[API_NAME_MAX];
};

/* A peering of the droplet's VPC that is not ACTIVE yet (PROVISIONING): what sync --wait waits
 * for. */
struct api_waiting {
        char peering_id[UUID_STRLEN];
        char peering_name[API_NAME_MAX];
};

struct api_peers {
        char own_vpc[UUID_STRLEN];
        struct api_peer *peers; /* sorted by range */
        size_t n;
        struct api_waiting *waiting;
        size_t n_waiting;
        /* nat_gateway on: the round looked for the VPC's NAT gateway, and found nat or none. */
        bool nat_checked;
        bool nat_found;
        struct api_nat_gateway nat;
};

void api_peers_done(struct api_peers *p);
/* Sorts by range (cidr_compare). */
void api_peers_sort(struct api_peers *p);
/* The peer whose range is exactly c, or NULL. */
const struct api_peer *api_peers_find(const struct api_peers *p, const struct cidr *c);
/* Same VPC and the same ranges from the same peerings (the waiting ones are not compared). */
bool api_peers_equal(const struct api_peers *a, const struct api_peers *b);

/* [{"id", "name"}, ...] of the waiting peerings; NULL on OOM. */
cJSON *api_waiting_to_json(const struct api_peers *p);
/* "name-a, name-b" (ids where a peering has no name) into buf, cut to fit. */
const char *api_waiting_names(const struct api_peers *p, char *buf, size_t size);

/* {"id", "name", "vpc_id", "vpc_name"} of the peering; NULL on OOM. */
cJSON *api_peer_to_json(const struct api_peer *p);
