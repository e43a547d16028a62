/* SPDX-License-Identifier: MIT */
/* The desired route set: configured networks via the VPC gateway on the private NIC. */
#pragma once

#include "config.h"
#include "metadata_parse.h"
#include "route.h"

/* Builds the routes that should exist from the config and the droplet's metadata. Networks
 * that lie inside the droplet's own private subnet are skipped with a warning (the connected
 * route must keep reaching them directly). Honors features.vpc_peering_enabled == false with an
 * empty set unless peering_flag = ignore. */
int desired_compute(const struct config *c, const struct metadata *md, int ifindex, const char *ifname,
                    struct route_set *ret);
