/* SPDX-License-Identifier: MIT */
/* The service's decisions that need no loop and no kernel: the STATUS= line it publishes, and the
 * pause before re-adding a route another program keeps removing. */
#include "daemon_internal.h"
#include "state.h"
#include "unit.h"

#define SEC 1000000ULL

struct status_case {
        const char *name;
        bool api;                  /* source = api */
        unsigned failures;         /* metadata failures in a row */
        bool invalid;              /* ... of the document, not the service */
        unsigned api_failures;
        uint64_t failing_since;    /* CLOCK_MONOTONIC usec */
        uint64_t now_mono;
        size_t desired;            /* desired routes, each kept */
        enum tristate flag;
        int64_t in_sync_ago;       /* seconds before now_wall */
        const char *expect;
        size_t held;               /* routes a pending withdrawal keeps */
        size_t foreign;            /* of the desired, held by another program's equal route */
};

#define NOW_WALL 1795856400ULL /* 2026-11-28 09:00:00 UTC */

static const struct status_case status_cases[] = {
        { "metadata unreachable", false, 3, false, 0, 10 * SEC, 70 * SEC, 3, TRISTATE_TRUE, 0,
          "metadata unreachable for 60 s, keeping 0 routes", 0, 0 },
        { "metadata invalid is not unreachable", false, 1, true, 0, 10 * SEC, 200 * SEC, 3, TRISTATE_TRUE, 0,
          "metadata invalid for 3 min, keeping 0 routes", 0, 0 },
        { "a failure that started later than now reads 0 s", false, 1, false, 0, 500 * SEC, 70 * SEC, 3, TRISTATE_TRUE, 0,
          "metadata unreachable for 0 s", 0, 0 },
        { "API unreachable", true, 0, false, 2, 0, 7200 * SEC, 3, TRISTATE_TRUE, 0, "API unreachable for 2 h", 0, 0 },
        { "in sync since today: a time", false, 0, false, 0, 0, 0, 3, TRISTATE_TRUE, 3600,
          "3 routes via 10.116.0.1 dev ens4, in sync since 08:00:00", 0, 0 },
        { "in sync since another day: a date", false, 0, false, 0, 0, 0, 3, TRISTATE_TRUE, 90000,
          "3 routes via 10.116.0.1 dev ens4, in sync since 2026-11-27 08:00:00", 0, 0 },
        { "no routes: the flag says false", false, 0, false, 0, 0, 0, 0, TRISTATE_FALSE, 0,
          "no routes wanted (vpc_peering_enabled is false)", 0, 0 },
        { "no routes with source = api: no peering, not the flag", true, 0, false, 0, 0, 0, 0, TRISTATE_ABSENT, 0,
          "no routes wanted (no ACTIVE peering to route)", 0, 0 },
        { "a withdrawal held until a second answer", false, 0, false, 0, 0, 0, 0, TRISTATE_FALSE, 0,
          "no routes wanted (vpc_peering_enabled is false); keeping 3 routes until a second answer says the same", 3, 0 },
        /* DigitalOcean's own vpc-peering.service (newer images) put the three routes in place. */
        { "every route another program's", false, 0, false, 0, 0, 0, 3, TRISTATE_TRUE, 60,
          "3 routes present, held by another program (via 10.116.0.1 dev ens4), in sync since 08:59:00", 0, 3 },
        { "one route another program's", false, 0, false, 0, 0, 0, 3, TRISTATE_TRUE, 60,
          "3 routes via 10.116.0.1 dev ens4 (1 held by another program), in sync since 08:59:00", 0, 1 },
};

static void test_status(void **state) {
        const struct status_case *c = *state;
        _cleanup_config_ struct config *cfg = NULL;
        struct daemon d = {};
        char buf[256];

        assert_int_equal(config_new_default(&cfg), 0);
        cfg->source = c->api ? SOURCE_API : SOURCE_METADATA;
        d.config = cfg;
        d.src.have_md = true;
        d.src.have_api = true;
        d.src.failures = c->failures;
        d.src.metadata_invalid = c->invalid;
        d.src.api_failures = c->api_failures;
        d.src.failing_since = d.src.api_failing_since = c->failing_since;
        d.src.md.gateway = 0x0a740001u;
        d.src.md.peering_enabled = c->flag;
        d.rt.desired.n = c->desired;
        d.rt.plan.count[PLAN_KEEP] = c->desired - c->foreign;
        d.rt.plan.count[PLAN_FOREIGN_EQUAL] = c->foreign;
        snprintf(d.rt.link.ifname, sizeof d.rt.link.ifname, "ens4");
        d.rt.in_sync_since = NOW_WALL - (uint64_t) c->in_sync_ago;
        d.rt.withdrawal = (struct withdrawal) { .pending = c->held > 0, .routes = c->held };
        daemon_format_status(&d, c->now_mono, NOW_WALL, buf, sizeof buf);
        assert_contains(buf, c->expect);
}

