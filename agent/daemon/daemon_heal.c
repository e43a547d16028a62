/* SPDX-License-Identifier: MIT */
/* Reconciling in the service: from the last good metadata (and API answer) to the kernel, on
 * every poll that needs it and, within milliseconds, on every kernel event that touches the
 * agent's routes, the private NIC or its addresses. */
#include "daemon_internal.h"
#include "log.h"

/* The first kernel event after a quiet spell is healed at once (leading edge); the burst that
 * may follow (a link flap deletes every route) is coalesced into one heal this long after. */
#define HEAL_DEBOUNCE_USEC (10 * 1000ULL)
/* A route that vanishes this soon after a link or address event of the NIC went with them, by
 * the kernel's hand: that is no fight. */
#define NIC_CHANGE_GRACE_USEC (100 * 1000ULL)
/* After a link or address event of the NIC, its manager (systemd-networkd, NetworkManager,
 * ifupdown) is at work: routes it declares itself come a few milliseconds after the address.
 * Heals wait until the NIC has been quiet this long, so that such a route takes its slot first
 * and counts as present, rather than the manager finding ours there and giving up on its own. */
#define NIC_SETTLE_USEC (30 * 1000ULL)

static void set_waiting(struct daemon *d, const char *why) {
        if (streq(d->rt.waiting, why))
                return;
        if (*why)
                log_notice("Waiting: %s", why);
        else if (d->rt.waiting[0])
                log_info("No longer waiting: the private NIC is ready");
        snprintf(d->rt.waiting, sizeof d->rt.waiting, "%s", why);
}

static void log_nic_line(struct daemon *d, const struct reconcile *rc) {
        char line[RECONCILE_NIC_LINE_MAX];

        reconcile_nic_line(rc, d->config, line, sizeof line);
        if (!streq(line, d->rt.nic_line)) {
                log_info("%s", line);
                snprintf(d->rt.nic_line, sizeof d->rt.nic_line, "%s", line);
        }
}

/* The warnings every reconcile finds again (a network inside the private subnet, an interface
 * whose MAC is not the metadata's): said once, and again when they change. */
static void log_notes(struct daemon *d, const struct reconcile *rc) {
        const char *p = rc->notes;

        if (streq(rc->notes, d->rt.notes))
                return;
        while (*p) {
                size_t l = strcspn(p, "\n");
                log_warning("%.*s", (int) l, p);
                p += l + (p[l] == '\n');
        }
        snprintf(d->rt.notes, sizeof d->rt.notes, "%s", rc->notes);
}

/* The withdrawal guard (withdrawal.h): holds the deletes of an answer that would remove more
 * than half of the own routes until a second answer says the same. */
static void hold_withdrawal(struct daemon *d, struct reconcile *rc, enum trigger trigger) {
        struct withdrawal *w = &d->rt.withdrawal;
        const uint64_t interval[_ANSWER_MAX] = {
                [ANSWER_METADATA] = d->config->interval_usec,
                [ANSWER_API] = api_interval(d->config),
        };
        int answer = trigger == TRIGGER_METADATA ? ANSWER_METADATA : trigger == TRIGGER_API ? ANSWER_API : -1;
        uint64_t now = now_usec_monotonic(), since = w->since;
        size_t going = withdrawal_count(&rc->plan, &rc->desired), held = w->routes;
        char wait[FORMAT_TIMESPAN_MAX];

        switch (withdrawal_judge(w, going, rc->own.n, route_set_hash(&rc->desired), answer,
                                 d->config->source == SOURCE_API ? ANSWER_API : ANSWER_METADATA, interval, now)) {
        case WITHDRAWAL_NONE:
                return;
        case WITHDRAWAL_DROPPED:
                log_info("The answer changed: the %zu routes it would have removed stay", held);
                return;
        case WITHDRAWAL_CONFIRMED:
                log_info("A second answer %s later says the same: removing %zu route%s",
                         format_timespan(usec_until(now, since), false, wait), going, going == 1 ? "" : "s");
                return;
        case WITHDRAWAL_HELD_NEW:
                /* daemon_poll.c asks for the confirming answer in interval[w->by]. */
                log_notice("The %s answer would remove %zu of %zu routes at once; keeping them until a second answer, "
                           "in %s, says the same",
                           w->by == ANSWER_API ? "API's" : "metadata's", going, rc->own.n,
                           format_timespan(interval[w->by], false, wait));
                break;
        case WITHDRAWAL_HELD:
                break;
        }
        withdrawal_strip(&rc->plan, &rc->desired);
}

