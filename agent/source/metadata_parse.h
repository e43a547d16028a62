/* SPDX-License-Identifier: MIT */
/* The droplet metadata document (/metadata/v1.json) turned into validated plain values. */
#pragma once

#include "util.h"


enum tristate {
        TRISTATE_ABSENT = -1,
        TRISTATE_FALSE = 0,
        TRISTATE_TRUE = 1,
};

/* Where the gateway that routes use comes from. */
enum gateway_origin {
        GATEWAY_METADATA,   /* interfaces.private[0].ipv4.gateway */
        GATEWAY_DERIVED,    /* the metadata gives none: the first address of the private subnet */
        GATEWAY_CONFIG,     /* the config's gateway key */
};

struct metadata {
        /* droplet_id as a number or a string of digits; 0 when the document carries none or
         * one that is not an id (droplet_id_problem then says why). Only source = api needs it. */
        uint64_t droplet_id;
        struct error droplet_id_problem;
        uint8_t mac[6];             /* interfaces.private[0].mac */
        uint32_t address;           /* interfaces.private[0].ipv4.ip_address, host order */
        uint8_t prefixlen;          /* from interfaces.private[0].ipv4.netmask */
        /* interfaces.private[0].ipv4.gateway, 0 when it is "0.0.0.0", "", null or missing
         * (real droplets have served all of these): "not given". */
        uint32_t metadata_gateway;
        /* The gateway routes go via: set by metadata_resolve_gateway. */
        uint32_t gateway;
        enum gateway_origin gateway_origin;
        enum tristate peering_enabled; /* features.vpc_peering_enabled */

        /* interfaces.public[0], which only egress (nat_gateway) needs: has_public is false on a
         * Private Droplet (no public interface), and when the section does not pass
         * (public_problem then says why, naming the field). */
        bool has_public;
        struct error public_problem;
        uint8_t public_mac[6];
        uint32_t public_address;    /* .ipv4.ip_address */
        uint32_t public_gateway;    /* .ipv4.gateway */
        uint32_t anchor_address;    /* .anchor_ipv4.ip_address, 0 when there is none */
};

/* Pure: bytes in, validated struct or an error message naming the field and quoting its value
 * (without a "metadata: " prefix; the caller adds it). The gateway is not yet chosen: call
 * metadata_resolve_gateway next. */
int metadata_parse(const char *body, size_t size, struct metadata *ret, struct error *err);

/* Pure: chooses md->gateway. configured (the config's gateway key, 0 when unset) wins; else the
 * metadata's gateway; else the first address of the private subnet, where DigitalOcean places
 * every VPC's gateway. Whichever is chosen must lie inside the private subnet and be neither its
 * network or broadcast address nor the droplet's own. The error is a whole line: it starts with
 * "metadata: " or "config: ", naming the field and quoting the value. */
int metadata_resolve_gateway(struct metadata *md, uint32_t configured, struct error *err);

/* "", "derived: the metadata gives none", "from the config", ...: why the gateway is what it is. */
const char *gateway_origin_explain(const struct metadata *md, char *buf, size_t size);
const char *gateway_origin_to_string(enum gateway_origin o);

/* 0 when md describes a public interface (with its gateway); -ENOENT on a Private Droplet,
 * -EINVAL when the section does not pass, with a one-line error naming the field. */
int metadata_require_public(const struct metadata *md, struct error *err);

/* 0 when md carries a droplet id; else a one-line error for source = api, which needs it. */
int metadata_require_droplet_id(const struct metadata *md, struct error *err);

int mac_parse(const char *s, uint8_t ret[static 6]);
#define MAC_STRLEN 18
const char *mac_to_string(const uint8_t mac[static 6], char buf[static MAC_STRLEN]);
const char *tristate_to_string(enum tristate t);
