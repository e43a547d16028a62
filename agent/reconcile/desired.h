/* SPDX-License-Identifier: MIT */
/* The desired route set: networks via the VPC gateway on the private NIC. The networks come
 * from the config (source = metadata) or from the peered VPCs' ranges (source = api). */
#pragma once

#include "api_peers.h"
#include "config.h"
#include "metadata_parse.h"
#include "kernel.h"
#include "route.h"

/* A network left out because it lies inside the droplet's private subnet. */
typedef void (*desired_inside_fn)(const struct cidr *net, const struct cidr *subnet, void *userdata);

/* Builds the routes that should exist for nets. Networks inside the droplet's own private
 * subnet are skipped and reported through inside (the connected route must keep reaching them
 * directly). Honors features.vpc_peering_enabled == false with an empty set unless
 * peering_flag = ignore. */
int desired_compute(const struct config *c, const struct metadata *md, int ifindex, const char *ifname,
                    const struct cidr *nets, size_t n_nets, desired_inside_fn inside, void *userdata,
                    struct route_set *ret);

/* Why a peer's range is not routed. */
typedef void (*desired_skip_fn)(const struct api_peer *peer, const char *why, void *userdata);

/* Pure: the peers' ranges that may be routed. A range that fails the routability rules, or that
 * overlaps a subnet connected on the droplet (its own VPC, a docker bridge, the anchor network),
 * is left out and reported through skip. The result is sorted and unique. */
int desired_api_nets(const struct api_peers *peers, const struct connected_subnet *connected, size_t n_connected,
                     bool allow_non_private, struct cidr **ret, size_t *ret_n, desired_skip_fn skip, void *userdata);