/* A reload from source = api to metadata: STATUS= and last_error no longer speak of the API. */
static void test_reload_forgets_api(void **state) {
        _cleanup_config_ struct config *cfg = NULL;
        struct daemon d = {};
        char buf[256];
        (void) state;

        assert_int_equal(config_new_default(&cfg), 0);
        cfg->source = SOURCE_API;
        d.config = cfg;
        d.src.have_md = true;
        d.src.have_api = true;
        d.src.api_failures = 4;
        d.src.api_failing_since = 10 * SEC;
        snprintf(d.src.api_error, sizeof d.src.api_error, "API: https://api.digitalocean.com answered HTTP 503");
        d.src.pace = (struct api_pace) { .limit = 5000, .used = 12, .fleet = 3 };
        d.src.md.gateway = 0x0a740001u;
        d.src.md.peering_enabled = TRISTATE_TRUE;
        d.rt.desired.n = 3;
        d.rt.plan.count[PLAN_KEEP] = 3;
        snprintf(d.rt.link.ifname, sizeof d.rt.link.ifname, "ens4");
        d.rt.in_sync_since = NOW_WALL - 60;
        daemon_format_status(&d, 700 * SEC, NOW_WALL, buf, sizeof buf);
        assert_contains(buf, "API unreachable for 11 min");

        cfg->source = SOURCE_METADATA; /* the reloaded configuration */
        daemon_sources_new_config(&d);
        daemon_format_status(&d, 700 * SEC, NOW_WALL, buf, sizeof buf);
        assert_string_equal(buf, "3 routes via 10.116.0.1 dev ens4, in sync since 08:59:00");
        assert_string_equal(d.src.api_error, "");
        assert_int_equal(d.src.pace.limit, 0);
        assert_false(d.src.have_api);

        /* Still source = api: the failures go, the last good answer stays. */
        cfg->source = SOURCE_API;
        d.src.have_api = true;
        d.src.api_failures = 2;
        daemon_sources_new_config(&d);
        assert_int_equal(d.src.api_failures, 0);
        assert_true(d.src.have_api);
}

static const struct route ten = { .dst = 0x0a000000u, .dst_len = 8, .table = 254 };
static const struct route other = { .dst = 0xac100000u, .dst_len = 12, .table = 254 };

/* Removed at t, re-added when allowed, removed again 1 ms after each re-add: the pause doubles
 * from 10 ms to 60 s, and the fifth removal in a row is worth a warning. */
static void test_fight_escalates(void **state) {
        struct heal_backoff f = {};
        const struct fight *x = NULL;
        uint64_t t = 1000 * SEC, until = 0, expect = 0;
        (void) state;

        for (unsigned i = 1; i <= 16; i++) {
                enum fight_news news = heal_backoff_removed(&f, &ten, t, &x);
                assert_int_equal(news, i == FIGHT_WARN_REMOVALS ? FIGHT_STARTS : FIGHT_NONE);
                assert_int_equal(x->removals, i);
                expect = i == 1 ? 0 : i == 2 ? FIGHT_FIRST_PAUSE_USEC : expect * 2;
                if (expect > FIGHT_MAX_PAUSE_USEC)
                        expect = FIGHT_MAX_PAUSE_USEC;
                assert_int_equal(x->pause, expect);
                if (expect) {
                        assert_true(heal_backoff_defer(&f, &ten, t, &until));
                        assert_int_equal(until, t + expect);
                        assert_false(heal_backoff_defer(&f, &other, t, &until)); /* another destination heals at once */
                } else
                        assert_false(heal_backoff_defer(&f, &ten, t, &until));
                assert_true(i == 1 || heal_fight_ongoing(x, t));
                t += expect;              /* the pause runs out */
                assert_false(heal_backoff_defer(&f, &ten, t, &until));
                heal_backoff_readded(&f, &ten, t);
                t += 1000;                /* and 1 ms later it is gone again */
        }
        assert_int_equal(x->pause, FIGHT_MAX_PAUSE_USEC);
        heal_backoff_done(&f);
}

