/* SPDX-License-Identifier: MIT */
/* The metadata parser against the documented shape and against every way a field can be wrong.
 * Each case edits the fixture tests/fixtures/metadata-v1.json by replacing one piece of text. */
#include "metadata_parse.h"
#include "unit.h"
#include "util.h"

static char *fixture;
static size_t fixture_size;

/* The fixture with the first occurrence of find replaced. */
static char *edit(const char *find, const char *replace) {
        return unit_edit(fixture, find, replace);
}

struct bad_case {
        const char *name;
        const char *find;
        const char *replace;
        const char *error; /* substring expected in the message */
};

#define PRIV "\"ip_address\": \"10.116.0.2\", \"netmask\": \"255.255.240.0\", \"gateway\": \"10.116.0.1\""

static const struct bad_case bad_cases[] = {
        { "gateway garbage", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.1.0.1;x\"",
          "interfaces.private[0].ipv4.gateway \"10.1.0.1;x\" is not an IPv4 address" },
        { "gateway number", "\"gateway\": \"10.116.0.1\"", "\"gateway\": 10", "interfaces.private[0].ipv4.gateway 10 is a number, expected a string" },
        { "gateway null", "\"gateway\": \"10.116.0.1\"", "\"gateway\": null", "ipv4.gateway null is null, expected a string" },
        { "gateway missing", ", \"gateway\": \"10.116.0.1\"", "", "interfaces.private[0].ipv4.gateway is missing" },
        { "gateway outside subnet", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.117.0.1\"",
          "gateway \"10.117.0.1\" is outside the private subnet 10.116.0.0/20" },
        { "gateway is network", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.116.0.0\"", "is the network address of 10.116.0.0/20" },
        { "gateway is broadcast", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.116.15.255\"", "is the broadcast address of 10.116.0.0/20" },
        { "gateway is own address", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.116.0.2\"", "is the droplet's own address" },
        { "gateway nul escape", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.116.0.1\\u0000junk\"", "ipv4.gateway \"10.116.0.1\\xef\\xbf\\xbdjunk\" is not an IPv4 address" },
        { "gateway trailing nul escape", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.116.0.1\\u0000\"", "is not an IPv4 address" },
        { "gateway leading zero", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.116.0.01\"", "is not an IPv4 address" },
        { "gateway ipv6", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"fe80::1\"", "is not an IPv4 address" },
        { "gateway duplicate key", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.116.0.1\", \"gateway\": \"10.116.0.9\"",
          "interfaces.private[0].ipv4.gateway appears twice" },
        { "address garbage", "\"ip_address\": \"10.116.0.2\"", "\"ip_address\": \"ten\"", "ipv4.ip_address \"ten\" is not an IPv4 address" },
        { "address object", "\"ip_address\": \"10.116.0.2\"", "\"ip_address\": {}", "ip_address {...} is an object, expected a string" },
        { "address is network", "\"ip_address\": \"10.116.0.2\"", "\"ip_address\": \"10.116.0.0\"", "is the network address" },
        { "netmask noncontiguous", "\"netmask\": \"255.255.240.0\"", "\"netmask\": \"255.0.255.0\"", "netmask \"255.0.255.0\" is not a contiguous netmask" },
        { "netmask /32", "\"netmask\": \"255.255.240.0\"", "\"netmask\": \"255.255.255.255\"", "is not a usable VPC subnet" },
        { "netmask /0", "\"netmask\": \"255.255.240.0\"", "\"netmask\": \"0.0.0.0\"", "is not a usable VPC subnet" },
        { "netmask bool", "\"netmask\": \"255.255.240.0\"", "\"netmask\": true", "netmask true is a boolean, expected a string" },
        { "mac short", "\"mac\": \"aa:bb:cc:00:00:02\"", "\"mac\": \"aa:bb:cc:00:02\"", "interfaces.private[0].mac \"aa:bb:cc:00:02\" is not a MAC address" },
        { "mac dashes", "\"mac\": \"aa:bb:cc:00:00:02\"", "\"mac\": \"aa-bb-cc-00-00-02\"", "is not a MAC address" },
        { "mac non-hex", "\"mac\": \"aa:bb:cc:00:00:02\"", "\"mac\": \"aa:bb:cc:00:00:zz\"", "is not a MAC address" },
        { "mac number", "\"mac\": \"aa:bb:cc:00:00:02\"", "\"mac\": 12345", "mac 12345 is a number, expected a string" },
        { "mac multicast", "\"mac\": \"aa:bb:cc:00:00:02\"", "\"mac\": \"01:00:5e:00:00:02\"", "is a multicast address" },
        { "ipv4 missing", "\"ipv4\": {" PRIV "},", "", "interfaces.private[0].ipv4 is missing" },
        { "ipv4 array", "\"ipv4\": {" PRIV "}", "\"ipv4\": []", "ipv4 [...] is an array, expected an object" },
        { "private empty", "\"private\": [", "\"private\": [], \"x\": [", "interfaces.private is empty" },
        { "private missing", "\"private\": [", "\"private_\": [", "interfaces.private is missing" },
        { "private object", "\"private\": [", "\"private\": {\"a\": 1}, \"x\": [", "interfaces.private {...} is an object, expected an array" },
        { "private entry string", "\"private\": [", "\"private\": [\"eth1\", ", "interfaces.private[0] \"eth1\" is a string, expected an object" },
        { "interfaces missing", "\"interfaces\": {", "\"interfaces_\": {", "interfaces is missing" },
        { "interfaces array", "\"interfaces\": {", "\"interfaces\": [], \"x\": {", "interfaces [...] is an array, expected an object" },
        { "interfaces duplicate", "\"interfaces\": {", "\"interfaces\": {}, \"interfaces\": {", "interfaces appears twice" },
        { "flag string", "\"vpc_peering_enabled\": true", "\"vpc_peering_enabled\": \"true\"",
          "features.vpc_peering_enabled \"true\" is a string, expected true or false" },
        { "flag number", "\"vpc_peering_enabled\": true", "\"vpc_peering_enabled\": 1", "vpc_peering_enabled 1 is a number" },
        { "features string", "\"features\": {", "\"features\": \"x\", \"f\": {", "features \"x\" is a string, expected an object" },
        { "droplet_id string", "\"droplet_id\": 3164444", "\"droplet_id\": \"3164444\"", "droplet_id \"3164444\" is a string, expected a number" },
        { "droplet_id huge", "\"droplet_id\": 3164444", "\"droplet_id\": 1e400", "droplet_id" },
        { "droplet_id fraction", "\"droplet_id\": 3164444", "\"droplet_id\": 31.5", "droplet_id 31.5 is not an integer" },
        { "droplet_id negative", "\"droplet_id\": 3164444", "\"droplet_id\": -4", "droplet_id -4 is not an integer" },
        { "droplet_id 2^64", "\"droplet_id\": 3164444", "\"droplet_id\": 18446744073709551616", "is not an integer" },
        { "truncated", "\"tags\": [],", "\"tags\": [", "not valid JSON" },
        { "trailing garbage", "\"vpc_peering_enabled\": true}\n}", "\"vpc_peering_enabled\": true}\n} {}", "not valid JSON" },
        { "raw control char in string", "example-01", "exam\tple", "control character 0x09 inside a string" },
};