static void heal_at(struct daemon *d, uint64_t when);

struct deferral {
        struct daemon *d;
        uint64_t now;
        uint64_t earliest;          /* the next time a deferred re-add may go, 0 when none */
};

static bool not_deferred(const struct plan_action *a, void *userdata) {
        struct deferral *df = userdata;
        uint64_t not_before;

        if (a->kind != PLAN_ADD || !heal_backoff_defer(&df->d->rt.fights, &a->want, df->now, &not_before))
                return true;
        df->d->rt.heal_backoffs++;
        if (!df->earliest || not_before < df->earliest)
                df->earliest = not_before;
        return false;
}

/* Re-adds of routes in a fight wait for their pause; the heal timer comes back for them. */
static void defer_fights(struct daemon *d, struct reconcile *rc) {
        struct deferral df = { .d = d, .now = now_usec_monotonic() };

        if (d->rt.fights.n == 0)
                return;
        plan_filter(&rc->plan, not_deferred, &df);
        if (df.earliest)
                heal_at(d, df.earliest);
}

static void note_readded(struct daemon *d, const struct reconcile *rc) {
        uint64_t now = now_usec_monotonic();

        for (size_t i = 0; i < rc->plan.n; i++)
                if (rc->plan.actions[i].kind == PLAN_ADD)
                        heal_backoff_readded(&d->rt.fights, &rc->plan.actions[i].want, now);
}

int daemon_reconcile(struct daemon *d, enum trigger trigger) {
        _cleanup_reconcile_ struct reconcile rc = { .quiet_notes = true };
        char why[256];
        bool quiet;
        int r;

        if (!d->src.have_md)
                return 0;
        if (d->config->source == SOURCE_API && !d->src.have_api)
                return 0; /* no answer yet: nothing is known to be unwanted */
        d->rt.reconciles++;
        rc.md = d->src.md;
        rc.have_metadata = true;
        rc.egress_known_clean = d->rt.egress_clean;

        r = reconcile_find_link(&rc, d->nl, d->config);
        if (r == -ENODEV) {
                d->rt.have_link = false;
                set_waiting(d, rc.err.msg);
                return 0;
        }
        if (r < 0) {
                log_error("%s", rc.err.msg);
                return r;
        }
        d->rt.link = rc.link;
        d->rt.have_link = true;
        if (reconcile_link_ready(&rc, why, sizeof why) < 0) {
                log_notes(d, &rc);
                set_waiting(d, why);
                return 0;
        }
        set_waiting(d, "");
        log_nic_line(d, &rc);

        if (d->config->source == SOURCE_API) {
                r = reconcile_use_peers(&rc, d->nl, d->config, &d->src.peers, d->rt.peers_seen != d->src.peers_generation);
                if (r < 0) {
                        log_error("%s", rc.err.msg);
                        return r;
                }
                d->rt.peers_seen = d->src.peers_generation;
        }
        /* A bad record is said once, until it changes or goes (the next save replaces it). */
        d->rt.owner_warned = reconcile_load_owner(&rc, d->config, !d->rt.owner_warned) < 0;
        r = reconcile_plan(&rc, d->nl, d->config, KERNEL_LIST_FAST);
        log_notes(d, &rc);
        if (r < 0) {
                log_error("%s", rc.err.msg);
                return r;
        }
        hold_withdrawal(d, &rc, trigger);
        defer_fights(d, &rc);
        /* The very same plan failed last time: say so once, not every round. */
        quiet = d->rt.last_failed && plan_equal(&rc.plan, &d->rt.plan);
        r = reconcile_apply(&rc, d->nl, d->config, quiet);
        note_readded(d, &rc);
        if (r >= 0)
                reconcile_save_owner(&rc, d->config);
        if (!plan_conflicts_equal(&rc.plan, &d->rt.plan))
                reconcile_log_conflicts(&rc);
        if (r < 0 && !quiet)
                log_error("%s", rc.err.msg);
        d->rt.last_failed = r < 0;

        if (rc.applied_any || !d->rt.in_sync_since)
                d->rt.in_sync_since = daemon_now_sec();
        if (rc.applied_any) {
                if (trigger == TRIGGER_EVENT && rc.applied.ok > 0)
                        d->rt.heals++;
                /* What is installed now, for the state file. */
                _cleanup_route_set_ struct route_set foreign = {};
                (void) kernel_route_list(d->nl, KERNEL_LIST_FAST, d->config->table, d->config->protocol, rc.link.ifindex,
                                      &rc.desired, &rc.own, &foreign);
        }

        {
                char egress[sizeof d->rt.egress];
                const char *e = reconcile_egress_summary(&rc, d->config, &d->rt.egress_active, egress, sizeof egress);
                if (!streq(e ? e : "", d->rt.egress))
                        reconcile_egress_log(&rc, e);
                snprintf(d->rt.egress, sizeof d->rt.egress, "%s", e ? e : "");
                /* Off, and whatever was left of egress is gone: later heals need not look. */
                d->rt.egress_clean = d->config->nat_gateway.mode == NAT_OFF && r >= 0 &&
                                     (!rc.egress_plan.changes || rc.egress_applied);
        }
        route_set_move(&d->rt.desired, &rc.desired);
        route_set_move(&d->rt.own, &rc.own);
        plan_move(&d->rt.plan, &rc.plan);
        if (r >= 0)
                d->rt.last_success = daemon_now_sec();
        return r;
}

