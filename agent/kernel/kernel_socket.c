/* SPDX-License-Identifier: MIT */
/* The rtnetlink socket: opening it with the options the agent relies on, libnl's error codes
 * as -errno, sending requests and reading their answers and acknowledgements. */
#include <netlink/route/link.h>

#include "log.h"
#include "kernel_internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int kernel_dump(struct kernel_ctx *nl, int type, const void *hdr, size_t hdrlen, int (*fn)(struct nlmsghdr *, void *),
                void *userdata) {
        _cleanup_nlmsg_ struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_DUMP);

        if (!msg || nlmsg_append(msg, (void *) hdr, hdrlen, NLMSG_ALIGNTO) < 0)
                return -ENOMEM;
        return kernel_request(nl, msg, fn, userdata);
}

int kernel_errno(int nle) {
        static const struct {
                int nle;
                int err;
        } map[] = {
                { NLE_NOMEM, ENOMEM },         { NLE_PERM, EPERM },         { NLE_NOACCESS, EACCES },
                { NLE_EXIST, EEXIST },         { NLE_INVAL, EINVAL },       { NLE_RANGE, ERANGE },
                { NLE_AGAIN, EAGAIN },         { NLE_INTR, EINTR },         { NLE_BAD_SOCK, EBADF },
                { NLE_MSGSIZE, EMSGSIZE },     { NLE_MSG_TRUNC, EMSGSIZE }, { NLE_NODEV, ENODEV },
                { NLE_OBJ_NOTFOUND, ENOENT },  { NLE_NOADDR, EADDRNOTAVAIL }, { NLE_OPNOTSUPP, EOPNOTSUPP },
                { NLE_AF_NOSUPPORT, EAFNOSUPPORT }, { NLE_BUSY, EBUSY },    { NLE_SEQ_MISMATCH, EILSEQ },
                { NLE_DUMP_INTR, EINTR },      { NLE_MSG_OVERFLOW, ENOBUFS },
                { NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
        };
        int n = nle < 0 ? -nle : nle;

        if (n == 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (map[i].nle == n)
                        return -map[i].err;
        return -EIO;
}

int kernel_ctx_open(struct kernel_ctx **ret) {
        struct kernel_ctx *nl;
        int r, one = 1, fd;

        nl = calloc(1, sizeof *nl);
        if (!nl)
                return -ENOMEM;
        nl->sock = nl_socket_alloc();
        if (!nl->sock) {
                free(nl);
                return -ENOMEM;
        }
        r = nl_connect(nl->sock, NETLINK_ROUTE);
        if (r < 0) {
                r = kernel_errno(r);
                kernel_ctx_close(nl);
                return r;
        }
        /* Our own requests (dumps, pipelined changes) are matched by sequence number here, which
         * libnl's per-socket "expected sequence" does not follow. libnl's caches use a socket of
         * their own (kernel_link_cache). */
        nl_socket_disable_seq_check(nl->sock);
        /* Whole datagrams in one read, no MSG_PEEK round trip; kernel dump skbs stay below 32 KiB. */
        nl_socket_disable_msg_peek(nl->sock);
        (void) nl_socket_set_msg_buf_size(nl->sock, 65536);
        fd = nl_socket_get_fd(nl->sock);
        /* Room for the acknowledgements of a pipelined window (kernel_apply.c) and for dump bursts. */
        (void) nl_socket_set_buffer_size(nl->sock, 1024 * 1024, 0);
        /* Small acks (no echo of our request) with the kernel's reason text attached. */
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
        /* Linux >= 4.20: the kernel honours protocol, table and device filters in dumps. */
        nl->strict = setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one) == 0;
        if (!nl->strict)
                log_debug("Kernel does not filter route dumps (NETLINK_GET_STRICT_CHK: %m); filtering here instead");
        *ret = nl;
        return 0;
}

int kernel_link_cache(struct kernel_ctx *nl, struct nl_cache **ret) {
        int r;

        /* libnl's own socket, with libnl's sequence checks: on the agent's socket an answer left
         * unread (a pipelined window's late acknowledgement) would be taken for part of the
         * link list. */
        if (!nl->cache_sock) {
                nl->cache_sock = nl_socket_alloc();
                if (!nl->cache_sock)
                        return -ENOMEM;
                r = nl_connect(nl->cache_sock, NETLINK_ROUTE);
                if (r < 0) {
                        nl_socket_free(nl->cache_sock);
                        nl->cache_sock = NULL;
                        return kernel_errno(r);
                }
        }
        r = rtnl_link_alloc_cache(nl->cache_sock, AF_UNSPEC, ret);
        return r < 0 ? kernel_errno(r) : 0;
}

void kernel_ctx_close(struct kernel_ctx *nl) {
        if (!nl)
                return;
        if (nl->cache_sock)
                nl_socket_free(nl->cache_sock);
        nl_socket_free(nl->sock);
        free(nl);
}

void kernel_ctx_fail_send(struct kernel_ctx *nl, unsigned nth, int error) {
        nl->fail_countdown = nth;
        nl->fail_error = error;
}

int kernel_send_request(struct kernel_ctx *nl, struct nl_msg *msg, uint32_t *ret_seq) {
        int r;

        if (nl->fail_countdown > 0 && --nl->fail_countdown == 0)
                return nl->fail_error;
        r = nl_send_auto(nl->sock, msg);
        if (r < 0)
                return kernel_errno(r);
        *ret_seq = nlmsg_hdr(msg)->nlmsg_seq;
        return 0;
}

static void parse_ext_ack(struct nlmsghdr *hdr, struct kernel_ack *ack) {
        struct nlmsgerr *e = nlmsg_data(hdr);
        size_t off;

        ack->ext_msg[0] = '\0';
        if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
                return;
        /* With NETLINK_CAP_ACK the echoed request is cut to its header. */
        off = NLMSG_ALIGN(sizeof *e);
        if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
                off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
        if ((size_t) nlmsg_datalen(hdr) <= off)
                return;
        struct nlattr *attr;
        int rem;
        nla_for_each_attr(attr, (struct nlattr *) ((char *) e + off), nlmsg_datalen(hdr) - (int) off, rem) {
                if (nla_type(attr) == NLMSGERR_ATTR_MSG && nla_len(attr) > 0) {
                        snprintf(ack->ext_msg, sizeof ack->ext_msg, "%.*s", nla_len(attr), (const char *) nla_data(attr));
                        size_t l = strlen(ack->ext_msg);
                        while (l > 0 && ack->ext_msg[l - 1] == '\0')
                                l--;
                        return;
                }
        }
}

int kernel_recv_batch(struct kernel_ctx *nl, int (*fn)(struct nlmsghdr *hdr, void *userdata), void *userdata) {
        _cleanup_free_ unsigned char *buf = NULL;
        struct sockaddr_nl peer;
        struct nlmsghdr *hdr;
        int n, r;

        n = nl_recv(nl->sock, &peer, &buf, NULL);
        if (n < 0)
                return kernel_errno(n);
        if (n == 0)
                return -EIO;
        for (hdr = (struct nlmsghdr *) buf; nlmsg_ok(hdr, n); hdr = nlmsg_next(hdr, &n)) {
                r = fn(hdr, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

struct ack_state {
        uint32_t first;
        size_t expected;
        size_t got;
        void (*cb)(size_t index, const struct kernel_ack *ack, void *userdata);
        void *userdata;
};

static int ack_msg(struct nlmsghdr *hdr, void *userdata) {
        struct ack_state *st = userdata;
        struct kernel_ack ack = {};
        uint32_t idx = hdr->nlmsg_seq - st->first;

        if (hdr->nlmsg_type != NLMSG_ERROR || idx >= st->expected)
                return 0;
        if ((size_t) nlmsg_datalen(hdr) < sizeof(struct nlmsgerr))
                return -EBADMSG;
        ack.error = ((struct nlmsgerr *) nlmsg_data(hdr))->error;
        parse_ext_ack(hdr, &ack);
        st->cb(idx, &ack, st->userdata);
        return ++st->got == st->expected ? 1 : 0;
}

int kernel_collect_acks(struct kernel_ctx *nl, uint32_t first, uint32_t last,
                    void (*cb)(size_t index, const struct kernel_ack *ack, void *userdata), void *userdata) {
        struct ack_state st = { .first = first, .expected = (size_t) (last - first) + 1, .cb = cb, .userdata = userdata };

        while (st.got < st.expected) {
                int r = kernel_recv_batch(nl, ack_msg, &st);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct request {
        uint32_t seq;
        bool interrupted;
        int (*fn)(struct nlmsghdr *hdr, void *userdata);
        void *userdata;
};

int kernel_answer_end(struct nlmsghdr *hdr) {
        int error;

        if (hdr->nlmsg_type == NLMSG_DONE) {
                /* A dump that failed in the kernel midway (a full socket buffer, a table that
                 * changed under a multi-part answer) ends with NLMSG_DONE carrying -errno: the
                 * answer is incomplete, not done. */
                if ((size_t) nlmsg_datalen(hdr) < sizeof error)
                        return 1;
                memcpy(&error, nlmsg_data(hdr), sizeof error);
                return error < 0 ? error : 1;
        }
        if (hdr->nlmsg_type == NLMSG_ERROR) {
                /* An error, or an acknowledgement (error 0) that ends the answer. */
                struct nlmsgerr *e = nlmsg_data(hdr);
                if ((size_t) nlmsg_datalen(hdr) < sizeof *e)
                        return -EIO;
                return e->error < 0 ? e->error : 1;
        }
        return 0;
}

static int answer_msg(struct nlmsghdr *hdr, void *userdata) {
        struct request *d = userdata;
        int r;

        if (hdr->nlmsg_seq != d->seq)
                return 0; /* a leftover of an earlier request */
        if (hdr->nlmsg_flags & NLM_F_DUMP_INTR)
                d->interrupted = true;
        r = kernel_answer_end(hdr);
        return r != 0 ? r : d->fn(hdr, d->userdata);
}

int kernel_request(struct kernel_ctx *nl, struct nl_msg *msg, int (*fn)(struct nlmsghdr *hdr, void *userdata), void *userdata) {
        struct request d = { .fn = fn, .userdata = userdata };
        int r;

        r = kernel_send_request(nl, msg, &d.seq);
        if (r < 0)
                return r;
        do
                r = kernel_recv_batch(nl, answer_msg, &d);
        while (r == 0);
        if (r < 0)
                return r;
        return d.interrupted ? -EAGAIN : 0;
}
