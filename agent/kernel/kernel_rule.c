/* SPDX-License-Identifier: MIT */
/* IPv4 policy rules: every rule (for doctor), the agent's own (FRA_PROTOCOL: for egress), and
 * adding and deleting those. A delete names the agent's protocol, so it can only ever remove a
 * rule of the agent's. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>

#include "kernel_internal.h"
#include "log.h"

struct rule_dump {
        struct kernel_rule *list;
        size_t n, cap;
};

static void rule_prefix(struct nlattr *a, uint8_t len, struct cidr *ret, bool *has) {
        uint32_t be;

        if (!a || nla_len(a) != 4)
                return;
        memcpy(&be, nla_data(a), 4);
        *ret = (struct cidr) { .addr = ntohl(be), .len = len };
        *has = true;
}

int kernel_rule_parse(struct nlmsghdr *hdr, struct kernel_rule *ret) {
        struct nlattr *tb[FRA_MAX + 1];
        struct fib_rule_hdr *frh;
        struct kernel_rule rule = {};

        if ((hdr->nlmsg_type != RTM_NEWRULE && hdr->nlmsg_type != RTM_DELRULE) || (size_t) nlmsg_datalen(hdr) < sizeof *frh)
                return -EINVAL;
        frh = nlmsg_data(hdr);
        if (frh->family != AF_INET || nlmsg_parse(hdr, sizeof *frh, tb, FRA_MAX, NULL) < 0)
                return -EINVAL;
        rule.action = frh->action;
        rule.table = tb[FRA_TABLE] && nla_len(tb[FRA_TABLE]) == 4 ? nla_get_u32(tb[FRA_TABLE]) : frh->table;
        rule.priority = tb[FRA_PRIORITY] && nla_len(tb[FRA_PRIORITY]) == 4 ? nla_get_u32(tb[FRA_PRIORITY]) : 0;
        rule.invert = frh->flags & FIB_RULE_INVERT;
        rule_prefix(tb[FRA_DST], frh->dst_len, &rule.dst, &rule.has_dst);
        rule_prefix(tb[FRA_SRC], frh->src_len, &rule.src, &rule.has_src);
        if (tb[FRA_IIFNAME])
                snprintf(rule.iifname, sizeof rule.iifname, "%.*s", nla_len(tb[FRA_IIFNAME]), (const char *) nla_data(tb[FRA_IIFNAME]));
        /* Selectors that pick some packets only: marked ones, a socket bound to a device, a
         * user, a protocol or port, a type of service. */
        rule.selective = (tb[FRA_FWMARK] && nla_get_u32(tb[FRA_FWMARK]) != 0) || tb[FRA_OIFNAME] || tb[FRA_UID_RANGE] ||
                         tb[FRA_L3MDEV] || frh->tos != 0 || (rule.iifname[0] && strcmp(rule.iifname, "lo") != 0);
#ifdef FRA_IP_PROTO
        rule.selective = rule.selective || tb[FRA_IP_PROTO] || tb[FRA_SPORT_RANGE] || tb[FRA_DPORT_RANGE];
#endif
        rule.protocol = tb[FRA_PROTOCOL] && nla_len(tb[FRA_PROTOCOL]) == 1 ? nla_get_u8(tb[FRA_PROTOCOL]) : 0;
        rule.suppress_prefixlen = tb[FRA_SUPPRESS_PREFIXLEN] && nla_len(tb[FRA_SUPPRESS_PREFIXLEN]) == 4
                                          ? (int32_t) nla_get_u32(tb[FRA_SUPPRESS_PREFIXLEN])
                                          : -1;
        *ret = rule;
        return 0;
}

static int rule_msg(struct nlmsghdr *hdr, void *userdata) {
        struct rule_dump *d = userdata;
        struct kernel_rule rule;

        if (hdr->nlmsg_type != RTM_NEWRULE || kernel_rule_parse(hdr, &rule) < 0)
                return 0;
        if (GREEDY_REALLOC(d->list, d->cap, d->n + 1) < 0)
                return -ENOMEM;
        d->list[d->n++] = rule;
        return 0;
}

