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
        if (streq(d->waiting, why))
                return;
        if (*why)
                log_notice("Waiting: %s", why);
        else if (d->waiting[0])
                log_info("No longer waiting: the private NIC is ready");
        snprintf(d->waiting, sizeof d->waiting, "%s", why);
}

static void log_nic_line(struct daemon *d, const struct reconcile *rc) {
        char line[RECONCILE_NIC_LINE_MAX];

        reconcile_nic_line(rc, d->config, line, sizeof line);
        if (!streq(line, d->nic_line)) {
                log_info("%s", line);
                snprintf(d->nic_line, sizeof d->nic_line, "%s", line);
        }
}

/* The warnings every reconcile finds again (a network inside the private subnet, an interface
 * whose MAC is not the metadata's): said once, and again when they change. */
static void log_notes(struct daemon *d, const struct reconcile *rc) {
        const char *p = rc->notes;

        if (streq(rc->notes, d->notes))
                return;
        while (*p) {
                size_t l = strcspn(p, "\n");
                log_warning("%.*s", (int) l, p);
                p += l + (p[l] == '\n');
        }
        snprintf(d->notes, sizeof d->notes, "%s", rc->notes);
}

static uint64_t answer_interval(const struct daemon *d, enum trigger by) {
        return by == TRIGGER_API ? api_interval(d->config) : d->config->interval_usec;
}

/* One answer that would remove more than half of the own routes at once (a metadata document
 * saying vpc_peering_enabled: false, an API round that lost its peerings) is not enough: the same
 * answer must come again, at least an interval later. Until then the plan deletes nothing, and
 * the confirming poll is brought forward to exactly that interval. */
/* A delete that withdraws a destination: no desired route goes there any more (in any table;
 * a route that moves to another table or protocol is no withdrawal). */
static bool withdraws(const struct plan_action *a, const struct route_set *desired) {
        if (a->kind != PLAN_DELETE)
                return false;
        for (size_t i = 0; i < desired->n; i++)
                if (desired->routes[i].dst == a->have.dst && desired->routes[i].dst_len == a->have.dst_len)
                        return false;
        return true;
}

static bool not_a_withdrawal(const struct plan_action *a, void *userdata) {
        return !withdraws(a, userdata);
}

static void hold_withdrawal(struct daemon *d, struct reconcile *rc, enum trigger trigger) {
        struct withdrawal *w = &d->withdrawal;
        size_t going = 0;
        uint64_t now = now_usec_monotonic(), fingerprint;
        enum trigger by;
        char wait[32];

        for (size_t i = 0; i < rc->plan.n; i++)
                going += withdraws(&rc->plan.actions[i], &rc->desired);
        if (going == 0 || going * 2 <= rc->own.n) {
                if (w->pending)
                        log_info("The answer changed: the %zu routes it would have removed stay", w->routes);
                w->pending = false;
                return;
        }
        fingerprint = route_set_hash(&rc->desired);
        if (w->pending && w->fingerprint == fingerprint && trigger == w->by &&
            usec_until(now, w->since) >= answer_interval(d, w->by)) {
                log_info("A second answer %s later says the same: removing %zu route%s",
                         format_timespan(usec_until(now, w->since), false, wait), going, going == 1 ? "" : "s");
                w->pending = false;
                return;
        }
        if (!w->pending || w->fingerprint != fingerprint) {
                by = trigger == TRIGGER_METADATA || trigger == TRIGGER_API ? trigger
                     : d->config->source == SOURCE_API                     ? TRIGGER_API
                                                                           : TRIGGER_METADATA;
                *w = (struct withdrawal) { .pending = true, .fingerprint = fingerprint, .since = now, .by = by, .routes = going };
                log_notice("The %s answer would remove %zu of %zu routes at once; keeping them until a second answer, "
                           "in %s, says the same",
                           by == TRIGGER_API ? "API's" : "metadata's", going, rc->own.n,
                           format_timespan(answer_interval(d, by), false, wait));
                if (by == TRIGGER_API)
                        daemon_schedule_api(d, answer_interval(d, by));
                else
                        daemon_schedule_poll(d, answer_interval(d, by));
        }
        w->routes = going;
        plan_filter(&rc->plan, not_a_withdrawal, &rc->desired);
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

        if (a->kind != PLAN_ADD || !fights_defer(&df->d->fights, &a->want, df->now, &not_before))
                return true;
        df->d->heal_backoffs++;
        if (!df->earliest || not_before < df->earliest)
                df->earliest = not_before;
        return false;
}

/* Re-adds of routes in a fight wait for their pause; the heal timer comes back for them. */
static void defer_fights(struct daemon *d, struct reconcile *rc) {
        struct deferral df = { .d = d, .now = now_usec_monotonic() };

        if (d->fights.n == 0)
                return;
        plan_filter(&rc->plan, not_deferred, &df);
        if (df.earliest)
                heal_at(d, df.earliest);
}

static void note_readded(struct daemon *d, const struct reconcile *rc) {
        uint64_t now = now_usec_monotonic();

        for (size_t i = 0; i < rc->plan.n; i++)
                if (rc->plan.actions[i].kind == PLAN_ADD)
                        fights_readded(&d->fights, &rc->plan.actions[i].want, now);
}

