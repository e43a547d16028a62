/* SPDX-License-Identifier: MIT */
/* IPv4 and CIDR parsing, CIDR maths, the routability rules, route formatting and sets. */
#include "route.h"
#include "unit.h"
#include "util.h"

struct ipv4_case {
        const char *name;
        const char *text;
        int ok;
        uint32_t value;
};

static const struct ipv4_case ipv4_cases[] = {
        { "ipv4 plain", "10.116.0.1", 1, 0x0a740001u },
        { "ipv4 zeros", "0.0.0.0", 1, 0 },
        { "ipv4 max", "255.255.255.255", 1, 0xffffffffu },
        { "ipv4 octet 256", "10.0.0.256", 0, 0 },
        { "ipv4 leading zero", "10.01.0.1", 0, 0 },
        { "ipv4 three octets", "10.0.1", 0, 0 },
        { "ipv4 five octets", "10.0.0.1.5", 0, 0 },
        { "ipv4 empty octet", "10..0.1", 0, 0 },
        { "ipv4 trailing dot", "10.0.0.1.", 0, 0 },
        { "ipv4 space", " 10.0.0.1", 0, 0 },
        { "ipv4 trailing junk", "10.1.0.1;x", 0, 0 },
        { "ipv4 sign", "+10.0.0.1", 0, 0 },
        { "ipv4 hex", "0x0a.0.0.1", 0, 0 },
        { "ipv4 empty", "", 0, 0 },
        { "ipv4 four digits", "1000.0.0.1", 0, 0 },
        { "ipv4 ipv6", "2001:db8::1", 0, 0 },
};

static void test_ipv4(void **state) {
        const struct ipv4_case *c = *state;
        uint32_t v = 0xdeadbeef;
        int r = ipv4_parse(c->text, &v);

        if (c->ok) {
                char buf[IPV4_STRLEN];
                assert_int_equal(r, 0);
                assert_int_equal(v, c->value);
                assert_string_equal(ipv4_to_string(v, buf), c->text);
        } else {
                assert_true(r < 0);
                assert_int_equal(v, 0xdeadbeef); /* out-parameter untouched on failure */
        }
}

struct cidr_case {
        const char *name;
        const char *text;
        int expect; /* 0, -EINVAL or -EADDRNOTAVAIL */
        uint32_t addr;
        uint8_t len;
};

static const struct cidr_case cidr_cases[] = {
        { "cidr 10/8", "10.0.0.0/8", 0, 0x0a000000u, 8 },
        { "cidr 172.16/12", "172.16.0.0/12", 0, 0xac100000u, 12 },
        { "cidr host /32", "10.1.2.3/32", 0, 0x0a010203u, 32 },
        { "cidr default", "0.0.0.0/0", 0, 0, 0 },
        { "cidr host bits", "10.0.0.1/8", -EADDRNOTAVAIL, 0, 0 },
        { "cidr host bits /20", "10.116.0.2/20", -EADDRNOTAVAIL, 0, 0 },
        { "cidr len 33", "10.0.0.0/33", -EINVAL, 0, 0 },
        { "cidr no len", "10.0.0.0", -EINVAL, 0, 0 },
        { "cidr empty len", "10.0.0.0/", -EINVAL, 0, 0 },
        { "cidr len leading zero", "10.0.0.0/08", -EINVAL, 0, 0 },
        { "cidr bad addr", "10.0.0/8", -EINVAL, 0, 0 },
        { "cidr negative", "10.0.0.0/-8", -EINVAL, 0, 0 },
        { "cidr trailing", "10.0.0.0/8x", -EINVAL, 0, 0 },
        { "cidr long addr", "10.0.0.0000000000000000/8", -EINVAL, 0, 0 },
};

static void test_cidr(void **state) {
        const struct cidr_case *c = *state;
        struct cidr v = { 1, 1 };
        int r = cidr_parse(c->text, &v);

        assert_int_equal(r, c->expect);
        if (c->expect == 0) {
                char buf[CIDR_STRLEN];
                assert_int_equal(v.addr, c->addr);
                assert_int_equal(v.len, c->len);
                assert_string_equal(cidr_to_string(&v, buf), c->text);
        } else {
                assert_int_equal(v.addr, 1);
        }
}

struct check_case {
        const char *name;
        const char *text;
        bool allow_non_private;
        enum cidr_verdict verdict;
};