/* A re-added route that stays long enough ends the fight: the next removal heals at once. */
static void test_fight_ends(void **state) {
        struct heal_backoff f = {};
        const struct fight *x = NULL;
        uint64_t t = 1000 * SEC, until = 0;
        (void) state;

        for (unsigned i = 0; i < FIGHT_WARN_REMOVALS; i++) {
                (void) heal_backoff_removed(&f, &ten, t, &x);
                t += x->pause;
                heal_backoff_readded(&f, &ten, t);
                t += 1000;
        }
        assert_true(x->warned);
        t += 2 * x->pause > FIGHT_QUIET_USEC ? 2 * x->pause : FIGHT_QUIET_USEC; /* it stayed */
        assert_false(heal_fight_ongoing(x, t));
        assert_int_equal(heal_backoff_removed(&f, &ten, t, &x), FIGHT_ENDED);
        assert_int_equal(x->removals, 1);
        assert_int_equal(x->pause, 0);
        assert_false(heal_backoff_defer(&f, &ten, t, &until));
        heal_backoff_done(&f);
}

/* The withdrawal guard, pure (withdrawal.h): one answer that removes more than half of the own
 * routes is held until a second of the same kind says the same an interval later. */
static void test_withdrawal_guard(void **state) {
        const uint64_t interval[_ANSWER_MAX] = { [ANSWER_METADATA] = 30 * SEC, [ANSWER_API] = 60 * SEC };
        struct withdrawal w = {};
        (void) state;

        /* Half or less, or nothing going: nothing to hold. */
        assert_int_equal(withdrawal_judge(&w, 2, 4, 7, ANSWER_METADATA, ANSWER_METADATA, interval, 0), WITHDRAWAL_NONE);
        assert_int_equal(withdrawal_judge(&w, 0, 0, 7, ANSWER_METADATA, ANSWER_METADATA, interval, 0), WITHDRAWAL_NONE);
        assert_false(w.pending);
        /* Three of four, from the API: held, the API must confirm. */
        assert_int_equal(withdrawal_judge(&w, 3, 4, 7, ANSWER_API, ANSWER_METADATA, interval, 100 * SEC), WITHDRAWAL_HELD_NEW);
        assert_true(w.pending);
        assert_int_equal(w.by, ANSWER_API);
        assert_int_equal(w.routes, 3);
        /* A kernel event, a metadata answer, or the API too soon: still held. */
        assert_int_equal(withdrawal_judge(&w, 3, 4, 7, -1, ANSWER_API, interval, 170 * SEC), WITHDRAWAL_HELD);
        assert_int_equal(withdrawal_judge(&w, 3, 4, 7, ANSWER_METADATA, ANSWER_API, interval, 170 * SEC), WITHDRAWAL_HELD);
        assert_int_equal(withdrawal_judge(&w, 3, 4, 7, ANSWER_API, ANSWER_API, interval, 159 * SEC), WITHDRAWAL_HELD);
        /* The same answer an interval later: confirmed. */
        assert_int_equal(withdrawal_judge(&w, 3, 4, 7, ANSWER_API, ANSWER_API, interval, 160 * SEC), WITHDRAWAL_CONFIRMED);
        assert_false(w.pending);

        /* Another answer while one is held starts over; one that keeps the routes drops it. */
        assert_int_equal(withdrawal_judge(&w, 4, 4, 8, -1, ANSWER_METADATA, interval, 200 * SEC), WITHDRAWAL_HELD_NEW);
        assert_int_equal(w.by, ANSWER_METADATA);
        assert_int_equal(withdrawal_judge(&w, 4, 4, 9, ANSWER_METADATA, ANSWER_METADATA, interval, 240 * SEC), WITHDRAWAL_HELD_NEW);
        assert_int_equal(w.since, 240 * SEC);
        assert_int_equal(withdrawal_judge(&w, 1, 4, 10, ANSWER_METADATA, ANSWER_METADATA, interval, 250 * SEC), WITHDRAWAL_DROPPED);
        assert_false(w.pending);
}

