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
        { "gateway array", "\"gateway\": \"10.116.0.1\"", "\"gateway\": []", "ipv4.gateway [...] is an array, expected a string" },
        { "gateway false", "\"gateway\": \"10.116.0.1\"", "\"gateway\": false", "ipv4.gateway false is a boolean, expected a string" },
        { "gateway blank", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \" \"", "ipv4.gateway \" \" is not an IPv4 address" },
        { "gateway outside subnet", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"10.117.0.1\"",
          "metadata: interfaces.private[0].ipv4.gateway \"10.117.0.1\" is outside the private subnet 10.116.0.0/20" },
        { "derived gateway is own address", "\"ip_address\": \"10.116.0.2\", \"netmask\": \"255.255.240.0\", \"gateway\": \"10.116.0.1\"",
          "\"ip_address\": \"10.116.0.1\", \"netmask\": \"255.255.240.0\", \"gateway\": \"0.0.0.0\"",
          "gateway is not given, and the droplet's own address 10.116.0.1 is the first of its subnet" },
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
        { "truncated", "\"tags\": [],", "\"tags\": [", "not valid JSON" },
        { "trailing garbage", "\"vpc_peering_enabled\": true}\n}", "\"vpc_peering_enabled\": true}\n} {}", "not valid JSON" },
        { "raw control char in string", "example-01", "exam\tple", "control character 0x09 inside a string" },
};

static void test_bad(void **state) {
        const struct bad_case *c = *state;
        _cleanup_free_ char *doc = edit(c->find, c->replace);
        struct metadata m = { .droplet_id = 777 };
        struct error err = {0};
        int r;

        r = metadata_parse(doc, strlen(doc), &m, &err);
        if (r >= 0) {
                /* Semantic gateway checks come with the choice of gateway. */
                struct metadata parsed = m;
                r = metadata_resolve_gateway(&parsed, 0, &err);
                m.droplet_id = 777;
        }
        assert_true(r < 0);
        assert_contains(err.msg, c->error);
        assert_int_equal(m.droplet_id, 777); /* untouched on failure */
        assert_null(strchr(err.msg, '\n'));      /* one line */
}

static void test_valid(void **state) {
        struct metadata m;
        struct error err = {0};
        (void) state;

        assert_int_equal(metadata_parse(fixture, fixture_size, &m, &err), 0);
        assert_int_equal(metadata_resolve_gateway(&m, 0, &err), 0);
        assert_int_equal(m.droplet_id, 3164444);
        assert_string_equal(m.droplet_id_problem.msg, "");
        assert_memory_equal(m.mac, ((uint8_t[]) { 0xaa, 0xbb, 0xcc, 0, 0, 2 }), 6);
        assert_int_equal(m.address, 0x0a740002u);
        assert_int_equal(m.prefixlen, 20);
        assert_int_equal(m.metadata_gateway, 0x0a740001u);
        assert_int_equal(m.gateway, 0x0a740001u);
        assert_int_equal(m.gateway_origin, GATEWAY_METADATA);
        assert_int_equal(m.peering_enabled, TRISTATE_TRUE);
        assert_true(m.has_public);
        assert_memory_equal(m.public_mac, ((uint8_t[]) { 0xaa, 0xbb, 0xcc, 0, 0, 1 }), 6);
        assert_int_equal(m.public_address, 0xc000020au);
        assert_int_equal(m.public_gateway, 0xc0000201u);
        assert_int_equal(m.anchor_address, 0x0a0a0005u);
        assert_int_equal(metadata_require_public(&m, &err), 0);
}

/* interfaces.public[0] only matters to egress: a bad or missing one never stops the parse, and
 * metadata_require_public says what is wrong with it. */
static void test_public(void **state) {
        static const struct {
                const char *find, *replace;
                int error;
                const char *message;
        } cases[] = {
                { "\"ip_address\": \"192.0.2.10\"", "\"ip_address\": \"192.0.2.300\"", -EINVAL,
                  "metadata: interfaces.public[0].ipv4.ip_address \"192.0.2.300\" is not an IPv4 address" },
                { "\"gateway\": \"192.0.2.1\"", "\"gateway\": null", -EINVAL,
                  "metadata: interfaces.public[0].ipv4.gateway is missing" },
                { "\"public\": [", "\"public\": [], \"x\": [", -ENOENT,
                  "metadata: the droplet has no public interface (interfaces.public)" },
                { "\"mac\": \"aa:bb:cc:00:00:01\"", "\"mac\": \"aa:bb\"", -EINVAL,
                  "metadata: interfaces.public[0].mac \"aa:bb\" is not a MAC address" },
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *doc = edit(cases[i].find, cases[i].replace);
                struct metadata m;
                struct error err = {0};
                int r;

                if (metadata_parse(doc, strlen(doc), &m, &err) < 0)
                        fail_msg("case %zu: the public interface must not stop the parse: %s", i, err.msg);
                assert_false(m.has_public);
                r = metadata_require_public(&m, &err);
                if (r != cases[i].error || !strstr(err.msg, cases[i].message))
                        fail_msg("case %zu: %d \"%s\"", i, r, err.msg);
        }
}