static void test_bad(void **state) {
        const struct bad_case *c = *state;
        _cleanup_free_ char *doc = edit(c->find, c->replace);
        struct metadata m = { .droplet_id = 777 };
        char err[METADATA_ERR_MAX] = "";
        int r;

        r = metadata_parse(doc, strlen(doc), &m, err, sizeof err);
        assert_true(r < 0);
        assert_contains(err, c->error);
        assert_int_equal(m.droplet_id, 777); /* untouched on failure */
        assert_null(strchr(err, '\n'));      /* one line */
}

static void test_valid(void **state) {
        struct metadata m;
        char err[METADATA_ERR_MAX] = "";
        (void) state;

        assert_int_equal(metadata_parse(fixture, fixture_size, &m, err, sizeof err), 0);
        assert_int_equal(m.droplet_id, 3164444);
        assert_memory_equal(m.mac, ((uint8_t[]) { 0xaa, 0xbb, 0xcc, 0, 0, 2 }), 6);
        assert_int_equal(m.address, 0x0a740002u);
        assert_int_equal(m.prefixlen, 20);
        assert_int_equal(m.gateway, 0x0a740001u);
        assert_int_equal(m.peering_enabled, TRISTATE_TRUE);
        assert_int_equal(m.n_private, 1);
}

struct good_case {
        const char *name;
        const char *find;
        const char *replace;
        enum tristate flag;
        unsigned n_private;
};

