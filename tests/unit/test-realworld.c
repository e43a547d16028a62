/* SPDX-License-Identifier: MIT */
/* The metadata parser against every document real droplets, DigitalOcean's documentation and
 * its clients have published (tests/fixtures/realworld, copied from ../shared/realworld; see its
 * SOURCES.md). Every metadata-*.json and every fragment-interfaces-*.json (wrapped into a
 * document) there becomes a test, so a capture added later is tested without a code change.
 *
 * Each document is checked twice: against what a plain reading of its JSON says (the expected
 * values are worked out here, independently of the parser), and, for the documents known today,
 * against values written down by hand from SOURCES.md. */
#include <arpa/inet.h>
#include <cjson/cJSON.h>

#include "metadata_parse.h"
#include "realworld.h"
#include "route.h"
#include "unit.h"

static struct captures docs;

struct known {
        const char *file;
        bool has_private;
        uint64_t droplet_id;
        const char *mac;
        const char *address;
        uint8_t prefixlen;
        const char *gateway;
        enum gateway_origin origin;
};

/* Written down from SOURCES.md, not from the parser. */
static const struct known known[] = {
        { "metadata-cloudinit-1.json", true, 22532410, "04:01:57:d1:9e:02", "10.132.6.205", 16, "10.132.0.1", GATEWAY_METADATA },
        { "metadata-cloudinit-2.json", false, 0, NULL, NULL, 0, NULL, 0 },
        { "metadata-docexample-micronaut.json", true, 2756294, "04:01:2a:0f:2a:02", "10.132.255.113", 16, "10.132.0.1",
          GATEWAY_METADATA },
        { "metadata-go-metadata-1.json", false, 0, NULL, NULL, 0, NULL, 0 },
        { "metadata-ohai-1.json", false, 0, NULL, NULL, 0, NULL, 0 },
        { "metadata-wolfganghuse-1.json", true, 301981521, "ae:8a:a5:54:06:27", "10.114.0.2", 20, "10.114.0.1", GATEWAY_METADATA },
        { "fragment-interfaces-cloudinit-helperdoc.json", true, 0, "04:01:58:27:7f:02", "10.132.75.35", 16, "10.132.0.1",
          GATEWAY_METADATA },
        { "fragment-interfaces-ohai-cloudspec.json", true, 0, "36:9e:23:65:c1:fe", "10.135.32.4", 16, "10.135.0.1",
          GATEWAY_METADATA },
        /* The VPC droplet of December 2021 that served "gateway": "0.0.0.0". */
        { "fragment-interfaces-seiyame-kerla.json", true, 0, "72:a3:af:7a:d1:06", "10.124.0.2", 20, "10.124.0.1",
          GATEWAY_DERIVED },
};

static bool is_capture(const char *name) {
        return (str_starts_with(name, "metadata-") || str_starts_with(name, "fragment-interfaces-")) &&
               str_ends_with(name, ".json");
}

/* A fragment is only the interfaces object: wrapped into the smallest whole document. */
static char *wrap_fragment(const char *name, const char *text) {
        char *wrapped = NULL;

        if (!str_starts_with(name, "fragment-"))
                return NULL;
        if (asprintf(&wrapped, "{\"interfaces\": %s}", text) < 0)
                abort();
        return wrapped;
}

/* ---- what a plain reading of the JSON says ---- */

struct expect {
        bool has_private;
        uint64_t droplet_id;
        uint8_t mac[6];
        uint32_t address;
        uint8_t prefixlen;
        uint32_t gateway;
        enum gateway_origin origin;
        enum tristate flag;
};

static uint32_t addr_of(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        struct in_addr a;
        if (!cJSON_IsString(v) || inet_pton(AF_INET, v->valuestring, &a) != 1)
                return 0;
        return ntohl(a.s_addr);
}