/* Only deletes whose destination no desired route has count, and only they are stripped. */
static void test_withdrawal_plan(void **state) {
        struct route want = { .dst = 0x0a000000u, .dst_len = 8, .table = 100 };
        struct plan_action actions[] = {
                { .kind = PLAN_DELETE, .have = { .dst = 0x0a000000u, .dst_len = 8, .table = 254 } }, /* moves table */
                { .kind = PLAN_DELETE, .have = { .dst = 0xac100000u, .dst_len = 12 } },
                { .kind = PLAN_ADD, .want = want },
        };
        struct plan p = {};
        struct route_set desired = { .routes = &want, .n = 1 };
        (void) state;

        p.actions = malloc(sizeof actions);
        assert_non_null(p.actions);
        memcpy(p.actions, actions, sizeof actions);
        p.n = ELEMENTSOF(actions);
        assert_int_equal(withdrawal_count(&p, &desired), 1);
        withdrawal_strip(&p, &desired);
        assert_int_equal(p.n, 2);
        assert_int_equal(p.actions[0].have.table, 254);
        assert_int_equal(p.actions[1].kind, PLAN_ADD);
        free(p.actions);
}

/* The metrics textfile, whole: every metric of the table with its HELP and TYPE, the API's only
 * with source = api (and the pacing once the API sent its headers). */
static void test_metrics_file(void **state) {
        struct route r[3] = {};
        struct route_set set = { .routes = r, .n = 3 }, two = { .routes = r, .n = 2 };
        struct plan plan = { .count = { [PLAN_CONFLICT] = 1 } };
        uint64_t api_errors[_API_ERROR_KIND_MAX] = { [API_ERROR_NETWORK] = 4, [API_ERROR_TOKEN] = 1 };
        struct api_pace pace = { .interval = 300500000, .fleet = 12.25, .used = 2375, .limit = 5000 };
        struct agent_state st = {
                .desired = &set, .installed = &two, .plan = &plan, .reconciles = 118, .heals = 2, .heal_backoffs = 3,
                .metadata_errors = 5, .last_success = 1795817729, .fetch_duration_usec = 1234, .poll_cpu_usec = 250,
        };
        char path[] = "/tmp/vpr-metrics-XXXXXX";
        _cleanup_free_ char *text = NULL;
        const char *base =
                "# HELP vpc_peer_routes_routes_desired Routes the agent wants in place.\n"
                "# TYPE vpc_peer_routes_routes_desired gauge\n"
                "vpc_peer_routes_routes_desired 3\n"
                "# HELP vpc_peer_routes_routes_installed Routes of the agent's protocol in the kernel.\n"
                "# TYPE vpc_peer_routes_routes_installed gauge\n"
                "vpc_peer_routes_routes_installed 2\n"
                "# HELP vpc_peer_routes_conflicts Desired destinations held by another program's route.\n"
                "# TYPE vpc_peer_routes_conflicts gauge\n"
                "vpc_peer_routes_conflicts 1\n"
                "# HELP vpc_peer_routes_reconciles_total Reconciles run (polls and heals).\n"
                "# TYPE vpc_peer_routes_reconciles_total counter\n"
                "vpc_peer_routes_reconciles_total 118\n"
                "# HELP vpc_peer_routes_heals_total Reconciles, triggered by a kernel event, that changed routes.\n"
                "# TYPE vpc_peer_routes_heals_total counter\n"
                "vpc_peer_routes_heals_total 2\n"
                "# HELP vpc_peer_routes_heal_backoffs_total Re-adds postponed: another program kept removing the route.\n"
                "# TYPE vpc_peer_routes_heal_backoffs_total counter\n"
                "vpc_peer_routes_heal_backoffs_total 3\n"
                "# HELP vpc_peer_routes_metadata_errors_total Failed metadata fetches or documents.\n"
                "# TYPE vpc_peer_routes_metadata_errors_total counter\n"
                "vpc_peer_routes_metadata_errors_total 5\n"
                "# HELP vpc_peer_routes_last_success_timestamp_seconds Unix time of the last complete reconcile.\n"
                "# TYPE vpc_peer_routes_last_success_timestamp_seconds gauge\n"
                "vpc_peer_routes_last_success_timestamp_seconds 1795817729\n"
                "# HELP vpc_peer_routes_fetch_duration_seconds Duration of the last metadata fetch.\n"
                "# TYPE vpc_peer_routes_fetch_duration_seconds gauge\n"
                "vpc_peer_routes_fetch_duration_seconds 0.001234\n"
                "# HELP vpc_peer_routes_poll_cpu_seconds CPU time the last poll spent after its HTTP exchange.\n"
                "# TYPE vpc_peer_routes_poll_cpu_seconds gauge\n"
                "vpc_peer_routes_poll_cpu_seconds 0.000250\n";
        const char *api =
                "# HELP vpc_peer_routes_api_errors_total Failed API rounds, by kind.\n"
                "# TYPE vpc_peer_routes_api_errors_total counter\n"
                "vpc_peer_routes_api_errors_total{kind=\"network\"} 4\n"
                "vpc_peer_routes_api_errors_total{kind=\"rate_limit\"} 0\n"
                "vpc_peer_routes_api_errors_total{kind=\"token\"} 1\n"
                "vpc_peer_routes_api_errors_total{kind=\"http\"} 0\n"
                "vpc_peer_routes_api_errors_total{kind=\"answer\"} 0\n"
                "# HELP vpc_peer_routes_api_interval_seconds Time between API rounds, stretched when a fleet shares the token.\n"
                "# TYPE vpc_peer_routes_api_interval_seconds gauge\n"
                "vpc_peer_routes_api_interval_seconds 300\n"
                "# HELP vpc_peer_routes_api_fleet_estimate Agents like this one the token's use suggests (1 alone).\n"
                "# TYPE vpc_peer_routes_api_fleet_estimate gauge\n"
                "vpc_peer_routes_api_fleet_estimate 12.2\n"
                "# HELP vpc_peer_routes_api_token_used Requests of the token in the API's window (ratelimit-limit minus ratelimit-remaining).\n"
                "# TYPE vpc_peer_routes_api_token_used gauge\n"
                "vpc_peer_routes_api_token_used 2375\n"
                "# HELP vpc_peer_routes_api_token_limit The token's limit in that window (ratelimit-limit).\n"
                "# TYPE vpc_peer_routes_api_token_limit gauge\n"
                "vpc_peer_routes_api_token_limit 5000\n";
        char want[8192];
        int fd;
        (void) state;

        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(metrics_write(path, &st), 0);
        assert_int_equal(read_full_file(path, 1 << 20, &text, NULL), 0);
        assert_string_equal(text, base);
        free(TAKE_PTR(text));

        st.api_errors = api_errors;
        st.pace = &pace;
        assert_int_equal(metrics_write(path, &st), 0);
        assert_int_equal(read_full_file(path, 1 << 20, &text, NULL), 0);
        snprintf(want, sizeof want, "%s%s", base, api);
        assert_string_equal(text, want);
        unlink(path);
}