static const struct good_case good_cases[] = {
        { "flag false", "\"vpc_peering_enabled\": true", "\"vpc_peering_enabled\": false", TRISTATE_FALSE, 1 },
        { "flag absent", ", \"vpc_peering_enabled\": true", "", TRISTATE_ABSENT, 1 },
        { "flag null", "\"vpc_peering_enabled\": true", "\"vpc_peering_enabled\": null", TRISTATE_ABSENT, 1 },
        { "features absent", "\"tags\": [],\n  \"features\": {\"dhcp_enabled\": false, \"vpc_peering_enabled\": true}", "\"tags\": []", TRISTATE_ABSENT, 1 },
        { "features empty", "\"features\": {\"dhcp_enabled\": false, \"vpc_peering_enabled\": true}", "\"features\": {}", TRISTATE_ABSENT, 1 },
        { "droplet_id absent", "\"droplet_id\": 3164444,", "", TRISTATE_TRUE, 1 },
        { "mac upper case", "\"mac\": \"aa:bb:cc:00:00:02\"", "\"mac\": \"AA:BB:CC:00:00:02\"", TRISTATE_TRUE, 1 },
        { "second private interface", "\"private\": [",
          "\"private\": [{\"ipv4\": {\"ip_address\": \"10.116.0.2\", \"netmask\": \"255.255.240.0\", \"gateway\": \"10.116.0.1\"}, "
          "\"mac\": \"aa:bb:cc:00:00:02\", \"type\": \"private\"}, ",
          TRISTATE_TRUE, 2 },
        { "escaped unicode digits", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"\\u0031\\u0030.116.0.1\"", TRISTATE_TRUE, 1 },
        { "nul escape in user_data", "runcmd", "run\\u0000cmd", TRISTATE_TRUE, 1 },
        { "unicode in hostname", "example-01", "ex\\u00e9mple-\\ud83d\\ude00", TRISTATE_TRUE, 1 },
        { "escaped quote in user_data", "package_update", "pack\\\"age\\\\", TRISTATE_TRUE, 1 },
        { "duplicate unused key", "\"region\": \"nyc3\"", "\"region\": \"nyc3\", \"region\": \"sfo3\"", TRISTATE_TRUE, 1 },
        { "gateway /28 last host", "\"netmask\": \"255.255.240.0\", \"gateway\": \"10.116.0.1\"",
          "\"netmask\": \"255.255.255.240\", \"gateway\": \"10.116.0.14\"", TRISTATE_TRUE, 1 },
};

static void test_good(void **state) {
        const struct good_case *c = *state;
        _cleanup_free_ char *doc = edit(c->find, c->replace);
        struct metadata m;
        char err[METADATA_ERR_MAX] = "";
        int r;

        r = metadata_parse(doc, strlen(doc), &m, err, sizeof err);
        if (r < 0)
                fail_msg("%s", err);
        assert_int_equal(m.peering_enabled, c->flag);
        assert_int_equal(m.n_private, c->n_private);
        assert_memory_equal(m.mac, ((uint8_t[]) { 0xaa, 0xbb, 0xcc, 0, 0, 2 }), 6);
}

struct raw_case {
        const char *name;
        const char *doc;
        size_t size; /* 0: strlen */
        const char *error;
};

