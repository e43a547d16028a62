/* SPDX-License-Identifier: MIT */
/* The API parsers against DigitalOcean's response shapes and every way a field can be wrong,
 * the overlap check that keeps peer ranges off connected subnets, and same-origin checks. */
#include "api_pace.h"
#include "api_parse.h"
#include "desired.h"
#include "http.h"
#include "url.h"
#include "unit.h"

static void test_droplet_valid(void **state) {
        _cleanup_free_ char *doc = unit_fixture("api-droplet.json", NULL);
        char uuid[UUID_STRLEN];
        struct error err = {0};
        (void) state;

        if (api_parse_droplet(doc, strlen(doc), uuid, &err) < 0)
                fail_msg("%s", err.msg);
        assert_string_equal(uuid, "5a4981aa-9653-4bd1-bef5-d6bff52042e4");
}

struct bad_case {
        const char *name;
        const char *fixture;
        const char *find;
        const char *replace;
        const char *error;
};

static const struct bad_case bad_cases[] = {
        { "droplet vpc_uuid empty", "api-droplet.json", "\"vpc_uuid\": \"5a4981aa-9653-4bd1-bef5-d6bff52042e4\"",
          "\"vpc_uuid\": \"\"", "droplet.vpc_uuid \"\" is not a UUID" },
        { "droplet vpc_uuid not uuid", "api-droplet.json", "\"vpc_uuid\": \"5a4981aa-9653-4bd1-bef5-d6bff52042e4\"",
          "\"vpc_uuid\": \"../../v2/account\"", "droplet.vpc_uuid \"../../v2/account\" is not a UUID" },
        { "droplet vpc_uuid number", "api-droplet.json", "\"vpc_uuid\": \"5a4981aa-9653-4bd1-bef5-d6bff52042e4\"",
          "\"vpc_uuid\": 5", "droplet.vpc_uuid 5 is a number, expected a string" },
        { "droplet not object", "api-droplet.json", "\"droplet\": {", "\"droplet\": [], \"x\": {", "droplet [...] is an array, expected an object" },
        { "droplet missing", "api-droplet.json", "\"droplet\": {", "\"droplets\": {", "droplet is missing" },
        { "droplet truncated", "api-droplet.json", "\"tags\": [\"web\"],", "\"tags\": [\"web\"", "not valid JSON" },
        { "vpc ip_range host bits", "api-vpc.json", "\"ip_range\": \"10.120.0.0/20\"", "\"ip_range\": \"10.120.0.1/20\"",
          "vpc.ip_range \"10.120.0.1/20\" is not a network in CIDR notation (host bits set)" },
        { "vpc ip_range garbage", "api-vpc.json", "\"ip_range\": \"10.120.0.0/20\"", "\"ip_range\": \"ten\"", "vpc.ip_range \"ten\" is not a network" },
        { "vpc ip_range too small", "api-vpc.json", "\"ip_range\": \"10.120.0.0/20\"", "\"ip_range\": \"10.120.0.0/30\"",
          "is not a VPC-sized network (/8 to /28)" },
        { "vpc ip_range missing", "api-vpc.json", "\"ip_range\": \"10.120.0.0/20\",", "", "vpc.ip_range is missing" },
        { "vpc id not uuid", "api-vpc.json", "\"id\": \"aa000000-0000-4000-8000-0000000000aa\"", "\"id\": \"x\"", "vpc.id \"x\" is not a UUID" },
        { "vpc name number", "api-vpc.json", "\"name\": \"staging-vpc\"", "\"name\": 7", "vpc.name 7 is a number, expected a string" },
        { "vpc duplicate ip_range", "api-vpc.json", "\"ip_range\": \"10.120.0.0/20\"", "\"ip_range\": \"10.120.0.0/20\", \"ip_range\": \"0.0.0.0/8\"",
          "vpc.ip_range appears twice" },
        { "peerings not array", "api-peerings.json", "\"peerings\": [", "\"peerings\": {}, \"x\": [", "peerings {...} is an object, expected an array" },
        { "peerings under both keys", "api-peerings.json", "\"peerings\": [", "\"vpc_peerings\": [], \"peerings\": [",
          "both peerings and vpc_peerings are there; expected one of them" },
        { "peerings under neither key", "api-peerings.json", "\"peerings\": [", "\"peering\": [",
          "neither peerings nor vpc_peerings is there" },
        { "vpc_peerings not array", "api-peerings.json", "\"peerings\": [", "\"vpc_peerings\": null, \"x\": [",
          "vpc_peerings null is null, expected an array" },
        { "peering no vpc ids", "api-peerings.json",
          "\"vpc_ids\": [\"5a4981aa-9653-4bd1-bef5-d6bff52042e4\", \"aa000000-0000-4000-8000-0000000000aa\"]",
          "\"vpc_ids\": []", "peerings[0].vpc_ids [...] is not an array of two VPC ids" },
        { "peering three vpc ids", "api-peerings.json", "\"vpc_ids\": [\"5a4981aa-9653-4bd1-bef5-d6bff52042e4\",",
          "\"vpc_ids\": [\"5a4981aa-9653-4bd1-bef5-d6bff52042e4\", \"5a4981aa-9653-4bd1-bef5-d6bff52042e4\",",
          "is not an array of two VPC ids" },
        { "peering vpc id not uuid", "api-peerings.json", "\"aa000000-0000-4000-8000-0000000000aa\"]", "\"nope\"]",
          "peerings[0].vpc_ids[1] \"nope\" is not a UUID" },
        { "peering status number", "api-peerings.json", "\"status\": \"ACTIVE\"", "\"status\": 1", "peerings[0].status 1 is a number" },
        { "peering id missing", "api-peerings.json", "\"id\": \"bb111111-1111-4111-8111-1111111111bb\",", "", "peerings[1].id is missing" },
        { "peering entry string", "api-peerings.json", "\"peerings\": [", "\"peerings\": [\"x\", ", "peerings[0] \"x\" is a string, expected an object" },
        { "next not url", "api-peerings.json", "\"next\": \"https://", "\"next\": \"ftp://", "links.pages.next \"ftp://" },
        { "next number", "api-peerings.json", "\"next\": \"https://api.digitalocean.com/v2/vpcs/5a4981aa-9653-4bd1-bef5-d6bff52042e4/peerings?page=2&per_page=2\"",
          "\"next\": 2", "links.pages.next 2 is not an http(s) URL" },
};