struct good_case {
        const char *name;
        const char *find;
        const char *replace;
        enum tristate flag;
};

static const struct good_case good_cases[] = {
        { "flag false", "\"vpc_peering_enabled\": true", "\"vpc_peering_enabled\": false", TRISTATE_FALSE },
        { "flag absent", ", \"vpc_peering_enabled\": true", "", TRISTATE_ABSENT },
        { "flag null", "\"vpc_peering_enabled\": true", "\"vpc_peering_enabled\": null", TRISTATE_ABSENT },
        { "features absent", "\"tags\": [],\n  \"features\": {\"dhcp_enabled\": false, \"vpc_peering_enabled\": true}", "\"tags\": []", TRISTATE_ABSENT },
        { "features empty", "\"features\": {\"dhcp_enabled\": false, \"vpc_peering_enabled\": true}", "\"features\": {}", TRISTATE_ABSENT },
        { "droplet_id absent", "\"droplet_id\": 3164444,", "", TRISTATE_TRUE },
        { "mac upper case", "\"mac\": \"aa:bb:cc:00:00:02\"", "\"mac\": \"AA:BB:CC:00:00:02\"", TRISTATE_TRUE },
        { "second private interface", "\"private\": [",
          "\"private\": [{\"ipv4\": {\"ip_address\": \"10.116.0.2\", \"netmask\": \"255.255.240.0\", \"gateway\": \"10.116.0.1\"}, "
          "\"mac\": \"aa:bb:cc:00:00:02\", \"type\": \"private\"}, ",
          TRISTATE_TRUE },
        { "escaped unicode digits", "\"gateway\": \"10.116.0.1\"", "\"gateway\": \"\\u0031\\u0030.116.0.1\"", TRISTATE_TRUE },
        { "nul escape in user_data", "runcmd", "run\\u0000cmd", TRISTATE_TRUE },
        { "unicode in hostname", "example-01", "ex\\u00e9mple-\\ud83d\\ude00", TRISTATE_TRUE },
        { "escaped quote in user_data", "package_update", "pack\\\"age\\\\", TRISTATE_TRUE },
        { "duplicate unused key", "\"region\": \"nyc3\"", "\"region\": \"nyc3\", \"region\": \"sfo3\"", TRISTATE_TRUE },
        /* Shapes real droplets served (see tests/fixtures/realworld/SOURCES.md). */
        { "tags null", "\"tags\": []", "\"tags\": null", TRISTATE_TRUE },
        { "public_keys empty string", "\"public_keys\": [", "\"public_keys\": \"\", \"x\": [", TRISTATE_TRUE },
        { "features dhcp_enabled only", "\"features\": {\"dhcp_enabled\": false, \"vpc_peering_enabled\": true}",
          "\"features\": {\"dhcp_enabled\": true}", TRISTATE_ABSENT },
        { "no reserved_ip", "\"reserved_ip\": {", "\"unknown_ip\": {", TRISTATE_TRUE },
        { "floating_ip active", "\"floating_ip\": {\"ipv4\": {\"active\": false}}",
          "\"floating_ip\": {\"ipv4\": {\"active\": true, \"ip_address\": \"138.197.59.92\"}}", TRISTATE_TRUE },
        { "unknown keys", "\"region\": \"nyc3\"",
          "\"region\": \"nyc3\", \"modify_index\": 95411, \"dotty_keys\": [\"{\\\"a\\\": 1}\"], \"ssh_info\": {\"port\": 22}",
          TRISTATE_TRUE },
        { "ipv6 upper-case zero-padded", "\"2001:DB8::1\"", "\"2604:A880:0800:00A1:0000:0000:0201:0001\"", TRISTATE_TRUE },
        { "unknown key in the private interface", "\"type\": \"private\"", "\"type\": \"private\", \"vlan\": 7", TRISTATE_TRUE },
        { "gateway /28 last host", "\"netmask\": \"255.255.240.0\", \"gateway\": \"10.116.0.1\"",
          "\"netmask\": \"255.255.255.240\", \"gateway\": \"10.116.0.14\"", TRISTATE_TRUE },
};