void daemon_routes_read_installed(struct daemon *d) {
        _cleanup_route_set_ struct route_set none = {}, foreign = {};

        (void) kernel_route_list(d->nl, KERNEL_LIST_FAST, d->config->table, d->config->protocol, 0, &none, &d->rt.own,
                                 &foreign);
}

void daemon_routes_reload(struct daemon *d) {
        /* Said again under the new configuration, and egress looked at again. */
        d->rt.egress_clean = false;
        d->rt.nic_line[0] = '\0';
        d->rt.notes[0] = '\0';
}

void daemon_routes_done(struct daemon *d) {
        heal_backoff_done(&d->rt.fights);
        route_set_done(&d->rt.desired);
        route_set_done(&d->rt.own);
        plan_done(&d->rt.plan);
}

/* Every change to own routes, to a route in a desired slot, to the NIC or its addresses comes as
 * a kernel event and is healed then (on_kernel_event). So a poll that finds the metadata
 * unchanged reads the kernel only when the last reconcile did not reach the desired state. */
int daemon_check(struct daemon *d, enum trigger trigger) {
        if (d->rt.waiting[0] || !d->rt.have_link || d->rt.last_failed || d->rt.withdrawal.pending)
                return daemon_reconcile(d, trigger);
        d->rt.reconciles++;
        d->rt.last_success = daemon_now_sec();
        return 0;
}

/* Arms the heal timer for when, unless it is armed for sooner already. */
static void heal_at(struct daemon *d, uint64_t when) {
        int enabled = SD_EVENT_OFF;
        uint64_t armed = 0;

        (void) sd_event_source_get_enabled(d->heal_timer, &enabled);
        if (enabled != SD_EVENT_OFF && sd_event_source_get_time(d->heal_timer, &armed) >= 0 && armed <= when)
                return;
        (void) sd_event_source_set_time(d->heal_timer, when);
        (void) sd_event_source_set_enabled(d->heal_timer, SD_EVENT_ONESHOT);
}

static void schedule_heal(struct daemon *d, const char *why) {
        uint64_t now = now_usec_monotonic(), next = d->rt.last_heal + HEAL_DEBOUNCE_USEC;

        log_debug("Kernel event: %s; checking routes", why);
        /* Leading edge: at once after a quiet spell, else at the end of the debounce. */
        heal_at(d, d->rt.last_heal && next > now ? next : now);
}

