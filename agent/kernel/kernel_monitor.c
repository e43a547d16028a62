/* SPDX-License-Identifier: MIT */
/* Kernel events: a netlink socket in the link, IPv4 address and IPv4 route groups, read from
 * the event loop. Each message becomes a project-level kernel_event; the daemon decides what
 * matters. Events carrying our own request socket's port id are our own changes. */
#include <arpa/inet.h>
#include <net/if.h>
#include <systemd/sd-event.h>

#include "event.h"
#include "log.h"
#include "kernel_internal.h"

struct kernel_monitor {
        sd_event *event;
        struct nl_sock *sock;
        sd_event_source *io;
        sd_event_source *reopen;    /* armed while the socket is closed after a failure */
        int fail_next_recv;         /* kernel_monitor_fail_next_recv (tests only) */
        uint32_t self_port;
        kernel_event_fn fn;
        void *userdata;
        unsigned char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static int parse_link(struct nlmsghdr *hdr, struct kernel_event *ev) {
        struct nlattr *tb[IFLA_MAX + 1];
        struct ifinfomsg *ifi;

        if ((size_t) nlmsg_datalen(hdr) < sizeof *ifi || nlmsg_parse(hdr, sizeof *ifi, tb, IFLA_MAX, NULL) < 0)
                return -EBADMSG;
        ifi = nlmsg_data(hdr);
        ev->kind = KERNEL_EVENT_LINK;
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

static int parse_address(struct nlmsghdr *hdr, struct kernel_event *ev) {
        struct nlattr *tb[IFA_MAX + 1];
        struct ifaddrmsg *ifa;
        struct nlattr *a;

        if ((size_t) nlmsg_datalen(hdr) < sizeof *ifa || nlmsg_parse(hdr, sizeof *ifa, tb, IFA_MAX, NULL) < 0)
                return -EBADMSG;
        ifa = nlmsg_data(hdr);
        if (ifa->ifa_family != AF_INET)
                return -EINVAL;
        ev->kind = KERNEL_EVENT_ADDRESS;
        ev->ifindex = (int) ifa->ifa_index;
        a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (a && nla_len(a) == 4) {
                uint32_t be;
                memcpy(&be, nla_data(a), 4);
                ev->address = ntohl(be);
        }
        return 0;
}

static void dispatch(struct kernel_monitor *m, struct nlmsghdr *hdr) {
        struct kernel_event ev = {
                .removed = hdr->nlmsg_type == RTM_DELROUTE || hdr->nlmsg_type == RTM_DELLINK ||
                           hdr->nlmsg_type == RTM_DELADDR || hdr->nlmsg_type == RTM_DELRULE,
                .self = m->self_port != 0 && hdr->nlmsg_pid == m->self_port,
        };
        int r;

        switch (hdr->nlmsg_type) {
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
                ev.kind = KERNEL_EVENT_ROUTE;
                r = kernel_route_parse(hdr, &ev.route);
                break;
        case RTM_NEWLINK:
        case RTM_DELLINK:
                r = parse_link(hdr, &ev);
                break;
        case RTM_NEWADDR:
        case RTM_DELADDR:
                r = parse_address(hdr, &ev);
                break;
        case RTM_NEWRULE:
        case RTM_DELRULE:
                ev.kind = KERNEL_EVENT_RULE;
                r = kernel_rule_parse(hdr, &ev.rule);
                break;
        default:
                return;
        }
        if (r >= 0)
                m->fn(&ev, m->userdata);
}

static int monitor_open(struct kernel_monitor *m);
static void monitor_close(struct kernel_monitor *m);

/* A socket that fails in a way the kernel does not explain (ENOBUFS is explained: events were
 * dropped) is closed and opened again, and the daemon re-reads everything: without it, healing
 * would stop while the polls go on. */
static void monitor_failed(struct kernel_monitor *m, int error) {
        uint64_t now = 0;

        log_warning_errno(error, "Kernel event socket failed (%m); opening it again and re-reading the kernel state");
        monitor_close(m);
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(m->reopen, now);
        (void) sd_event_source_set_enabled(m->reopen, SD_EVENT_ONESHOT);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct kernel_monitor *m = userdata;

        (void) s;
        (void) revents;
        /* Drain the socket: one wake-up may cover a burst (a link going down deletes many routes). */
        for (int rounds = 0; rounds < 256; rounds++) {
                ssize_t n;
                int len;

                if (m->fail_next_recv) {
                        errno = -m->fail_next_recv;
                        m->fail_next_recv = 0;
                        n = -1;
                } else
                        n = recv(fd, m->buf, sizeof m->buf, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        if (errno == ENOBUFS) {
                                /* The kernel dropped events; we no longer know what changed. */
                                struct kernel_event ev = { .kind = KERNEL_EVENT_OVERFLOW };
                                log_debug("Netlink event queue overflowed; re-reading the kernel state");
                                m->fn(&ev, m->userdata);
                                continue;
                        }
                        monitor_failed(m, negative_errno());
                        return 0;
                }
                len = (int) n;
                for (struct nlmsghdr *hdr = (struct nlmsghdr *) m->buf; nlmsg_ok(hdr, len); hdr = nlmsg_next(hdr, &len))
                        dispatch(m, hdr);
        }
        return 0;
}

static int on_reopen(sd_event_source *s, uint64_t usec, void *userdata) {
        struct kernel_monitor *m = userdata;
        struct kernel_event ev = { .kind = KERNEL_EVENT_OVERFLOW };
        int r;

        (void) s;
        r = monitor_open(m);
        if (r < 0) {
                log_debug_errno(r, "Could not open the kernel event socket again: %m; retrying in 1 s");
                (void) sd_event_source_set_time(m->reopen, usec + 1000 * 1000ULL);
                (void) sd_event_source_set_enabled(m->reopen, SD_EVENT_ONESHOT);
                return 0;
        }
        log_info("Kernel event socket open again");
        m->fn(&ev, m->userdata); /* whatever happened meanwhile: re-read it all */
        return 0;
}

static void monitor_close(struct kernel_monitor *m) {
        m->io = event_source_disable_unref(m->io);
        nl_socket_free(m->sock);
        m->sock = NULL;
}

static int monitor_open(struct kernel_monitor *m) {
        /* Room for a burst of route events on a busy router before ENOBUFS. SO_RCVBUFFORCE passes
         * rmem_max (the process holds CAP_NET_ADMIN); without the right, SO_RCVBUF is capped. */
        int size = 4 * 1024 * 1024, r;

        m->sock = nl_socket_alloc();
        if (!m->sock)
                return -ENOMEM;
        nl_socket_disable_seq_check(m->sock);
        r = nl_connect(m->sock, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_add_memberships(m->sock, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_RULE, 0);
        if (r >= 0 && setsockopt(nl_socket_get_fd(m->sock), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
                r = nl_socket_set_buffer_size(m->sock, size, 0);
        if (r >= 0)
                r = nl_socket_set_nonblocking(m->sock);
        if (r < 0) {
                r = kernel_errno(r);
                monitor_close(m);
                return r;
        }
        r = sd_event_add_io(m->event, &m->io, nl_socket_get_fd(m->sock), EPOLLIN, on_readable, m);
        if (r < 0) {
                monitor_close(m);
                return r;
        }
        (void) sd_event_source_set_description(m->io, "netlink-monitor");
        return 0;
}

int kernel_monitor_new(struct sd_event *e, const struct kernel_ctx *requests, kernel_event_fn fn, void *userdata,
                   struct kernel_monitor **ret) {
        struct kernel_monitor *m;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(e);
        m->fn = fn;
        m->userdata = userdata;
        m->self_port = requests ? nl_socket_get_local_port(requests->sock) : 0;
        r = sd_event_add_time(e, &m->reopen, CLOCK_MONOTONIC, 0, 1000, on_reopen, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->reopen, SD_EVENT_OFF);
        if (r >= 0)
                r = monitor_open(m);
        if (r < 0) {
                kernel_monitor_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

void kernel_monitor_free(struct kernel_monitor *m) {
        if (!m)
                return;
        monitor_close(m);
        event_source_disable_unref(m->reopen);
        sd_event_unref(m->event);
        free(m);
}

void kernel_monitor_fail_next_recv(struct kernel_monitor *m, int error) {
        m->fail_next_recv = error;
}

int kernel_monitor_rcvbuf(const struct kernel_monitor *m) {
        int size = 0;
        socklen_t len = sizeof size;

        if (!m->sock || getsockopt(nl_socket_get_fd(m->sock), SOL_SOCKET, SO_RCVBUF, &size, &len) < 0)
                return negative_errno();
        return size;
}