static void test_bad(void **state) {
        const struct bad_case *c = *state;
        _cleanup_free_ char *base = unit_fixture(c->fixture, NULL);
        _cleanup_free_ char *doc = unit_edit(base, c->find, c->replace);
        struct error err = {0};
        char uuid[UUID_STRLEN];
        struct api_peerings_page page = {};
        struct api_vpc vpc;
        int r;

        if (strstr(c->fixture, "droplet"))
                r = api_parse_droplet(doc, strlen(doc), uuid, &err);
        else if (strstr(c->fixture, "vpc"))
                r = api_parse_vpc(doc, strlen(doc), &vpc, &err);
        else
                r = api_parse_peerings_page(doc, strlen(doc), &page, &err);
        assert_true(r < 0);
        assert_contains(err.msg, c->error);
        assert_null(page.peerings);
}

static void test_peerings_valid(void **state) {
        _cleanup_free_ char *doc = unit_fixture("api-peerings.json", NULL);
        struct api_peerings_page page = {};
        struct error err = {0};
        (void) state;

        if (api_parse_peerings_page(doc, strlen(doc), &page, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(page.n, 2);
        assert_int_equal(page.total, 5);
        assert_string_equal(page.peerings[0].name, "prod-to-staging");
        assert_int_equal(page.peerings[0].status, PEERING_ACTIVE);
        assert_string_equal(page.peerings[0].vpc_ids[1], "aa000000-0000-4000-8000-0000000000aa");
        assert_int_equal(page.peerings[1].status, PEERING_PROVISIONING);
        assert_string_equal(page.next,
                            "https://api.digitalocean.com/v2/vpcs/5a4981aa-9653-4bd1-bef5-d6bff52042e4/peerings?page=2&per_page=2");
        api_peerings_page_done(&page);
}

/* godo's shape of GET /v2/vpcs/{id}/peerings: the same list under "vpc_peerings"; and a peering
 * that names one VPC only, as godo's own test answer does. */
static void test_peerings_client_shapes(void **state) {
        _cleanup_free_ char *base = unit_fixture("api-peerings.json", NULL);
        _cleanup_free_ char *renamed = unit_edit(base, "\"peerings\": [", "\"vpc_peerings\": [");
        _cleanup_free_ char *one = unit_edit(renamed, "\"5a4981aa-9653-4bd1-bef5-d6bff52042e4\", \"aa000000-0000-4000-8000-0000000000aa\"]",
                                             "\"5a4981aa-9653-4bd1-bef5-d6bff52042e4\"]");
        struct api_peerings_page page = {};
        struct error err = {0};
        (void) state;

        if (api_parse_peerings_page(renamed, strlen(renamed), &page, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(page.n, 2);
        assert_int_equal(page.peerings[0].n_vpc_ids, 2);
        assert_string_equal(page.peerings[0].vpc_ids[1], "aa000000-0000-4000-8000-0000000000aa");
        api_peerings_page_done(&page);

        if (api_parse_peerings_page(one, strlen(one), &page, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(page.peerings[0].n_vpc_ids, 1);
        assert_string_equal(page.peerings[0].vpc_ids[0], "5a4981aa-9653-4bd1-bef5-d6bff52042e4");
        assert_string_equal(page.peerings[0].vpc_ids[1], "");
        api_peerings_page_done(&page);
}

/* A droplet in no VPC (vpc_uuid absent or null) reads as "", for the round to refuse clearly; a
 * client's dump of the bare droplet object reads like the API's answer. */
static void test_droplet_shapes(void **state) {
        const struct {
                const char *doc;
                const char *want;
        } cases[] = {
                { "{\"droplet\": {\"id\": 1}}", "" },
                { "{\"droplet\": {\"id\": 1, \"vpc_uuid\": null}}", "" },
                { "{\"id\": 1, \"vpc_uuid\": \"5a4981aa-9653-4bd1-bef5-d6bff52042e4\"}", "5a4981aa-9653-4bd1-bef5-d6bff52042e4" },
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct error err = {0};
                char uuid[UUID_STRLEN] = "x";
                if (api_parse_droplet(cases[i].doc, strlen(cases[i].doc), uuid, &err) < 0)
                        fail_msg("%s: %s", cases[i].doc, err);
                assert_string_equal(uuid, cases[i].want);
        }
}

/* ---- pacing a fleet that shares one token (api_pace.h) ---- */

#define S 1000000ULL

static struct api_pace_in pace_in(int64_t limit, int64_t remaining, uint64_t reset_in_sec, uint64_t own_interval_sec) {
        return (struct api_pace_in) {
                .limit = limit, .remaining = remaining, .has_reset = true, .reset_in = reset_in_sec * S,
                .own_interval = own_interval_sec * S, .per_round = 2, .window = API_PACE_WINDOW_USEC,
                .interval_min = 60 * S, .budget = 50,
        };
}

/* The aim: 95 % of api_budget (50 %) of 5,000 = 2,375 requests an hour. The fair interval of N
 * agents at two requests a round is 2 * N * 3600 / 2375 s: 151.6 s for 50, 3,031.6 s for 1,000. */
static void test_pace(void **state) {
        struct api_pace_in in;
        struct api_pace p;
        (void) state;

        /* No rate-limit headers: api_interval, nothing known. */
        in = pace_in(-1, -1, 0, 60);
        api_pace_compute(&in, &p);
        assert_int_equal(p.interval, 60 * S);
        assert_int_equal(p.limit, 0);

        /* Alone with its token for hours: 120 requests an hour, all its own. */
        in = pace_in(5000, 4880, 1, 60);
        api_pace_compute(&in, &p);
        assert_true(p.fleet < 1.01);
        assert_int_equal(p.interval, 60 * S);
        assert_int_equal(p.used, 120);

        /* 50 agents at the fair interval: the fleet reads 50, the interval stays. */
        in = pace_in(5000, 5000 - 2375, 1, 152);
        api_pace_compute(&in, &p);
        assert_true(p.fleet > 49.5 && p.fleet < 50.5);
        assert_true(p.interval > 151 * S && p.interval < 153 * S);
        assert_false(p.exhausted);

        /* The same 50 started together, each after its first round (no interval of its own yet:
         * api_interval): the token's use is as young as the fleet, and it reads 50 at once. */
        in = pace_in(5000, 4900, 3600, 0);
        api_pace_compute(&in, &p);
        assert_true(p.fleet > 49.5 && p.fleet < 50.5);
        assert_true(p.interval > 151 * S && p.interval < 153 * S);

        /* api_budget = 100 %: half the interval. */
        in.budget = 100;
        api_pace_compute(&in, &p);
        assert_true(p.interval > 75 * S && p.interval < 77 * S);

        /* 1,000 agents: 3,031.6 s; 2,000 would need more than the window: the window at most. */
        in = pace_in(5000, 5000 - 2375, 1, 3032);
        api_pace_compute(&in, &p);
        assert_true(p.interval > 3025 * S && p.interval < 3040 * S);
        in = pace_in(5000, 5000 - 2375, 1, 6064);
        api_pace_compute(&in, &p);
        assert_int_equal(p.interval, API_PACE_WINDOW_USEC);

        /* Twice the aim in the window (a fleet that just started): twice the fleet, and four
         * times slower still until the window drains. */
        in = pace_in(5000, 5000 - 4750, 1, 152);
        api_pace_compute(&in, &p);
        assert_true(p.interval > 1210 * S && p.interval < 1225 * S);

        /* One request left: too little for a round; wait for the oldest to expire. */
        in = pace_in(5000, 1, 30, 60);
        api_pace_compute(&in, &p);
        assert_true(p.exhausted);
        assert_true(p.interval >= 31 * S);

        /* The droplet's clock is five hours behind the API's: ratelimit-reset reads as five
         * hours away, but no request of the window expires later than the window. */
        in = pace_in(5000, 1, 5 * 3600, 60);
        api_pace_compute(&in, &p);
        assert_true(p.exhausted);
        assert_true(p.interval <= API_PACE_WINDOW_USEC + S);

        /* api_interval longer than the window is the user's to set: the pacing never asks sooner. */
        in = pace_in(5000, 4990, 1, 7200);
        in.interval_min = 7200 * S;
        api_pace_compute(&in, &p);
        assert_int_equal(p.interval, 7200 * S);
        in = pace_in(5000, 5000 - 2375, 1, 6064); /* a fleet that alone would need the window */
        in.interval_min = 7200 * S;
        api_pace_compute(&in, &p);
        assert_int_equal(p.interval, 7200 * S);

        /* remaining above the limit (another window, a proxy): nothing used, api_interval. */
        in = pace_in(5000, 6000, 1, 60);
        api_pace_compute(&in, &p);
        assert_int_equal(p.used, 0);
        assert_int_equal(p.interval, 60 * S);
}

/* A fleet's first rounds (issue 21): the start spread, the fleet read from the token's count
 * over this agent's own, the wait while the first requests fill the window, and how fast the
 * interval may shrink. */
static void test_pace_fleet_start(void **state) {
        struct api_pace_in in;
        struct api_pace p;
        (void) state;

        /* Nothing known of the fleet: 9 minutes, room for 1,000 first rounds at 222 a minute.
         * Alone: well under a second. 100: a minute. */
        assert_int_equal(api_pace_start_spread(0, 60 * S), 540 * S);
        assert_true(api_pace_start_spread(1, 60 * S) < S);
        assert_int_equal(api_pace_start_spread(100, 60 * S), 60 * S);
        assert_int_equal(api_pace_start_spread(5000, 60 * S), 540 * S);

        /* 1,000 booted together, seen by one at the end of the start spread after its first
         * round: 2,000 requests within 600 s, two of them its own. The fleet reads 1,000 though
         * its own interval says nothing yet, and the next rounds wait until the first ones leave
         * room: the window stays under the aim (2,375) while they expire 3,000 s from now. */
        in = pace_in(5000, 3000, 3000, 0);
        in.per_round = 1;
        in.first = true;
        in.own_requests = 2;
        in.arrived = 1.0;
        api_pace_compute(&in, &p);
        assert_true(p.fleet > 999 && p.fleet < 1001);
        assert_true(p.interval > 1510 * S && p.interval < 1520 * S); /* 1,000 x 3,600 / 2,375 */
        /* Room for 375 more at the aim's pace before the first expire: 3,000 - 375 x 3,600 / 2,375 */
        assert_true(p.not_before > 2425 * S && p.not_before < 2440 * S);
        /* The same seen a fifth into the spread, 400 requests in: 2,000 to come. */
        in = pace_in(5000, 4600, 3480, 0);
        in.per_round = 1;
        in.first = true;
        in.own_requests = 2;
        in.arrived = 0.2;
        api_pace_compute(&in, &p);
        assert_true(p.fleet > 999 && p.fleet < 1001);
        /* A droplet alone: its first round (two requests) leaves nothing to wait for. */
        in = pace_in(5000, 4998, 3599, 0);
        in.first = true;
        in.own_requests = 2;
        in.arrived = 1.0;
        api_pace_compute(&in, &p);
        assert_true(p.fleet < 1.01);
        assert_int_equal(p.interval, 60 * S);
        assert_true(p.not_before < 5 * S);
        /* A droplet that joins a fleet of 1,000 long after it started, a fifth into its own start
         * spread: the token's window is full (its oldest request expires in a second), so the
         * count is the whole fleet, not a fifth of it. */
        in = pace_in(5000, 5000 - 2375, 1, 0);
        in.per_round = 1;
        in.first = true;
        in.own_requests = 2;
        in.arrived = 0.2;
        api_pace_compute(&in, &p);
        assert_true(p.fleet > 1180 && p.fleet < 1195);
        assert_true(p.not_before <= S); /* nothing to wait for but the oldest request's expiry */
        in = pace_in(5000, 4998, 3599, 0);
        in.first = true;
        in.own_requests = 2;
        /* The droplet alone a fifth into a start spread: its own two requests are not projected
         * to ten. */
        in.arrived = 0.2;
        api_pace_compute(&in, &p);
        assert_true(p.fleet < 1.01);
        assert_true(p.not_before < 5 * S);

        /* The next round's delay: after a first round, not before not_before nor the end of the
         * start spread, spread over one interval; later, the interval +-10 %. */
        p = (struct api_pace) { .interval = 1500 * S, .not_before = 2400 * S };
        assert_int_equal(api_pace_delay(&p, true, 0, 0.0), 2400 * S);
        assert_int_equal(api_pace_delay(&p, true, 0, 1.0), 3900 * S);
        assert_int_equal(api_pace_delay(&p, true, 3000 * S, 0.5), 3750 * S);
        p.not_before = 0;
        assert_int_equal(api_pace_delay(&p, false, 3000 * S, 0.0), 1350 * S);
        assert_int_equal(api_pace_delay(&p, false, 3000 * S, 1.0), 1650 * S);
        /* What the history keeps of a first round: its pace, and a fifth of the wait. */
        p.not_before = 2400 * S;
        assert_int_equal(api_pace_planned(&p, true), 1980 * S);
        assert_int_equal(api_pace_planned(&p, false), 1500 * S);

        /* A token under the aim asks for a shorter interval: at most a tenth shorter a round. */
        in = pace_in(5000, 5000 - 1000, 1, 3000);
        in.last_interval = 3000 * S;
        api_pace_compute(&in, &p);
        assert_int_equal(p.interval, 2700 * S);
        in.last_interval = 0; /* before any round: no such limit */
        api_pace_compute(&in, &p);
        assert_true(p.interval < 2700 * S);
        /* Slower at once. */
        in = pace_in(5000, 5000 - 4750, 1, 152);
        in.last_interval = 152 * S;
        api_pace_compute(&in, &p);
        assert_true(p.interval > 1210 * S);
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110), both as DigitalOcean may send them. */
static void test_retry_after(void **state) {
        const int64_t now = 1795856400; /* Sat, 28 Nov 2026 09:00:00 GMT */
        static const char *const absent[] = { "", "soon", "-5", "Tomorrow", "Sat, 99 Nov 2026 09:00:00 GMT" };
        (void) state;

        assert_int_equal(http_retry_after_parse(" 30\r\n", 6, now), 30);
        assert_int_equal(http_retry_after_parse("0", 1, now), 0);
        assert_int_equal(http_retry_after_parse(" Sat, 28 Nov 2026 09:02:00 GMT\r\n", 33, now), 120);
        assert_int_equal(http_retry_after_parse("Sat, 28 Nov 2026 08:00:00 GMT", 29, now), 0);
        for (size_t i = 0; i < ELEMENTSOF(absent); i++)
                if (http_retry_after_parse(absent[i], strlen(absent[i]), now) != -1)
                        fail_msg("Retry-After \"%s\" is not a delay", absent[i]);
}

/* own_interval: the mean of the intervals planned after the rounds of the last window, the
 * hour the token's count covers, or the latest plan when the window holds no round. */
static void test_pace_history(void **state) {
        struct api_pace_history h = {};
        (void) state;

        assert_int_equal(api_pace_history_mean(&h, 1000 * S, 3600 * S), 0);
        /* 100 rounds 100 s apart, planning 100 s, then 10 planning 200 s: the window (3,600 s)
         * holds the last 36, of which 10 planned 200 s. */
        for (uint64_t i = 0; i < 110; i++)
                api_pace_history_add(&h, i * 100 * S, (i < 100 ? 100 : 200) * S);
        assert_int_equal(api_pace_history_mean(&h, 109 * 100 * S, 3600 * S), (26 * 100 + 10 * 200) * S / 36);
        /* Rounds an hour apart: the window holds the latest only. */
        struct api_pace_history sparse = {};
        for (uint64_t i = 0; i < 20; i++)
                api_pace_history_add(&sparse, i * 3600 * S, (i < 19 ? 3000 : 3600) * S);
        assert_int_equal(api_pace_history_mean(&sparse, 19 * 3600 * S, 3600 * S), 3600 * S);
        /* 3,000 s apart: the window holds two rounds, both planned 3,000 s; the 6,000 s planned
         * before them are a pace the token's count no longer holds. */
        struct api_pace_history two = {};
        for (uint64_t i = 0; i < 10; i++)
                api_pace_history_add(&two, i * 3000 * S, (i < 8 ? 6000 : 3000) * S);
        assert_int_equal(api_pace_history_mean(&two, 9 * 3000 * S, 3600 * S), 3000 * S);
        /* Asked long after the latest round: that round's plan. */
        assert_int_equal(api_pace_history_mean(&two, 20 * 3600 * S, 3600 * S), 3000 * S);
}

static void test_peerings_last_page(void **state) {
        const char *docs[] = {
                "{\"peerings\": [], \"links\": {}, \"meta\": {\"total\": 0}}",
                "{\"peerings\": [], \"links\": {\"pages\": {\"next\": null}}}",
                "{\"peerings\": []}",
                "{\"peerings\": [], \"links\": {\"pages\": {\"first\": \"https://api.digitalocean.com/v2/x\"}}}",
        };
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
                struct api_peerings_page page = {};
                struct error err = {0};
                if (api_parse_peerings_page(docs[i], strlen(docs[i]), &page, &err) < 0)
                        fail_msg("%s: %s", docs[i], err);
                assert_null(page.next);
                assert_int_equal(page.n, 0);
                api_peerings_page_done(&page);
        }
}

static void test_peering_statuses(void **state) {
        _cleanup_free_ char *base = unit_fixture("api-peerings.json", NULL);
        const char *statuses[] = { "DELETING", "FAILED", "active" };
        const enum peering_status want[] = { PEERING_DELETING, PEERING_OTHER, PEERING_OTHER };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(statuses); i++) {
                char repl[64];
                snprintf(repl, sizeof repl, "\"status\": \"%s\"", statuses[i]);
                _cleanup_free_ char *doc = unit_edit(base, "\"status\": \"ACTIVE\"", repl);
                struct api_peerings_page page = {};
                struct error err = {0};
                assert_int_equal(api_parse_peerings_page(doc, strlen(doc), &page, &err), 0);
                assert_int_equal(page.peerings[0].status, want[i]);
                api_peerings_page_done(&page);
        }
}

static void test_name_quoted(void **state) {
        _cleanup_free_ char *base = unit_fixture("api-peerings.json", NULL);
        _cleanup_free_ char *doc = unit_edit(base, "\"prod-to-staging\"", "\"evil\\u001b[31mname\\nnext\"");
        struct api_peerings_page page = {};
        struct error err = {0};
        (void) state;

        assert_int_equal(api_parse_peerings_page(doc, strlen(doc), &page, &err), 0);
        /* Printed in logs: control characters come out escaped. */
        assert_string_equal(page.peerings[0].name, "evil\\x1b[31mname\\x0anext");
        api_peerings_page_done(&page);
}

static void test_vpc_valid(void **state) {
        _cleanup_free_ char *doc = unit_fixture("api-vpc.json", NULL);
        struct api_vpc vpc;
        struct error err = {0};
        (void) state;

        if (api_parse_vpc(doc, strlen(doc), &vpc, &err) < 0)
                fail_msg("%s", err.msg);
        assert_string_equal(vpc.id, "aa000000-0000-4000-8000-0000000000aa");
        assert_string_equal(vpc.name, "staging-vpc");
        assert_int_equal(vpc.ip_range.addr, 0x0a780000u);
        assert_int_equal(vpc.ip_range.len, 20);
}

static void test_error_message(void **state) {
        const char *body = "{\"id\": \"unauthorized\", \"message\": \"Unable to authenticate you\"}";
        char buf[160];
        (void) state;

        api_parse_error_message(body, strlen(body), buf, sizeof buf);
        assert_string_equal(buf, "Unable to authenticate you");
        api_parse_error_message("<html>", 6, buf, sizeof buf);
        assert_string_equal(buf, "");
        api_parse_error_message(NULL, 0, buf, sizeof buf);
        assert_string_equal(buf, "");
}

static void test_uuid(void **state) {
        (void) state;
        assert_true(uuid_valid("5a4981aa-9653-4bd1-bef5-d6bff52042e4"));
        assert_true(uuid_valid("5A4981AA-9653-4BD1-BEF5-D6BFF52042E4"));
        assert_false(uuid_valid("5a4981aa-9653-4bd1-bef5-d6bff52042e"));
        assert_false(uuid_valid("5a4981aa-9653-4bd1-bef5-d6bff52042e4a"));
        assert_false(uuid_valid("5a4981aa+9653-4bd1-bef5-d6bff52042e4"));
        assert_false(uuid_valid("5a4981aa-9653-4bd1-bef5-d6bff52042g4"));
        assert_false(uuid_valid("../../../../../../../v2/account/keys"));
        assert_false(uuid_valid(NULL));
}

/* ---- the overlap check ---- */

struct skipped {
        char names[8][64];
        char whys[8][256];
        size_t n;
};

static void record_skip(const struct api_peer *p, const char *why, void *userdata) {
        struct skipped *s = userdata;
        if (s->n < 8) {
                snprintf(s->names[s->n], sizeof s->names[0], "%s", p->peering_name);
                snprintf(s->whys[s->n], sizeof s->whys[0], "%s", why);
                s->n++;
        }
}

static struct api_peer peer(const char *cidr, const char *name) {
        struct api_peer p = {};
        assert_int_equal(cidr_parse(cidr, &p.range), 0);
        snprintf(p.peering_name, sizeof p.peering_name, "%s", name);
        return p;
}

static struct connected_subnet conn(const char *cidr, const char *ifname) {
        struct connected_subnet c = {};
        assert_int_equal(cidr_parse(cidr, &c.net), 0);
        snprintf(c.ifname, sizeof c.ifname, "%s", ifname);
        return c;
}

static void test_overlaps(void **state) {
        struct api_peer list[] = {
                peer("10.10.0.0/16", "anchor-clash"),   /* equal to the anchor network */
                peer("10.116.0.0/16", "contains-own"),  /* contains the droplet's own VPC */
                peer("10.120.0.0/20", "good"),
                peer("10.120.0.0/20", "good-twice"),    /* a second peering to the same VPC */
                peer("172.17.0.0/24", "inside-docker"), /* inside docker0 */
                peer("192.168.0.0/20", "good-2"),
        };
        struct connected_subnet c[] = {
                conn("10.10.0.0/16", "eth0"), conn("10.116.0.0/20", "ens4"), conn("172.17.0.0/16", "docker0"),
        };
        struct api_peers peers = { .peers = list, .n = ELEMENTSOF(list) };
        struct skipped s = {};
        struct cidr *nets = NULL;
        size_t n = 0;
        char a[CIDR_STRLEN], b[CIDR_STRLEN];
        (void) state;

        assert_int_equal(desired_api_nets(&peers, c, ELEMENTSOF(c), false, &nets, &n, record_skip, &s), 0);
        assert_int_equal(n, 2);
        assert_string_equal(cidr_to_string(&nets[0], a), "10.120.0.0/20");
        assert_string_equal(cidr_to_string(&nets[1], b), "192.168.0.0/20");
        assert_int_equal(s.n, 3);
        assert_string_equal(s.names[0], "anchor-clash");
        assert_string_equal(s.whys[0], "it overlaps 10.10.0.0/16 on eth0, which the droplet reaches directly");
        assert_string_equal(s.names[1], "contains-own");
        assert_string_equal(s.whys[1], "it overlaps 10.116.0.0/20 on ens4, which the droplet reaches directly");
        assert_string_equal(s.names[2], "inside-docker");
        assert_contains(s.whys[2], "docker0");
        free(nets);
}

static void test_overlaps_rules(void **state) {
        struct api_peer list[] = { peer("100.64.0.0/16", "cgnat"), peer("169.254.0.0/16", "link-local") };
        struct api_peers peers = { .peers = list, .n = ELEMENTSOF(list) };
        struct skipped s = {};
        struct cidr *nets = NULL;
        size_t n = 0;
        (void) state;

        assert_int_equal(desired_api_nets(&peers, NULL, 0, false, &nets, &n, record_skip, &s), 0);
        assert_int_equal(n, 0);
        assert_int_equal(s.n, 2);
        assert_contains(s.whys[0], "outside RFC 1918");
        free(nets);
        s.n = 0;
        assert_int_equal(desired_api_nets(&peers, NULL, 0, true, &nets, &n, record_skip, &s), 0);
        assert_int_equal(n, 1); /* allow_non_private lets 100.64/16 through, never link-local */
        assert_contains(s.whys[0], "metadata");
        free(nets);
}

static void test_overlaps_empty(void **state) {
        struct api_peers peers = {};
        struct cidr *nets = (struct cidr *) 1;
        size_t n = 99;
        (void) state;

        assert_int_equal(desired_api_nets(&peers, NULL, 0, false, &nets, &n, NULL, NULL), 0);
        assert_int_equal(n, 0);
        assert_null(nets);
}

struct origin_case {
        const char *name;
        const char *a, *b;
        bool same;
};

static const struct origin_case origin_cases[] = {
        { "origin identical", "https://api.digitalocean.com/v2/x", "https://api.digitalocean.com", true },
        { "origin default port", "https://api.digitalocean.com:443/v2/x?page=2", "https://api.digitalocean.com", true },
        { "origin host case", "https://API.DigitalOcean.com/v2/x", "https://api.digitalocean.com", true },
        { "origin other host", "https://evil.example/v2/x", "https://api.digitalocean.com", false },
        { "origin other port", "http://192.0.2.1:8081/v2/x", "http://192.0.2.1:8080", false },
        { "origin other scheme", "http://api.digitalocean.com/v2/x", "https://api.digitalocean.com", false },
        { "origin userinfo trick", "https://api.digitalocean.com@evil.example/v2/x", "https://api.digitalocean.com", false },
        { "origin garbage", "not a url", "https://api.digitalocean.com", false },
        { "origin scheme case", "HTTPS://api.digitalocean.com/v2/x", "https://api.digitalocean.com", true },
        { "origin query right after host", "https://api.digitalocean.com?page=2", "https://api.digitalocean.com", true },
        { "origin explicit port both", "http://192.0.2.1:8080/v2/x", "http://192.0.2.1:8080", true },
        { "origin http default port", "http://192.0.2.1:80/v2/x", "http://192.0.2.1", true },
        { "origin ipv6", "https://[2001:DB8::1]:8443/v2/x", "https://[2001:db8::1]:8443", true },
        { "origin ipv6 other", "https://[2001:db8::2]:8443/v2/x", "https://[2001:db8::1]:8443", false },
        { "origin userinfo on both", "https://u@api.digitalocean.com/v2/x", "https://u@api.digitalocean.com", false },
        { "origin backslash", "https://api.digitalocean.com\\@evil.example/v2/x", "https://api.digitalocean.com", false },
        { "origin percent escape", "https://api.digitalocean.com%2f@evil.example/", "https://api.digitalocean.com", false },
        { "origin port with letters", "https://api.digitalocean.com:443.evil.example/", "https://api.digitalocean.com", false },
        { "origin port 0", "https://api.digitalocean.com:0/v2/x", "https://api.digitalocean.com:0", false },
        { "origin port too large", "https://api.digitalocean.com:65536/", "https://api.digitalocean.com:65536", false },
        { "origin empty port", "https://api.digitalocean.com:/v2/x", "https://api.digitalocean.com", false },
        { "origin trailing dot", "https://api.digitalocean.com./v2/x", "https://api.digitalocean.com", false },
        { "origin empty host", "https:///v2/x", "https://api.digitalocean.com", false },
        { "origin one slash", "https:/api.digitalocean.com/v2/x", "https://api.digitalocean.com", false },
        { "origin space", "https://api.digitalocean.com /v2/x", "https://api.digitalocean.com", false },
        { "origin unclosed bracket", "https://[2001:db8::1/v2/x", "https://[2001:db8::1]", false },
        { "origin bracket in name", "https://api]digitalocean.com/", "https://api]digitalocean.com/", false },
        { "origin ftp", "ftp://api.digitalocean.com/", "ftp://api.digitalocean.com/", false },
};

static void test_origin(void **state) {
        const struct origin_case *c = *state;
        assert_int_equal(url_same_origin(c->a, c->b), c->same);
}

/* GET /v2/vpc_nat_gateways as DigitalOcean's specification shapes it: each gateway read against
 * the droplet's VPC. */
static void test_nat_page(void **state) {
        static const char own[] = "5a4981aa-9653-4bd1-bef5-d6bff52042e4";
        static const char page1[] =
                "{\"vpc_nat_gateways\": ["
                "{\"id\": \"70e1b58d-cdec-4e95-b3ee-2d4d95feff51\", \"name\": \"my-gw\", \"type\": \"PUBLIC\","
                " \"state\": \"ACTIVE\", \"region\": \"tor1\", \"size\": 1,"
                " \"vpcs\": [{\"vpc_uuid\": \"0eb1752f-807b-4562-a077-8018e13ab1fb\", \"gateway_ip\": \"10.118.0.35\"},"
                "            {\"vpc_uuid\": \"5a4981aa-9653-4bd1-bef5-d6bff52042e4\", \"gateway_ip\": \"10.116.0.7\"}],"
                " \"egresses\": {\"public_gateways\": [{\"ipv4\": \"174.138.113.197\"}]}},"
                "{\"id\": \"80e1b58d-cdec-4e95-b3ee-2d4d95feff52\", \"state\": \"PROVISIONING\", \"vpcs\": []}],"
                " \"links\": {\"pages\": {\"next\": \"https://api.digitalocean.com/v2/vpc_nat_gateways?page=2\"}},"
                " \"meta\": {\"total\": 3}}";
        static const char bad_ip[] =
                "{\"vpc_nat_gateways\": [{\"id\": \"x\", \"state\": \"ACTIVE\","
                " \"vpcs\": [{\"vpc_uuid\": \"5a4981aa-9653-4bd1-bef5-d6bff52042e4\", \"gateway_ip\": \"10.116.0.300\"}]}]}";
        struct api_nat_page p = {};
        struct error err = {0};
        (void) state;

        assert_int_equal(api_parse_nat_page(page1, strlen(page1), own, &p, &err), 0);
        assert_int_equal(p.n, 2);
        assert_true(p.gateways[0].active);
        assert_true(p.gateways[0].serves_own_vpc);
        assert_int_equal(p.gateways[0].gateway_ip, 0x0a740007u);
        assert_string_equal(p.gateways[0].name, "my-gw");
        assert_false(p.gateways[1].active);
        assert_false(p.gateways[1].serves_own_vpc);
        assert_string_equal(p.next, "https://api.digitalocean.com/v2/vpc_nat_gateways?page=2");
        assert_true(p.has_total);
        assert_int_equal(p.total, 3);
        api_nat_page_done(&p);

        assert_true(api_parse_nat_page(bad_ip, strlen(bad_ip), own, &p, &err) < 0);
        assert_string_equal(err.msg, "vpc_nat_gateways[0].vpcs[].gateway_ip \"10.116.0.300\" is not an IPv4 address");
        assert_true(api_parse_nat_page("{\"vpcs\": []}", 12, own, &p, &err) < 0);
        assert_string_equal(err.msg, "vpc_nat_gateways is not there");
}

int main(void) {
        struct unit_tests u = {};

        UNIT_ADD(&u, test_droplet_valid);
        UNIT_ADD(&u, test_peerings_valid);
        UNIT_ADD(&u, test_peerings_last_page);
        UNIT_ADD(&u, test_peerings_client_shapes);
        UNIT_ADD(&u, test_pace);
        UNIT_ADD(&u, test_pace_history);
        UNIT_ADD(&u, test_pace_fleet_start);
        UNIT_ADD(&u, test_retry_after);
        UNIT_ADD(&u, test_droplet_shapes);
        UNIT_ADD(&u, test_peering_statuses);
        UNIT_ADD(&u, test_name_quoted);
        UNIT_ADD(&u, test_vpc_valid);
        UNIT_ADD(&u, test_error_message);
        UNIT_ADD(&u, test_uuid);
        UNIT_ADD_TABLE(&u, test_bad, bad_cases);
        UNIT_ADD(&u, test_overlaps);
        UNIT_ADD(&u, test_overlaps_rules);
        UNIT_ADD(&u, test_overlaps_empty);
        UNIT_ADD_TABLE(&u, test_origin, origin_cases);
        UNIT_ADD(&u, test_nat_page);
        return unit_run(&u, "api");
}