static void read_expectation(const char *text, struct expect *e) {
        cJSON *root = cJSON_Parse(text);
        const cJSON *priv, *p0, *ipv4, *id, *features;
        uint32_t mask;

        *e = (struct expect) { .flag = TRISTATE_ABSENT };
        if (!root)
                fail_msg("the test cannot read the document");
        id = cJSON_GetObjectItemCaseSensitive(root, "droplet_id");
        if (cJSON_IsNumber(id) && id->valuedouble >= 1)
                e->droplet_id = (uint64_t) id->valuedouble;
        else if (cJSON_IsString(id))
                e->droplet_id = strtoull(id->valuestring, NULL, 10);
        features = cJSON_GetObjectItemCaseSensitive(root, "features");
        if (cJSON_IsObject(features) && cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(features, "vpc_peering_enabled")))
                e->flag = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(features, "vpc_peering_enabled")) ? TRISTATE_TRUE
                                                                                                          : TRISTATE_FALSE;
        priv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "interfaces"), "private");
        p0 = cJSON_GetArrayItem(priv, 0);
        if (p0) {
                const cJSON *mac = cJSON_GetObjectItemCaseSensitive(p0, "mac"), *gw;
                unsigned m[6];

                e->has_private = true;
                assert_true(cJSON_IsString(mac));
                assert_int_equal(sscanf(mac->valuestring, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]), 6);
                for (int i = 0; i < 6; i++)
                        e->mac[i] = (uint8_t) m[i];
                ipv4 = cJSON_GetObjectItemCaseSensitive(p0, "ipv4");
                e->address = addr_of(ipv4, "ip_address");
                mask = addr_of(ipv4, "netmask");
                e->prefixlen = (uint8_t) __builtin_popcount(mask);
                gw = cJSON_GetObjectItemCaseSensitive(ipv4, "gateway");
                e->gateway = addr_of(ipv4, "gateway");
                e->origin = GATEWAY_METADATA;
                if (!gw || cJSON_IsNull(gw) || e->gateway == 0) {
                        /* Not given: DigitalOcean puts the VPC gateway on the subnet's first address. */
                        e->gateway = (e->address & mask) + 1;
                        e->origin = GATEWAY_DERIVED;
                }
        }
        cJSON_Delete(root);
}

static void test_capture(void **state) {
        const struct capture *d = *state;
        struct expect e;
        struct metadata m;
        struct error err = {0};
        int r;

        read_expectation(d->text, &e);
        r = metadata_parse(d->text, d->size, &m, &err);
        if (!e.has_private) {
                assert_true(r < 0);
                assert_string_equal(err.msg, "interfaces.private is missing (no VPC interface on this droplet)");
                return;
        }
        if (r >= 0)
                r = metadata_resolve_gateway(&m, 0, &err);
        if (r < 0)
                fail_msg("%s: %s", d->name, err);
        assert_memory_equal(m.mac, e.mac, 6);
        assert_int_equal(m.address, e.address);
        assert_int_equal(m.prefixlen, e.prefixlen);
        assert_int_equal(m.gateway, e.gateway);
        assert_int_equal(m.gateway_origin, e.origin);
        assert_int_equal(m.droplet_id, e.droplet_id);
        assert_int_equal(m.peering_enabled, e.flag);
}

/* The hand-written values agree with the parser, and every known capture is still there. */
static void test_known(void **state) {
        const struct known *k = *state;
        const struct capture *d = captures_find(&docs, k->file);
        struct metadata m;
        struct error err = {0};
        char mac[MAC_STRLEN], a[IPV4_STRLEN];
        int r;

        if (!d)
                fail_msg("%s is missing from " REALWORLD_COPY, k->file);
        r = metadata_parse(d->text, d->size, &m, &err);
        if (!k->has_private) {
                assert_true(r < 0);
                assert_contains(err.msg, "interfaces.private is missing");
                return;
        }
        if (r >= 0)
                r = metadata_resolve_gateway(&m, 0, &err);
        if (r < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(m.droplet_id, k->droplet_id);
        assert_string_equal(mac_to_string(m.mac, mac), k->mac);
        assert_string_equal(ipv4_to_string(m.address, a), k->address);
        assert_int_equal(m.prefixlen, k->prefixlen);
        assert_string_equal(ipv4_to_string(m.gateway, a), k->gateway);
        assert_int_equal(m.gateway_origin, k->origin);
        assert_int_equal(m.peering_enabled, TRISTATE_ABSENT); /* no capture carries the flag yet */
}

int main(void) {
        struct unit_tests u = {};
        int r;

        captures_load(&docs, is_capture, wrap_fragment);
        if (docs.n == 0) {
                fprintf(stderr, "no captures in " REALWORLD_COPY "\n");
                return 1;
        }
        for (size_t i = 0; i < docs.n; i++)
                unit_add(&u, docs.c[i].name, test_capture, &docs.c[i]);
        char *known_names[ELEMENTSOF(known)];
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                if (asprintf(&known_names[i], "%s as SOURCES.md describes it", known[i].file) < 0)
                        abort();
                unit_add(&u, known_names[i], test_known, (void *) &known[i]);
        }
        r = unit_run(&u, "realworld");
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                free(known_names[i]);
        captures_free(&docs);
        return r;
}