static const struct check_case check_cases[] = {
        { "check 10/8", "10.0.0.0/8", false, CIDR_OK },
        { "check 172.16/12", "172.16.0.0/12", false, CIDR_OK },
        { "check 192.168/16", "192.168.0.0/16", false, CIDR_OK },
        { "check vpc /20", "10.120.0.0/20", false, CIDR_OK },
        { "check /32", "10.120.0.5/32", false, CIDR_OK },
        { "check default", "0.0.0.0/0", true, CIDR_DEFAULT },
        { "check /7", "10.0.0.0/7", true, CIDR_PREFIX_TOO_SHORT },
        { "check 172.0/8 not private", "172.0.0.0/8", false, CIDR_NOT_PRIVATE },
        { "check 172.32/12 not private", "172.32.0.0/12", false, CIDR_NOT_PRIVATE },
        { "check public", "203.0.113.0/24", false, CIDR_NOT_PRIVATE },
        { "check public allowed", "203.0.113.0/24", true, CIDR_OK },
        { "check 100.64 cgnat allowed", "100.64.0.0/10", true, CIDR_OK },
        { "check loopback", "127.0.0.0/8", true, CIDR_LOOPBACK },
        { "check loopback part", "127.1.0.0/16", true, CIDR_LOOPBACK },
        { "check link-local", "169.254.0.0/16", true, CIDR_METADATA },
        { "check link-local part", "169.254.1.0/24", true, CIDR_LINK_LOCAL },
        { "check metadata host", "169.254.169.254/32", true, CIDR_METADATA },
        { "check covers metadata", "169.0.0.0/8", true, CIDR_METADATA },
        { "check multicast", "224.0.0.0/8", true, CIDR_MULTICAST },
        { "check reserved", "240.0.0.0/8", true, CIDR_RESERVED },
        { "check this network", "0.0.0.0/8", true, CIDR_THIS_NETWORK },
        { "check broadcast host", "255.255.255.255/32", true, CIDR_RESERVED },
};

static void test_check(void **state) {
        const struct check_case *c = *state;
        struct cidr v;

        assert_int_equal(cidr_parse(c->text, &v), 0);
        assert_int_equal(cidr_check(&v, c->allow_non_private), c->verdict);
        assert_non_null(cidr_verdict_to_string(c->verdict));
}

static void test_netmask(void **state) {
        (void) state;
        assert_int_equal(netmask_to_prefix(0xffffffffu), 32);
        assert_int_equal(netmask_to_prefix(0xfffff000u), 20);
        assert_int_equal(netmask_to_prefix(0xff000000u), 8);
        assert_int_equal(netmask_to_prefix(0), 0);
        assert_int_equal(netmask_to_prefix(0xff00ff00u), -EINVAL);
        assert_int_equal(netmask_to_prefix(0x00ffffffu), -EINVAL);
        assert_int_equal(netmask_to_prefix(0xfffff001u), -EINVAL);
        for (int l = 0; l <= 32; l++)
                assert_int_equal(netmask_to_prefix(prefix_to_mask((uint8_t) l)), l);
}

static void test_contains(void **state) {
        struct cidr a, b, c;
        (void) state;
        assert_int_equal(cidr_parse("10.0.0.0/8", &a), 0);
        assert_int_equal(cidr_parse("10.116.0.0/20", &b), 0);
        assert_int_equal(cidr_parse("172.16.0.0/12", &c), 0);
        assert_true(cidr_contains(&a, &b));
        assert_false(cidr_contains(&b, &a));
        assert_true(cidr_contains(&a, &a));
        assert_true(cidr_overlaps(&a, &b));
        assert_true(cidr_overlaps(&b, &a));
        assert_false(cidr_overlaps(&a, &c));
        assert_true(cidr_contains_addr(&b, 0x0a740fffu));
        assert_false(cidr_contains_addr(&b, 0x0a741000u));
}

