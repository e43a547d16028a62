/* SPDX-License-Identifier: MIT */
/* Shared between the kernel_*.c files only: the socket wrapper (kernel_socket.c), request and ack
 * plumbing, and the route parser (kernel_route.c) that the event monitor also uses. */
#pragma once

#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "kernel.h"

/* Kernel interfaces newer than the oldest headers the agent builds against (RHEL 8's are Linux
 * 4.18). On kernels that old the setsockopt fails and the attribute never comes, which the code
 * handles. RTA_NH_ID is an enum constant, not a macro: the attribute tables below are sized to
 * hold it whatever the headers say. */
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12 /* Linux 4.20 */
#endif
#define KERNEL_RTA_NH_ID 30           /* Linux 5.3 */
#define KERNEL_RTA_MAX (RTA_MAX > KERNEL_RTA_NH_ID ? RTA_MAX : KERNEL_RTA_NH_ID)

struct kernel_ctx {
        struct nl_sock *sock;
        struct nl_sock *cache_sock; /* libnl's caches (kernel_link_cache), opened when first needed */
        bool strict;
        /* kernel_ctx_fail_send (tests only): requests left before one fails, and with what. */
        unsigned fail_countdown;
        int fail_error;
};

/* libnl's NLE_* codes to -errno: the one place where they are converted. */
int kernel_errno(int nle);

/* The kernel's answer to one request. */
struct kernel_ack {
        int error;                 /* 0 or -errno */
        char ext_msg[128];         /* NLMSGERR_ATTR_MSG from extended acks, "" when none */
};

/* Sends msg (completing seq and pid). Returns the sequence number, or -errno. */
int kernel_send_request(struct kernel_ctx *nl, struct nl_msg *msg, uint32_t *ret_seq);

/* Reads one datagram and calls fn for each message in it until fn returns non-zero, which is
 * then returned (negative: error, positive: the caller's "done"). 0 means "read more". */
int kernel_recv_batch(struct kernel_ctx *nl, int (*fn)(struct nlmsghdr *hdr, void *userdata), void *userdata);

/* Sends a request (msg: its header and attributes, freshly built: a retry builds another), a
 * dump or a query, and hands each answer to fn until the kernel's NLMSG_DONE or acknowledgement,
 * or until fn says it has what it asked for. fn returns 0 to go on, 1 when done, or -errno.
 * Returns 0, fn's or the kernel's -errno, or -EAGAIN when the kernel says a dump was
 * interrupted (what it walked changed midway: ask again). */
int kernel_request(struct kernel_ctx *nl, struct nl_msg *msg, int (*fn)(struct nlmsghdr *hdr, void *userdata), void *userdata);

/* One dump of type with hdr (hdrlen bytes) as its request header, through kernel_request. */
int kernel_dump(struct kernel_ctx *nl, int type, const void *hdr, size_t hdrlen, int (*fn)(struct nlmsghdr *, void *),
                void *userdata);

/* Does hdr end the answer to a request? 0: no; 1: yes (NLMSG_DONE, an acknowledgement); or the
 * -errno the kernel ended it with (NLMSG_ERROR, or NLMSG_DONE after a dump that failed). */
int kernel_answer_end(struct nlmsghdr *hdr);

/* The link list as libnl's cache, read over libnl's own socket. */
int kernel_link_cache(struct kernel_ctx *nl, struct nl_cache **ret);

/* Reads acknowledgements until every seq in [first, last] is answered; cb is called for each
 * with the index seq - first. */
int kernel_collect_acks(struct kernel_ctx *nl, uint32_t first, uint32_t last,
                    void (*cb)(size_t index, const struct kernel_ack *ack, void *userdata), void *userdata);

/* Parses one RTM_NEWROUTE into a route. Returns 0, or -EINVAL for routes we never consider
 * (not IPv4, cloned, local or broadcast...). Unicast routes, and those that end traffic
 * (blackhole, unreachable, prohibit; route.type says which). */
int kernel_route_parse(struct nlmsghdr *hdr, struct route *ret);
/* Parses one IPv4 RTM_NEWRULE or RTM_DELRULE; -EINVAL for anything else. */
int kernel_rule_parse(struct nlmsghdr *hdr, struct kernel_rule *ret);

static inline void nlmsg_freep(struct nl_msg **m) {
        if (*m)
                nlmsg_free(*m);
}
#define _cleanup_nlmsg_ _cleanup_(nlmsg_freep)

static inline void kernel_cache_freep(struct nl_cache **c) {
        if (*c)
                nl_cache_free(*c);
}
#define _cleanup_cache_ _cleanup_(kernel_cache_freep)
