/* SPDX-License-Identifier: MIT */
/* Kernel events: a netlink socket in the link, IPv4 address and IPv4 route groups, read from
 * the event loop. Each message becomes a project-level nl_event; the daemon decides what
 * matters. Events carrying our own request socket's port id are our own changes. */
#include <arpa/inet.h>
#include <net/if.h>
#include <systemd/sd-event.h>

#include "event.h"
#include "log.h"
#include "nl_internal.h"

struct nl_monitor {
        struct nl_sock *sock;
        sd_event_source *io;
        uint32_t self_port;
        nl_event_fn fn;
        void *userdata;
        unsigned char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static int parse_link(struct nlmsghdr *hdr, struct nl_event *ev) {
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;

        if ((size_t) nlmsg_datalen(hdr) < sizeof *ifi || nlmsg_parse(hdr, sizeof *ifi, tb, IFLA_MAX, NULL) < 0)
                return -EBADMSG;
        ifi = nlmsg_data(hdr);
        ev->kind = NL_EVENT_LINK;
        ev->ifindex = ifi->ifi_index;
        ev->link.ifindex = ifi->ifi_index;
        ev->link.up = ifi->ifi_flags & IFF_UP;
        if (tb[IFLA_IFNAME])
                snprintf(ev->link.ifname, sizeof ev->link.ifname, "%.*s", nla_len(tb[IFLA_IFNAME]),
                         (const char *) nla_data(tb[IFLA_IFNAME]));
        if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
                memcpy(ev->link.mac, nla_data(tb[IFLA_ADDRESS]), 6);
                ev->link.has_mac = true;
        }
        return 0;
}

static int parse_address(struct nlmsghdr *hdr, struct nl_event *ev) {
        struct nlattr *tb[IFA_MAX + 1];
        struct ifaddrmsg *ifa;
        struct nlattr *a;

        if ((size_t) nlmsg_datalen(hdr) < sizeof *ifa || nlmsg_parse(hdr, sizeof *ifa, tb, IFA_MAX, NULL) < 0)
                return -EBADMSG;
        ifa = nlmsg_data(hdr);
        if (ifa->ifa_family != AF_INET)
                return -EINVAL;
        ev->kind = NL_EVENT_ADDRESS;
        ev->ifindex = (int) ifa->ifa_index;
        a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (a && nla_len(a) == 4) {
                uint32_t be;
                memcpy(&be, nla_data(a), 4);
                ev->address = ntohl(be);
        }
        return 0;
}

static void dispatch(struct nl_monitor *m, struct nlmsghdr *hdr) {
        struct nl_event ev = {
                .removed = hdr->nlmsg_type == RTM_DELROUTE || hdr->nlmsg_type == RTM_DELLINK ||
                           hdr->nlmsg_type == RTM_DELADDR,
                .self = m->self_port != 0 && hdr->nlmsg_pid == m->self_port,
        };
        int r;

        switch (hdr->nlmsg_type) {
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
                ev.kind = NL_EVENT_ROUTE;
                r = nl_route_from_msg(hdr, &ev.route);
                break;
        case RTM_NEWLINK:
        case RTM_DELLINK:
                r = parse_link(hdr, &ev);
                break;
        case RTM_NEWADDR:
        case RTM_DELADDR:
                r = parse_address(hdr, &ev);
                break;
        default:
                return;
        }
        if (r >= 0)
                m->fn(&ev, m->userdata);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct nl_monitor *m = userdata;

        (void) s;
        (void) revents;
        /* Drain the socket: one wake-up may cover a burst (a link going down deletes many routes). */
        for (int rounds = 0; rounds < 256; rounds++) {
                ssize_t n = recv(fd, m->buf, sizeof m->buf, MSG_DONTWAIT);
                int len;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        if (errno == ENOBUFS) {
                                /* The kernel dropped events; we no longer know what changed. */
                                struct nl_event ev = { .kind = NL_EVENT_OVERFLOW };
                                log_debug("Netlink event queue overflowed; re-reading the kernel state");
                                m->fn(&ev, m->userdata);
                                continue;
                        }
                        return log_error_errno(-errno, "Could not read netlink events: %m");
                }
                len = (int) n;
                for (struct nlmsghdr *hdr = (struct nlmsghdr *) m->buf; nlmsg_ok(hdr, len); hdr = nlmsg_next(hdr, &len))
                        dispatch(m, hdr);
        }
        return 0;
}

int nl_monitor_new(struct sd_event *e, const struct nl_ctx *requests, nl_event_fn fn, void *userdata,
                   struct nl_monitor **ret) {
        struct nl_monitor *m;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->fn = fn;
        m->userdata = userdata;
        m->self_port = requests ? nl_socket_get_local_port(requests->sock) : 0;
        m->sock = nl_socket_alloc();
        if (!m->sock) {
                free(m);
                return -ENOMEM;
        }
        nl_socket_disable_seq_check(m->sock);
        r = nl_connect(m->sock, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_add_memberships(m->sock, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, 0);
        if (r >= 0)
                /* Room for a burst of route events on a busy router before ENOBUFS. */
                r = nl_socket_set_buffer_size(m->sock, 4 * 1024 * 1024, 0);
        if (r >= 0)
                r = nl_socket_set_nonblocking(m->sock);
        if (r < 0) {
                r = nl_errno(r);
                nl_monitor_free(m);
                return r;
        }
        r = sd_event_add_io(e, &m->io, nl_socket_get_fd(m->sock), EPOLLIN, on_readable, m);
        if (r < 0) {
                nl_monitor_free(m);
                return r;
        }
        (void) sd_event_source_set_description(m->io, "netlink-monitor");
        *ret = m;
        return 0;
}

void nl_monitor_free(struct nl_monitor *m) {
        if (!m)
                return;
        event_source_disable_unref(m->io);
        nl_socket_free(m->sock);
        free(m);
}
