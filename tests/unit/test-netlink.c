/* SPDX-License-Identifier: MIT */
/* The netlink boundary's reading of the kernel's answers: how an answer ends (a dump that failed
 * midway is no complete dump), and libnl's link list kept apart from answers the agent left
 * unread on its own socket. Talks to the kernel of the network namespace it runs in, read only:
 * no root needed. */
#include <linux/rtnetlink.h>

#include "kernel_internal.h"
#include "unit.h"

static struct nlmsghdr *msg_with(uint16_t type, const void *payload, size_t len, char *buf) {
        struct nlmsghdr *h = (struct nlmsghdr *) buf;

        *h = (struct nlmsghdr) { .nlmsg_len = (uint32_t) NLMSG_LENGTH(len), .nlmsg_type = type, .nlmsg_seq = 7 };
        if (len > 0)
                memcpy(NLMSG_DATA(h), payload, len);
        return h;
}

static void test_answer_end(void **state) {
        _Alignas(struct nlmsghdr) char buf[256];
        struct nlmsgerr e = { .error = 0 };
        struct rtmsg rtm = { .rtm_family = AF_INET };
        int ok = 0, failed = -ENOBUFS;
        (void) state;

        assert_int_equal(kernel_answer_end(msg_with(NLMSG_DONE, &ok, sizeof ok, buf)), 1);
        /* The kernel's dump ran out of room or was cut short: NLMSG_DONE carries the error. */
        assert_int_equal(kernel_answer_end(msg_with(NLMSG_DONE, &failed, sizeof failed, buf)), -ENOBUFS);
        assert_int_equal(kernel_answer_end(msg_with(NLMSG_DONE, NULL, 0, buf)), 1); /* old kernels: no payload */
        assert_int_equal(kernel_answer_end(msg_with(NLMSG_ERROR, &e, sizeof e, buf)), 1);
        e.error = -EPERM;
        assert_int_equal(kernel_answer_end(msg_with(NLMSG_ERROR, &e, sizeof e, buf)), -EPERM);
        assert_int_equal(kernel_answer_end(msg_with(NLMSG_ERROR, &failed, 2, buf)), -EIO); /* truncated */
        assert_int_equal(kernel_answer_end(msg_with(RTM_NEWROUTE, &rtm, sizeof rtm, buf)), 0);
}

/* A request whose answer (here an error: no such link) stays unread on the agent's socket, as a
 * late acknowledgement of a pipelined window may: the link list is still whole. */
static void test_link_cache_beside_unread_answer(void **state) {
        _cleanup_kernel_ struct kernel_ctx *nl = NULL;
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 0x7ffffff0 };
        struct link_info lo = {};
        uint32_t seq;
        (void) state;

        assert_int_equal(kernel_ctx_open(&nl), 0);
        msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
        assert_non_null(msg);
        assert_int_equal(nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO), 0);
        assert_int_equal(kernel_send_request(nl, msg, &seq), 0);
        assert_int_equal(kernel_link_find_by_name(nl, "lo", 0x7f000001u, &lo), 0);
        assert_int_equal(lo.ifindex, 1);
        /* The agent's own next request (the address dump behind it) skips the leftover answer
         * and reads its own. */
        memset(&lo, 0, sizeof lo);
        assert_int_equal(kernel_link_find_by_name(nl, "lo", 0x7f000001u, &lo), 0);
        assert_int_equal(lo.ifindex, 1);
}

int main(void) {
        struct unit_tests u = {};

        UNIT_ADD(&u, test_answer_end);
        UNIT_ADD(&u, test_link_cache_beside_unread_answer);
        return unit_run(&u, "netlink");
}
