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
#include <dirent.h>

#include "metadata_parse.h"
#include "route.h"
#include "unit.h"

/* Where the captures live: the copy in this tree, and the shared folder it was copied from
 * (beside the checkout) when it is there. VPR_REALWORLD_DIR adds another. */
#define REALWORLD_COPY SRCDIR "/tests/fixtures/realworld"
#define REALWORLD_SHARED SRCDIR "/../shared/realworld"

struct doc {
        char *name;     /* "metadata-x.json", or "shared/metadata-x.json" for a differing shared copy */
        char *text;     /* a whole metadata document (fragments already wrapped) */
        size_t size;
};

static struct doc *docs;
static size_t n_docs, cap_docs;

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

static bool starts_with(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t l = strlen(s), k = strlen(suffix);
        return l >= k && streq(s + l - k, suffix);
}

static bool is_capture(const char *name) {
        return (starts_with(name, "metadata-") || starts_with(name, "fragment-interfaces-")) && ends_with(name, ".json");
}

static const struct doc *find_doc(const char *name) {
        for (size_t i = 0; i < n_docs; i++)
                if (streq(docs[i].name, name))
                        return &docs[i];
        return NULL;
}

/* Adds every capture of dir; a file whose name is taken already is added under prefix/name
 * when its text differs, and skipped when it is the same. */
static void load_dir(const char *dir, const char *prefix) {
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);

        for (int i = 0; i < n; i++) {
                char path[1024], *text = NULL, *name = NULL;
                const struct doc *same;
                size_t size = 0;

                if (!is_capture(list[i]->d_name)) {
                        free(list[i]);
                        continue;
                }
                snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
                if (read_full_file(path, 64 << 20, &text, &size) < 0)
                        abort();
                if (starts_with(list[i]->d_name, "fragment-")) {
                        /* Only the interfaces object: wrap it into the smallest whole document. */
                        char *wrapped = NULL;
                        if (asprintf(&wrapped, "{\"interfaces\": %s}", text) < 0)
                                abort();
                        free(text);
                        text = wrapped;
                        size = strlen(text);
                }
                same = find_doc(list[i]->d_name);
                if (same && same->size == size && memcmp(same->text, text, size) == 0) {
                        free(text);
                        free(list[i]);
                        continue;
                }
                if ((same ? asprintf(&name, "%s/%s", prefix, list[i]->d_name) : asprintf(&name, "%s", list[i]->d_name)) < 0)
                        abort();
                if (GREEDY_REALLOC(docs, cap_docs, n_docs + 1) < 0)
                        abort();
                docs[n_docs++] = (struct doc) { .name = name, .text = text, .size = size };
                free(list[i]);
        }
        free(list);
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
        const struct doc *d = *state;
        struct expect e;
        struct metadata m;
        char err[METADATA_ERR_MAX] = "";
        int r;

        read_expectation(d->text, &e);
        r = metadata_parse(d->text, d->size, &m, err, sizeof err);
        if (!e.has_private) {
                assert_true(r < 0);
                assert_string_equal(err, "interfaces.private is missing (no VPC interface on this droplet)");
                return;
        }
        if (r >= 0)
                r = metadata_resolve_gateway(&m, 0, err, sizeof err);
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
        const struct doc *d = find_doc(k->file);
        struct metadata m;
        char err[METADATA_ERR_MAX] = "", mac[MAC_STRLEN], a[IPV4_STRLEN];
        int r;

        if (!d)
                fail_msg("%s is missing from " REALWORLD_COPY, k->file);
        r = metadata_parse(d->text, d->size, &m, err, sizeof err);
        if (!k->has_private) {
                assert_true(r < 0);
                assert_contains(err, "interfaces.private is missing");
                return;
        }
        if (r >= 0)
                r = metadata_resolve_gateway(&m, 0, err, sizeof err);
        if (r < 0)
                fail_msg("%s", err);
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
        const char *extra = getenv("VPR_REALWORLD_DIR");
        int r;

        load_dir(REALWORLD_COPY, "fixtures");
        load_dir(REALWORLD_SHARED, "shared");
        if (extra && *extra)
                load_dir(extra, "extra");
        if (n_docs == 0) {
                fprintf(stderr, "no captures in " REALWORLD_COPY "\n");
                return 1;
        }
        for (size_t i = 0; i < n_docs; i++)
                unit_add(&u, docs[i].name, test_capture, &docs[i]);
        char *known_names[ELEMENTSOF(known)];
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                if (asprintf(&known_names[i], "%s as SOURCES.md describes it", known[i].file) < 0)
                        abort();
                unit_add(&u, known_names[i], test_known, (void *) &known[i]);
        }
        r = unit_run(&u, "realworld");
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                free(known_names[i]);
        for (size_t i = 0; i < n_docs; i++) {
                free(docs[i].name);
                free(docs[i].text);
        }
        free(docs);
        return r;
}