static const struct raw_case raw_cases[] = {
        { "empty body", "", 0, "empty document" },
        { "html", "<html><body>502 Bad Gateway</body></html>", 0, "not valid JSON at offset 0" },
        { "array root", "[1,2,3]", 0, "document is an array, expected an object" },
        { "string root", "\"hello\"", 0, "document is a string" },
        { "number root", "42", 0, "document is a number" },
        { "null root", "null", 0, "document is null" },
        { "nul byte", "{\"a\":1}\0{}", 10, "NUL byte at offset 7" },
        { "whitespace only", "   \n", 0, "not valid JSON" },
};

static void test_raw(void **state) {
        const struct raw_case *c = *state;
        struct metadata m;
        char err[METADATA_ERR_MAX] = "";

        assert_true(metadata_parse(c->doc, c->size ? c->size : strlen(c->doc), &m, err, sizeof err) < 0);
        assert_contains(err, c->error);
}

static void test_deep_nesting(void **state) {
        size_t depth = 100000, n = 0;
        _cleanup_free_ char *doc = malloc(depth * 2 + 1);
        struct metadata m;
        char err[METADATA_ERR_MAX] = "";
        (void) state;

        for (size_t i = 0; i < depth; i++)
                doc[n++] = '[';
        for (size_t i = 0; i < depth; i++)
                doc[n++] = ']';
        doc[n] = '\0';
        assert_true(metadata_parse(doc, n, &m, err, sizeof err) < 0);
        assert_contains(err, "not valid JSON");
}

static void test_exact_buffer(void **state) {
        /* The parser must not read past size: give it a buffer without a terminating NUL. */
        char *copy = malloc(fixture_size);
        struct metadata m;
        char err[METADATA_ERR_MAX] = "";
        (void) state;

        memcpy(copy, fixture, fixture_size);
        assert_int_equal(metadata_parse(copy, fixture_size, &m, err, sizeof err), 0);
        /* Cut in the middle: an error, never a partial success. */
        assert_true(metadata_parse(copy, fixture_size / 2, &m, err, sizeof err) < 0);
        free(copy);
}

static void test_huge_user_data(void **state) {
        /* DigitalOcean's user_data can be large; the parser takes it in stride. */
        size_t big = 2 * 1024 * 1024;
        _cleanup_free_ char *filler = malloc(big + 1);
        _cleanup_free_ char *doc = NULL;
        struct metadata m;
        char err[METADATA_ERR_MAX] = "";
        (void) state;

        memset(filler, 'x', big);
        filler[big] = '\0';
        doc = edit("#cloud-config\\npackage_update", filler);
        assert_int_equal(metadata_parse(doc, strlen(doc), &m, err, sizeof err), 0);
}

static void test_mac(void **state) {
        uint8_t m[6];
        char buf[MAC_STRLEN];
        (void) state;

        assert_int_equal(mac_parse("AA:bb:0C:00:00:ff", m), 0);
        assert_string_equal(mac_to_string(m, buf), "aa:bb:0c:00:00:ff");
        assert_true(mac_parse("aa:bb:cc:00:00:0", m) < 0);
        assert_true(mac_parse("aa:bb:cc:00:00:000", m) < 0);
        assert_true(mac_parse("aabbcc000000", m) < 0);
        assert_true(mac_parse("aa:bb:cc:00:00:0g", m) < 0);
        assert_true(mac_parse("aa:bb:cc:00:00;00", m) < 0);
}

int main(void) {
        struct unit_tests u = {};

        fixture = unit_fixture("metadata-v1.json", &fixture_size);
        UNIT_ADD(&u, test_valid);
        UNIT_ADD_TABLE(&u, test_good, good_cases);
        UNIT_ADD_TABLE(&u, test_bad, bad_cases);
        UNIT_ADD_TABLE(&u, test_raw, raw_cases);
        UNIT_ADD(&u, test_deep_nesting);
        UNIT_ADD(&u, test_exact_buffer);
        UNIT_ADD(&u, test_huge_user_data);
        UNIT_ADD(&u, test_mac);
        int r = unit_run(&u, "metadata");
        free(fixture);
        return r;
}