int daemon_on_heal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        uint64_t now = now_usec_monotonic();

        (void) usec;
        /* The NIC is still settling (its manager at work): once it has been quiet long enough. */
        if (d->rt.nic_changed && usec_until(now, d->rt.nic_changed) < NIC_SETTLE_USEC) {
                (void) sd_event_source_set_time(s, d->rt.nic_changed + NIC_SETTLE_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        d->rt.last_heal = now;
        (void) daemon_reconcile(d, TRIGGER_EVENT);
        daemon_publish(d);
        return 0;
}

/* Another program removed an own route: count it, and say so when it turns into a fight. */
static void own_route_removed(struct daemon *d, const struct route *r) {
        uint64_t now = now_usec_monotonic();
        const struct fight *f = NULL;
        struct route named = *r;
        char rs[ROUTE_STRLEN];

        if (d->rt.nic_changed && usec_until(now, d->rt.nic_changed) < NIC_CHANGE_GRACE_USEC)
                return;
        if (d->rt.have_link && named.ifindex == d->rt.link.ifindex)
                memcpy(named.ifname, d->rt.link.ifname, sizeof named.ifname);
        switch (heal_backoff_removed(&d->rt.fights, r, now, &f)) {
        case FIGHT_STARTS:
                log_warning("%s was removed %u times in a row by another program, each time soon after it was put back; "
                            "re-adding it after a pause that doubles, up to 60 s, while that goes on",
                            route_to_string(&named, rs), f->removals);
                break;
        case FIGHT_ENDED:
                log_info("%s stayed in place again; healing it at once from now on", route_to_string(&named, rs));
                break;
        default:
                break;
        }
}

static bool desired_has_prefix(const struct route_set *desired, const struct route *r) {
        for (size_t i = 0; i < desired->n; i++)
                if (route_same_prefix(&desired->routes[i], r))
                        return true;
        return false;
}

void daemon_on_kernel_event(const struct kernel_event *ev, void *userdata) {
        struct daemon *d = userdata;

        if (ev->kind == KERNEL_EVENT_OVERFLOW) {
                schedule_heal(d, "event queue overflow");
                return;
        }
        if (ev->self || !d->src.have_md)
                return;
        switch (ev->kind) {
        case KERNEL_EVENT_ROUTE:
                if (ev->removed && ev->route.table == d->config->table && ev->route.protocol == d->config->protocol)
                        own_route_removed(d, &ev->route);
                /* Own routes, and any route in a slot we want (an equal foreign route going away,
                 * or one of another program taking the slot). */
                if (ev->route.table == d->config->table &&
                    (ev->route.protocol == d->config->protocol || desired_has_prefix(&d->rt.desired, &ev->route)))
                        schedule_heal(d, ev->removed ? "route removed" : "route added or changed");
                /* The egress table is the agent's alone: any change in it. */
                else if (ev->route.table == EGRESS_TABLE && d->config->nat_gateway.mode != NAT_OFF)
                        schedule_heal(d, ev->removed ? "egress route removed" : "egress route added or changed");
                break;
        case KERNEL_EVENT_RULE:
                /* A rule of the agent's (a network manager's restart removes foreign rules). */
                if (ev->rule.protocol == d->config->protocol) {
                        d->rt.egress_clean = false;
                        schedule_heal(d, ev->removed ? "rule removed" : "rule added");
                }
                break;
        case KERNEL_EVENT_LINK:
                if ((d->rt.have_link && ev->ifindex == d->rt.link.ifindex) ||
                    (ev->link.has_mac && memcmp(ev->link.mac, d->src.md.mac, 6) == 0) ||
                    (d->config->interface && streq(ev->link.ifname, d->config->interface))) {
                        d->rt.nic_changed = now_usec_monotonic();
                        schedule_heal(d, "private NIC changed");
                }
                break;
        case KERNEL_EVENT_ADDRESS:
                if (!d->rt.have_link || ev->ifindex == d->rt.link.ifindex) {
                        d->rt.nic_changed = now_usec_monotonic();
                        schedule_heal(d, "address changed on the private NIC");
                }
                break;
        default:
                break;
        }
}
