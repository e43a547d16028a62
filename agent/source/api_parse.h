/* SPDX-License-Identifier: MIT */
/* DigitalOcean API responses (droplet, VPC peerings page, VPC) turned into validated plain
 * values. Pure: bytes in, values or a one-line error naming the field out. */
#pragma once

#include "route.h"

#define UUID_STRLEN 37
#define API_NAME_MAX 64

enum peering_status {
        PEERING_PROVISIONING,
        PEERING_ACTIVE,
        PEERING_DELETING,
        PEERING_OTHER, /* a status this agent does not know: treated as not active */
};

struct api_peering {
        char id[UUID_STRLEN];
        char name[API_NAME_MAX];
        char vpc_ids[2][UUID_STRLEN];
        unsigned n_vpc_ids;     /* 2, or 1 where an answer names one VPC only */
        enum peering_status status;
        char status_text[24];
};

struct api_peerings_page {
        struct api_peering *peerings;
        size_t n;
        char *next;     /* links.pages.next, NULL on the last page */
        uint64_t total; /* meta.total: the peerings of every page together */
        bool has_total; /* meta.total is there */
};

struct api_vpc {
        char id[UUID_STRLEN];
        char name[API_NAME_MAX];
        struct cidr ip_range;
};

/* GET /v2/droplets/{id} → droplet.vpc_uuid, "" when the droplet is in no VPC */
int api_parse_droplet(const char *body, size_t size, char ret_vpc_uuid[static UUID_STRLEN], struct error *err);
/* GET /v2/vpcs/{id}/peerings (or GET /v2/vpc_peerings) → one page; the list may be under
 * "peerings" or "vpc_peerings" */
int api_parse_peerings_page(const char *body, size_t size, struct api_peerings_page *ret, struct error *err);
void api_peerings_page_done(struct api_peerings_page *p);
/* GET /v2/vpcs/{id} → vpc.id, vpc.name, vpc.ip_range */
int api_parse_vpc(const char *body, size_t size, struct api_vpc *ret, struct error *err);
/* A VPC NAT gateway (GET /v2/vpc_nat_gateways, scope nat_gateway:read), as egress needs it. */
struct api_nat_gateway {
        char id[UUID_STRLEN];
        char name[API_NAME_MAX];
        bool active;            /* state ACTIVE */
        bool serves_own_vpc;    /* vpcs[] names the droplet's VPC */
        uint32_t gateway_ip;    /* its address in that VPC, 0 when not given */
};

struct api_nat_page {
        struct api_nat_gateway *gateways;
        size_t n;
        char *next;
        uint64_t total;
        bool has_total;
};

/* GET /v2/vpc_nat_gateways → one page, each gateway read against own_vpc */
int api_parse_nat_page(const char *body, size_t size, const char *own_vpc, struct api_nat_page *ret, struct error *err);
void api_nat_page_done(struct api_nat_page *p);
/* {"id": "...", "message": "..."} error bodies: the message, quoted and cut, or "" */
void api_parse_error_message(const char *body, size_t size, char *buf, size_t bufsize);

/* The VPC of a peering that is not own_vpc. */
const char *api_peering_other_vpc(const struct api_peering *p, const char *own_vpc);

bool uuid_valid(const char *s);