static void test_route_string(void **state) {
        struct route r = {
                .dst = 0x0a000000u, .dst_len = 8, .gateway = 0x0a780001u, .ifindex = 3, .ifname = "ens4",
                .metric = 101, .mtu = 1500, .table = ROUTE_TABLE_MAIN, .protocol = 241,
        };
        char buf[ROUTE_STRLEN];
        (void) state;

        assert_string_equal(route_to_string(&r, buf), "10.0.0.0/8 via 10.120.0.1 dev ens4 metric 101 mtu 1500 proto 241");
        r.table = 100;
        r.protocol = 4;
        r.mtu = 0;
        assert_string_equal(route_to_string(&r, buf), "10.0.0.0/8 via 10.120.0.1 dev ens4 metric 101 proto static table 100");
        r.multipath = true;
        r.gateway = 0;
        assert_string_equal(route_to_string(&r, buf), "10.0.0.0/8 multipath metric 101 proto static table 100");
}

static void test_set_sort_unique(void **state) {
        struct route_set s = {};
        struct route a = { .dst = 0xc0a80000u, .dst_len = 16, .metric = 101, .table = 254 };
        struct route b = { .dst = 0x0a000000u, .dst_len = 8, .metric = 101, .table = 254 };
        struct route c = { .dst = 0x0a000000u, .dst_len = 8, .metric = 100, .table = 254 };
        (void) state;

        assert_int_equal(route_set_add(&s, &a), 0);
        assert_int_equal(route_set_add(&s, &b), 0);
        assert_int_equal(route_set_add(&s, &a), 0);
        assert_int_equal(route_set_add(&s, &c), 0);
        route_set_sort_unique(&s);
        assert_int_equal(s.n, 3);
        assert_int_equal(s.routes[0].metric, 100);
        assert_int_equal(s.routes[1].metric, 101);
        assert_int_equal(s.routes[1].dst, 0x0a000000u);
        assert_int_equal(s.routes[2].dst, 0xc0a80000u);
        route_set_done(&s);
        assert_null(s.routes);
}

static void test_duration(void **state) {
        uint64_t u;
        (void) state;
        assert_int_equal(parse_duration_usec("2", &u), 0);
        assert_int_equal(u, 2000000);
        assert_int_equal(parse_duration_usec("500ms", &u), 0);
        assert_int_equal(u, 500000);
        assert_int_equal(parse_duration_usec("1.5s", &u), 0);
        assert_int_equal(u, 1500000);
        assert_int_equal(parse_duration_usec("2min", &u), 0);
        assert_int_equal(u, 120000000);
        assert_true(parse_duration_usec("2 s", &u) < 0);
        assert_true(parse_duration_usec("-1", &u) < 0);
        assert_true(parse_duration_usec("s", &u) < 0);
        assert_true(parse_duration_usec("1.", &u) < 0);
        assert_true(parse_duration_usec("99999999999999999999", &u) < 0);
}

static void test_atou(void **state) {
        uint64_t u;
        (void) state;
        assert_int_equal(safe_atou64("0", 0, 10, &u), 0);
        assert_int_equal(u, 0);
        assert_int_equal(safe_atou64("4294967295", 0, UINT32_MAX, &u), 0);
        assert_int_equal(safe_atou64("4294967296", 0, UINT32_MAX, &u), -ERANGE);
        assert_int_equal(safe_atou64("18446744073709551616", 0, UINT64_MAX, &u), -ERANGE);
        assert_int_equal(safe_atou64("012", 0, 100, &u), -EINVAL);
        assert_int_equal(safe_atou64("1e3", 0, 10000, &u), -EINVAL);
        assert_int_equal(safe_atou64("", 0, 10, &u), -EINVAL);
}

static void test_quote(void **state) {
        char buf[QUOTE_BUF];
        (void) state;
        assert_string_equal(str_quote("a\"b\\c\n", 6, QUOTE_MAX, buf, sizeof buf), "a\\\"b\\\\c\\x0a");
        assert_string_equal(str_quote("abcdef", 6, 3, buf, sizeof buf), "abc...");
}

int main(void) {
        struct unit_tests u = {};

        UNIT_ADD_TABLE(&u, test_ipv4, ipv4_cases);
        UNIT_ADD_TABLE(&u, test_cidr, cidr_cases);
        UNIT_ADD_TABLE(&u, test_check, check_cases);
        UNIT_ADD(&u, test_netmask);
        UNIT_ADD(&u, test_contains);
        UNIT_ADD(&u, test_route_string);
        UNIT_ADD(&u, test_set_sort_unique);
        UNIT_ADD(&u, test_duration);
        UNIT_ADD(&u, test_atou);
        UNIT_ADD(&u, test_quote);
        return unit_run(&u, "route");
}
