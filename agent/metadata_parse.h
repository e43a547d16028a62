/* SPDX-License-Identifier: MIT */
/* The droplet metadata document (/metadata/v1.json) turned into validated plain values. */
#pragma once

#include "util.h"

#define METADATA_ERR_MAX 320

enum tristate {
        TRISTATE_ABSENT = -1,
        TRISTATE_FALSE = 0,
        TRISTATE_TRUE = 1,
};

struct metadata {
        uint64_t droplet_id;        /* 0 when the document carries none */
        uint8_t mac[6];             /* interfaces.private[0].mac */
        uint32_t address;           /* interfaces.private[0].ipv4.ip_address, host order */
        uint8_t prefixlen;          /* from interfaces.private[0].ipv4.netmask */
        uint32_t gateway;           /* interfaces.private[0].ipv4.gateway */
        enum tristate peering_enabled; /* features.vpc_peering_enabled */
        unsigned n_private;         /* entries in interfaces.private; only [0] is used */
};

/* Pure: bytes in, validated struct or an error message naming the field and quoting its value
 * (without a "metadata: " prefix; the caller adds it). */
int metadata_parse(const char *body, size_t size, struct metadata *ret, char *err, size_t errlen);

int mac_parse(const char *s, uint8_t ret[static 6]);
#define MAC_STRLEN 18
const char *mac_to_string(const uint8_t mac[static 6], char buf[static MAC_STRLEN]);
const char *tristate_to_string(enum tristate t);