/* What the service writes, status reads back: the counters and the pacing among the rest. */
static void test_state_round_trip(void **state) {
        struct api_pace pace = { .interval = 300000000, .fleet = 12, .used = 2375, .limit = 5000 };
        struct agent_state st = {
                .pid = 812, .updated = 1795817741, .last_success = 1795817729, .source = "api", .pace = &pace,
                .reconciles = 118, .heals = 2, .heal_backoffs = 3, .metadata_errors = 5,
        };
        struct state_summary sum = {};
        struct error err = {0};
        char path[] = "/tmp/vpr-state-XXXXXX";
        int fd;
        (void) state;

        snprintf(st.status, sizeof st.status, "3 routes via 10.116.0.1 dev ens4");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(state_write(path, &st), 0);
        assert_int_equal(state_read(path, &sum, &err), 0);
        unlink(path);
        assert_int_equal(sum.pid, 812);
        assert_int_equal(sum.last_success, 1795817729);
        assert_string_equal(sum.status, "3 routes via 10.116.0.1 dev ens4");
        assert_int_equal(sum.reconciles, 118);
        assert_int_equal(sum.heals, 2);
        assert_int_equal(sum.heal_backoffs, 3);
        assert_int_equal(sum.metadata_errors, 5);
        assert_int_equal(sum.api_interval_sec, 300);
        assert_int_equal(sum.api_fleet, 12);
        assert_int_equal(sum.api_used, 2375);
        assert_int_equal(sum.api_limit, 5000);
}

int main(void) {
        struct unit_tests u = {};

        setenv("TZ", "UTC", 1);
        UNIT_ADD_TABLE(&u, test_status, status_cases);
        UNIT_ADD(&u, test_reload_forgets_api);
        UNIT_ADD(&u, test_fight_escalates);
        UNIT_ADD(&u, test_fight_ends);
        UNIT_ADD(&u, test_withdrawal_guard);
        UNIT_ADD(&u, test_withdrawal_plan);
        UNIT_ADD(&u, test_metrics_file);
        UNIT_ADD(&u, test_state_round_trip);
        return unit_run(&u, "daemon");
}