int kernel_rule_dump(struct kernel_ctx *nl, struct kernel_rule **ret, size_t *ret_n) {
        struct fib_rule_hdr frh = { .family = AF_INET };
        struct rule_dump d = {};
        int r = -EAGAIN;

        for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
                d.n = 0;
                r = kernel_dump(nl, RTM_GETRULE, &frh, sizeof frh, rule_msg, &d);
        }
        if (r < 0) {
                free(d.list);
                return r;
        }
        *ret = d.list;
        *ret_n = d.n;
        return 0;
}

int kernel_rule_list_own(struct kernel_ctx *nl, uint8_t protocol, struct egress_rule **ret, size_t *ret_n) {
        _cleanup_free_ struct kernel_rule *all = NULL;
        _cleanup_free_ struct egress_rule *own = NULL;
        size_t n_all = 0, n = 0;
        int r;

        r = kernel_rule_dump(nl, &all, &n_all);
        if (r < 0)
                return r;
        own = calloc(MAX(n_all, 1u), sizeof *own);
        if (!own)
                return -ENOMEM;
        for (size_t i = 0; i < n_all; i++) {
                const struct kernel_rule *k = &all[i];
                if (k->protocol != protocol || k->action != FR_ACT_TO_TBL)
                        continue;
                own[n++] = (struct egress_rule) {
                        .priority = k->priority,
                        .src = k->has_src ? k->src.addr : 0,
                        .src_len = k->has_src ? k->src.len : 0,
                        .table = k->table,
                        .suppress_prefixlen = k->suppress_prefixlen,
                        .protocol = k->protocol,
                };
        }
        *ret = TAKE_PTR(own);
        *ret_n = n;
        return 0;
}

static int rule_request(const struct egress_rule *r, bool add, struct nl_msg **ret) {
        struct fib_rule_hdr frh = {
                .family = AF_INET,
                .action = FR_ACT_TO_TBL,
                .table = r->table < 256 ? (uint8_t) r->table : RT_TABLE_UNSPEC,
                .src_len = r->src_len,
        };
        struct nl_msg *msg = nlmsg_alloc_simple(add ? RTM_NEWRULE : RTM_DELRULE,
                                                NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
        uint32_t src = htonl(r->src);

        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &frh, sizeof frh, NLMSG_ALIGNTO) < 0 || nla_put_u32(msg, FRA_PRIORITY, r->priority) < 0 ||
            nla_put_u32(msg, FRA_TABLE, r->table) < 0 || nla_put_u8(msg, FRA_PROTOCOL, r->protocol) < 0 ||
            (r->src_len && nla_put(msg, FRA_SRC, 4, &src) < 0) ||
            (r->suppress_prefixlen >= 0 && nla_put_u32(msg, FRA_SUPPRESS_PREFIXLEN, (uint32_t) r->suppress_prefixlen) < 0)) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        *ret = msg;
        return 0;
}

/* A change is answered by its acknowledgement alone (kernel_request reads it). */
static int ack_only(struct nlmsghdr *hdr, void *userdata) {
        (void) hdr;
        (void) userdata;
        return 0;
}

int kernel_rule_change(struct kernel_ctx *nl, const struct egress_rule *r, bool add) {
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        char s[EGRESS_RULE_STRLEN];
        int k;

        k = rule_request(r, add, &msg);
        if (k < 0)
                return k;
        k = kernel_request(nl, msg, ack_only, NULL);
        /* Gone already (another program, a restart of the network manager): what was asked. */
        if (!add && k == -ENOENT)
                k = 0;
        if (k < 0)
                log_error_errno(k, "Could not %s rule %s: %m", add ? "add" : "delete", egress_rule_to_string(r, s));
        else
                log_info("%s rule %s", add ? "added" : "deleted", egress_rule_to_string(r, s));
        return k;
}