int daemon_reconcile(struct daemon *d, enum trigger trigger) {
        _cleanup_reconcile_ struct reconcile rc = { .quiet_notes = true };
        char why[256];
        bool quiet;
        int r;

        if (!d->have_md)
                return 0;
        if (d->config->source == SOURCE_API && !d->have_api)
                return 0; /* no answer yet: nothing is known to be unwanted */
        d->reconciles++;
        rc.md = d->md;
        rc.have_metadata = true;

        r = reconcile_find_link(&rc, d->nl, d->config);
        if (r == -ENODEV) {
                d->have_link = false;
                set_waiting(d, rc.error_msg);
                return 0;
        }
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return r;
        }
        d->link = rc.link;
        d->have_link = true;
        if (reconcile_link_ready(&rc, why, sizeof why) < 0) {
                log_notes(d, &rc);
                set_waiting(d, why);
                return 0;
        }
        set_waiting(d, "");
        log_nic_line(d, &rc);

        if (d->config->source == SOURCE_API) {
                r = reconcile_use_peers(&rc, d->nl, d->config, &d->peers, d->peers_changed);
                if (r < 0) {
                        log_error("%s", rc.error_msg);
                        return r;
                }
                d->peers_changed = false;
        }
        /* A bad record is said once, until it changes or goes (the next save replaces it). */
        d->owner_warned = reconcile_load_owner(&rc, d->config, !d->owner_warned) < 0;
        r = reconcile_plan(&rc, d->nl, d->config, KERNEL_LIST_FAST);
        log_notes(d, &rc);
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return r;
        }
        hold_withdrawal(d, &rc, trigger);
        defer_fights(d, &rc);
        /* The very same plan failed last time: say so once, not every round. */
        quiet = d->last_failed && plan_equal(&rc.plan, &d->plan);
        r = reconcile_apply(&rc, d->nl, d->config, quiet);
        note_readded(d, &rc);
        if (r >= 0)
                reconcile_save_owner(&rc, d->config);
        if (!plan_conflicts_equal(&rc.plan, &d->plan))
                reconcile_log_conflicts(&rc);
        if (r < 0 && !quiet)
                log_error("%s", rc.error_msg);
        d->last_failed = r < 0;

        if (rc.applied_any || !d->in_sync_since)
                d->in_sync_since = daemon_now_sec();
        if (rc.applied_any) {
                if (trigger == TRIGGER_EVENT && rc.applied.ok > 0)
                        d->heals++;
                /* What is installed now, for the state file. */
                _cleanup_route_set_ struct route_set foreign = {};
                (void) kernel_route_list(d->nl, KERNEL_LIST_FAST, d->config->table, d->config->protocol, rc.link.ifindex,
                                      &rc.desired, &rc.own, &foreign);
        }

        route_set_move(&d->desired, &rc.desired);
        route_set_move(&d->own, &rc.own);
        plan_move(&d->plan, &rc.plan);
        if (r >= 0)
                d->last_success = daemon_now_sec();
        return r;
}

/* Every change to own routes, to a route in a desired slot, to the NIC or its addresses comes as
 * a kernel event and is healed then (on_kernel_event). So a poll that finds the metadata
 * unchanged reads the kernel only when the last reconcile did not reach the desired state. */
int daemon_check(struct daemon *d, enum trigger trigger) {
        if (d->waiting[0] || !d->have_link || d->last_failed || d->withdrawal.pending)
                return daemon_reconcile(d, trigger);
        d->reconciles++;
        d->last_success = daemon_now_sec();
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
        uint64_t now = now_usec_monotonic(), next = d->last_heal + HEAL_DEBOUNCE_USEC;

        log_debug("Kernel event: %s; checking routes", why);
        /* Leading edge: at once after a quiet spell, else at the end of the debounce. */
        heal_at(d, d->last_heal && next > now ? next : now);
}

int daemon_on_heal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;
        uint64_t now = now_usec_monotonic();

        (void) usec;
        /* The NIC is still settling (its manager at work): once it has been quiet long enough. */
        if (d->nic_changed && usec_until(now, d->nic_changed) < NIC_SETTLE_USEC) {
                (void) sd_event_source_set_time(s, d->nic_changed + NIC_SETTLE_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        d->last_heal = now;
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

        if (d->nic_changed && usec_until(now, d->nic_changed) < NIC_CHANGE_GRACE_USEC)
                return;
        if (d->have_link && named.ifindex == d->link.ifindex)
                memcpy(named.ifname, d->link.ifname, sizeof named.ifname);
        switch (fights_removed(&d->fights, r, now, &f)) {
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
        if (ev->self || !d->have_md)
                return;
        switch (ev->kind) {
        case KERNEL_EVENT_ROUTE:
                if (ev->removed && ev->route.table == d->config->table && ev->route.protocol == d->config->protocol)
                        own_route_removed(d, &ev->route);
                /* Own routes, and any route in a slot we want (an equal foreign route going away,
                 * or one of another program taking the slot). */
                if (ev->route.table == d->config->table &&
                    (ev->route.protocol == d->config->protocol || desired_has_prefix(&d->desired, &ev->route)))
                        schedule_heal(d, ev->removed ? "route removed" : "route added or changed");
                break;
        case KERNEL_EVENT_LINK:
                if ((d->have_link && ev->ifindex == d->link.ifindex) ||
                    (ev->link.has_mac && memcmp(ev->link.mac, d->md.mac, 6) == 0) ||
                    (d->config->interface && streq(ev->link.ifname, d->config->interface))) {
                        d->nic_changed = now_usec_monotonic();
                        schedule_heal(d, "private NIC changed");
                }
                break;
        case KERNEL_EVENT_ADDRESS:
                if (!d->have_link || ev->ifindex == d->link.ifindex) {
                        d->nic_changed = now_usec_monotonic();
                        schedule_heal(d, "address changed on the private NIC");
                }
                break;
        default:
                break;
        }
}