static void test_good(void **state) {
        const struct good_case *c = *state;
        _cleanup_free_ char *doc = edit(c->find, c->replace);
        struct metadata m;
        struct error err = {0};
        int r;

        r = metadata_parse(doc, strlen(doc), &m, &err);
        if (r < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(m.peering_enabled, c->flag);
        assert_memory_equal(m.mac, ((uint8_t[]) { 0xaa, 0xbb, 0xcc, 0, 0, 2 }), 6);
}

/* Real droplets have served a private gateway of "0.0.0.0" (sfo3, December 2021); the API shows
 * "" and null for it. All mean "not given": the VPC's gateway is the subnet's first address. */
struct gateway_case {
        const char *name;
        const char *replace;       /* replaces "gateway": "10.116.0.1" */
        uint32_t configured;
        uint32_t gateway;          /* expected, 0: an error */
        enum gateway_origin origin;
        const char *text;          /* gateway_origin_explain, or the error */
};

static const struct gateway_case gateway_cases[] = {
        { "metadata gives it", "\"gateway\": \"10.116.0.1\"", 0, 0x0a740001u, GATEWAY_METADATA, "" },
        { "0.0.0.0 derives", "\"gateway\": \"0.0.0.0\"", 0, 0x0a740001u, GATEWAY_DERIVED, "derived: the metadata gives none" },
        { "empty derives", "\"gateway\": \"\"", 0, 0x0a740001u, GATEWAY_DERIVED, "derived: the metadata gives none" },
        { "null derives", "\"gateway\": null", 0, 0x0a740001u, GATEWAY_DERIVED, "derived: the metadata gives none" },
        { "missing derives", "\"unrelated\": 1", 0, 0x0a740001u, GATEWAY_DERIVED, "derived: the metadata gives none" },
        { "config over metadata", "\"gateway\": \"10.116.0.1\"", 0x0a740009u, 0x0a740009u, GATEWAY_CONFIG,
          "from the config; the metadata gives 10.116.0.1" },
        { "config equal to metadata", "\"gateway\": \"10.116.0.1\"", 0x0a740001u, 0x0a740001u, GATEWAY_CONFIG, "from the config" },
        { "config over derivation", "\"gateway\": \"0.0.0.0\"", 0x0a740009u, 0x0a740009u, GATEWAY_CONFIG, "from the config" },
        { "config over a bad metadata gateway", "\"gateway\": \"10.117.0.1\"", 0x0a740009u, 0x0a740009u, GATEWAY_CONFIG,
          "from the config; the metadata gives 10.117.0.1" },
        { "config outside subnet", "\"gateway\": \"10.116.0.1\"", 0x0a750001u, 0, GATEWAY_CONFIG,
          "config: gateway \"10.117.0.1\" is outside the private subnet 10.116.0.0/20" },
        { "config network address", "\"gateway\": \"0.0.0.0\"", 0x0a740000u, 0, GATEWAY_CONFIG,
          "config: gateway \"10.116.0.0\" is the network address of 10.116.0.0/20" },
        { "config broadcast address", "\"gateway\": \"0.0.0.0\"", 0x0a740fffu, 0, GATEWAY_CONFIG,
          "config: gateway \"10.116.15.255\" is the broadcast address of 10.116.0.0/20" },
        { "config own address", "\"gateway\": \"0.0.0.0\"", 0x0a740002u, 0, GATEWAY_CONFIG,
          "config: gateway \"10.116.0.2\" is the droplet's own address" },
};

static void test_gateway(void **state) {
        const struct gateway_case *c = *state;
        _cleanup_free_ char *doc = edit("\"gateway\": \"10.116.0.1\"", c->replace);
        struct metadata m;
        struct error err = {0};
        char why[64];
        int r;

        r = metadata_parse(doc, strlen(doc), &m, &err);
        if (r < 0)
                fail_msg("%s", err.msg);
        m.gateway = 777;
        r = metadata_resolve_gateway(&m, c->configured, &err);
        if (!c->gateway) {
                assert_true(r < 0);
                assert_string_equal(err.msg, c->text);
                assert_int_equal(m.gateway, 777); /* untouched on failure */
                return;
        }
        if (r < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(m.gateway, c->gateway);
        assert_int_equal(m.gateway_origin, c->origin);
        assert_string_equal(gateway_origin_explain(&m, why, sizeof why), c->text);
}

/* droplet_id is a number in the documentation and a string of digits in cloud-init's capture;
 * anything else is no droplet id, which only source = api minds. */
struct droplet_id_case {
        const char *name;
        const char *replace;       /* replaces "droplet_id": 3164444, */
        uint64_t id;
        const char *problem;       /* substring of metadata_require_droplet_id's error, when id is 0 */
};

static const struct droplet_id_case droplet_id_cases[] = {
        { "number", "\"droplet_id\": 3164444,", 3164444, NULL },
        { "string of digits", "\"droplet_id\": \"22532410\",", 22532410, NULL },
        { "large number", "\"droplet_id\": 9007199254740992,", 9007199254740992ULL, NULL },
        { "large string", "\"droplet_id\": \"18446744073709551615\",", UINT64_MAX, NULL },
        { "absent", "", 0, "metadata: droplet_id is missing; source = api needs it" },
        { "null", "\"droplet_id\": null,", 0, "metadata: droplet_id is missing; source = api needs it" },
        { "string of letters", "\"droplet_id\": \"abc\",", 0,
          "metadata: droplet_id \"abc\" is not a droplet id (a number, or a string of its digits); source = api needs it" },
        { "empty string", "\"droplet_id\": \"\",", 0, "droplet_id \"\" is not a droplet id" },
        { "zero string", "\"droplet_id\": \"0\",", 0, "droplet_id \"0\" is not a droplet id" },
        { "signed string", "\"droplet_id\": \"-4\",", 0, "droplet_id \"-4\" is not a droplet id" },
        { "string too large", "\"droplet_id\": \"18446744073709551616\",", 0, "is not a droplet id" },
        { "huge", "\"droplet_id\": 1e400,", 0, "droplet_id" },
        { "fraction", "\"droplet_id\": 31.5,", 0, "droplet_id 31.5 is not an integer" },
        { "negative", "\"droplet_id\": -4,", 0, "droplet_id -4 is not an integer" },
        { "2^64", "\"droplet_id\": 18446744073709551616,", 0, "is not an integer" },
        { "object", "\"droplet_id\": {},", 0, "droplet_id {...} is an object, expected a number" },
        { "twice", "\"droplet_id\": 1, \"droplet_id\": 2,", 0, "droplet_id appears twice" },
};

static void test_droplet_id(void **state) {
        const struct droplet_id_case *c = *state;
        _cleanup_free_ char *doc = edit("\"droplet_id\": 3164444,", c->replace);
        struct metadata m;
        struct error err = {0};
        int r;

        r = metadata_parse(doc, strlen(doc), &m, &err);
        if (r < 0)
                fail_msg("a droplet_id of any kind must not stop the parse: %s", err.msg);
        assert_int_equal(m.droplet_id, c->id);
        r = metadata_require_droplet_id(&m, &err);
        if (c->id) {
                assert_int_equal(r, 0);
                return;
        }
        assert_true(r < 0);
        assert_contains(err.msg, c->problem);
        assert_null(strchr(err.msg, '\n'));
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
        struct error err = {0};

        assert_true(metadata_parse(c->doc, c->size ? c->size : strlen(c->doc), &m, &err) < 0);
        assert_contains(err.msg, c->error);
}

static void test_deep_nesting(void **state) {
        size_t depth = 100000, n = 0;
        _cleanup_free_ char *doc = malloc(depth * 2 + 1);
        struct metadata m;
        struct error err = {0};
        (void) state;

        for (size_t i = 0; i < depth; i++)
                doc[n++] = '[';
        for (size_t i = 0; i < depth; i++)
                doc[n++] = ']';
        doc[n] = '\0';
        assert_true(metadata_parse(doc, n, &m, &err) < 0);
        assert_contains(err.msg, "not valid JSON");
}

static void test_exact_buffer(void **state) {
        /* The parser must not read past size: give it a buffer without a terminating NUL. */
        char *copy = malloc(fixture_size);
        struct metadata m;
        struct error err = {0};
        (void) state;

        memcpy(copy, fixture, fixture_size);
        assert_int_equal(metadata_parse(copy, fixture_size, &m, &err), 0);
        /* Cut in the middle: an error, never a partial success. */
        assert_true(metadata_parse(copy, fixture_size / 2, &m, &err) < 0);
        free(copy);
}

static void test_huge_user_data(void **state) {
        /* DigitalOcean's user_data can be large; the parser takes it in stride. */
        size_t big = 2 * 1024 * 1024;
        _cleanup_free_ char *filler = malloc(big + 1);
        _cleanup_free_ char *doc = NULL;
        struct metadata m;
        struct error err = {0};
        (void) state;

        memset(filler, 'x', big);
        filler[big] = '\0';
        doc = edit("#cloud-config\\npackage_update", filler);
        assert_int_equal(metadata_parse(doc, strlen(doc), &m, &err), 0);
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
        UNIT_ADD_TABLE(&u, test_gateway, gateway_cases);
        UNIT_ADD_TABLE(&u, test_droplet_id, droplet_id_cases);
        UNIT_ADD_TABLE(&u, test_raw, raw_cases);
        UNIT_ADD(&u, test_deep_nesting);
        UNIT_ADD(&u, test_exact_buffer);
        UNIT_ADD(&u, test_huge_user_data);
        UNIT_ADD(&u, test_mac);
        UNIT_ADD(&u, test_public);
        int r = unit_run(&u, "metadata");
        free(fixture);
        return r;
}
