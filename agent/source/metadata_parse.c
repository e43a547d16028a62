/* SPDX-License-Identifier: MIT */
/* Parses and validates the fields of the metadata document that the agent uses. */
#include "json.h"
#include "metadata_parse.h"
#include "route.h"

#define PRIVATE0 "interfaces.private[0]"

int mac_parse(const char *s, uint8_t ret[static 6]) {
        uint8_t m[6];

        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                unsigned v = 0;
                for (int k = 0; k < 2; k++) {
                        char c = s[i * 3 + k];
                        v <<= 4;
                        if (c >= '0' && c <= '9')
                                v |= (unsigned) (c - '0');
                        else if (c >= 'a' && c <= 'f')
                                v |= (unsigned) (c - 'a' + 10);
                        else if (c >= 'A' && c <= 'F')
                                v |= (unsigned) (c - 'A' + 10);
                        else
                                return -EINVAL;
                }
                if (i < 5 && s[i * 3 + 2] != ':')
                        return -EINVAL;
                m[i] = (uint8_t) v;
        }
        memcpy(ret, m, 6);
        return 0;
}

const char *mac_to_string(const uint8_t mac[static 6], char buf[static MAC_STRLEN]) {
        snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        return buf;
}

const char *tristate_to_string(enum tristate t) {
        return t == TRISTATE_TRUE ? "true" : t == TRISTATE_FALSE ? "false" : "absent";
}

static int get_ipv4(const cJSON *ipv4, const char *key, uint32_t *ret, struct error *err) {
        const char *s;
        char q[QUOTE_BUF];
        int r;

        r = json_get_string(ipv4, PRIVATE0 ".ipv4", key, &s, err);
        if (r < 0)
                return r;
        if (ipv4_parse(s, ret) < 0) {
                error_set(err, PRIVATE0 ".ipv4.%s \"%s\" is not an IPv4 address", key,
                         str_quote(s, strlen(s), QUOTE_MAX, q, sizeof q));
                return -EINVAL;
        }
        return 0;
}

/* "0.0.0.0" (a VPC droplet of December 2021 served that), "", null or no key at all: the
 * metadata gives no gateway, and *ret is 0. Anything else must be an address. */
static int get_gateway(const cJSON *ipv4, uint32_t *ret, struct error *err) {
        const cJSON *v = NULL;
        int r;

        r = json_get(ipv4, PRIVATE0 ".ipv4", "gateway", &v, err);
        if (r < 0)
                return r;
        if (r == 0 || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0])) {
                *ret = 0;
                return 0;
        }
        return get_ipv4(ipv4, "gateway", ret, err);
}

/* A number (the documentation, DigitalOcean's Go clients) or a string of digits (cloud-init's
 * capture of 2016). Never fatal here: only source = api needs it, and says so then. */
static void parse_droplet_id(const cJSON *root, struct metadata *m) {
        const cJSON *v = NULL;
        char b[QUOTE_BUF + 4];
        struct error *err = &m->droplet_id_problem;
        int r;

        r = json_get(root, "", "droplet_id", &v, err);
        if (r == 0 || (r > 0 && cJSON_IsNull(v)))
                return;
        if (r > 0 && cJSON_IsString(v) && safe_atou64(v->valuestring, 1, UINT64_MAX, &m->droplet_id) >= 0)
                return;
        if (r > 0 && cJSON_IsString(v))
                error_set(err, "droplet_id %s is not a droplet id (a number, or a string of its digits)",
                         json_value_brief(v, b, sizeof b));
        else if (r > 0 && json_get_uint(root, "", "droplet_id", 1, UINT64_MAX, &m->droplet_id, err) >= 0)
                return;
        m->droplet_id = 0;
}

/* An IPv4 address at path.key of obj; 0 when absent and optional. */
static int public_ipv4(const cJSON *obj, const char *path, const char *key, bool optional, uint32_t *ret,
                       struct error *err) {
        const cJSON *v = NULL;
        char b[QUOTE_BUF + 4];
        int r;

        r = json_get(obj, path, key, &v, err);
        if (r < 0)
                return r;
        if (r == 0 || cJSON_IsNull(v)) {
                *ret = 0;
                if (optional)
                        return 0;
                error_set(err, "%s.%s is missing", path, key);
                return -ENOENT;
        }
        if (!cJSON_IsString(v) || ipv4_parse(v->valuestring, ret) < 0 || *ret == 0) {
                error_set(err, "%s.%s %s is not an IPv4 address", path, key, json_value_brief(v, b, sizeof b));
                return -EINVAL;
        }
        return 0;
}

#define PUBLIC0 "interfaces.public[0]"

/* interfaces.public[0]: lenient, since only egress needs it (metadata_require_public). */
static void parse_public(const cJSON *interfaces, struct metadata *m) {
        const cJSON *pub = NULL, *p0, *ipv4 = NULL, *anchor = NULL;
        struct error *err = &m->public_problem;
        const char *mac;
        char q[QUOTE_BUF];

        if (json_get(interfaces, "interfaces", "public", &pub, err) <= 0 || cJSON_IsNull(pub))
                return; /* a Private Droplet, or a value json_get named */
        if (!cJSON_IsArray(pub)) {
                error_set(err, "interfaces.public is %s, expected an array", json_type_name(pub));
                return;
        }
        p0 = cJSON_GetArrayItem(pub, 0);
        if (!p0)
                return; /* an empty list: no public interface */
        if (!cJSON_IsObject(p0)) {
                error_set(err, PUBLIC0 " is %s, expected an object", json_type_name(p0));
                return;
        }
        if (json_get_string(p0, PUBLIC0, "mac", &mac, err) < 0)
                return;
        if (mac_parse(mac, m->public_mac) < 0) {
                error_set(err, PUBLIC0 ".mac \"%s\" is not a MAC address (six hex octets)",
                          str_quote(mac, strlen(mac), QUOTE_MAX, q, sizeof q));
                return;
        }
        if (json_get(p0, PUBLIC0, "ipv4", &ipv4, err) < 0)
                return;
        if (!cJSON_IsObject(ipv4)) {
                error_set(err, PUBLIC0 ".ipv4 is %s", ipv4 ? json_type_name(ipv4) : "missing");
                return;
        }
        if (public_ipv4(ipv4, PUBLIC0 ".ipv4", "ip_address", false, &m->public_address, err) < 0 ||
            public_ipv4(ipv4, PUBLIC0 ".ipv4", "gateway", false, &m->public_gateway, err) < 0)
                return;
        if (json_get(p0, PUBLIC0, "anchor_ipv4", &anchor, err) < 0)
                return;
        if (cJSON_IsObject(anchor) &&
            public_ipv4(anchor, PUBLIC0 ".anchor_ipv4", "ip_address", true, &m->anchor_address, err) < 0)
                return;
        m->has_public = true;
}

int metadata_require_public(const struct metadata *md, struct error *err) {
        if (md->has_public)
                return 0;
        if (md->public_problem.msg[0]) {
                error_set(err, "metadata: %s", md->public_problem.msg);
                return -EINVAL;
        }
        error_set(err, "metadata: the droplet has no public interface (interfaces.public)");
        return -ENOENT;
}

static int parse_features(const cJSON *root, enum tristate *ret, struct error *err) {
        const cJSON *features = NULL, *flag = NULL;
        char b[QUOTE_BUF + 4];
        int r;

        *ret = TRISTATE_ABSENT;
        r = json_get(root, "", "features", &features, err);
        if (r <= 0 || cJSON_IsNull(features))
                return r;
        r = json_get(features, "features", "vpc_peering_enabled", &flag, err);
        if (r <= 0 || cJSON_IsNull(flag))
                return r;
        if (!cJSON_IsBool(flag)) {
                error_set(err, "features.vpc_peering_enabled %s is %s, expected true or false",
                         json_value_brief(flag, b, sizeof b), json_type_name(flag));
                return -EINVAL;
        }
        *ret = cJSON_IsTrue(flag) ? TRISTATE_TRUE : TRISTATE_FALSE;
        return 0;
}

int metadata_parse(const char *body, size_t size, struct metadata *ret, struct error *err) {
        _cleanup_cjson_ cJSON *root = NULL;
        const cJSON *interfaces = NULL, *private = NULL, *p0, *ipv4 = NULL;
        struct metadata m = { .peering_enabled = TRISTATE_ABSENT };
        char b[QUOTE_BUF + 4], q[QUOTE_BUF], a[IPV4_STRLEN], c[CIDR_STRLEN];
        const char *mac;
        uint32_t netmask;
        int r, prefix;

        r = json_parse_object(body, size, &root, err);
        if (r < 0)
                return r;

        parse_droplet_id(root, &m);

        r = json_get(root, "", "interfaces", &interfaces, err);
        if (r < 0)
                return r;
        if (r == 0) {
                error_set(err, "interfaces is missing");
                return -ENOENT;
        }
        r = json_get(interfaces, "interfaces", "private", &private, err);
        if (r < 0)
                return r;
        if (r == 0) {
                error_set(err, "interfaces.private is missing (no VPC interface on this droplet)");
                return -ENOENT;
        }
        if (!cJSON_IsArray(private)) {
                error_set(err, "interfaces.private %s is %s, expected an array",
                         json_value_brief(private, b, sizeof b), json_type_name(private));
                return -EINVAL;
        }
        p0 = cJSON_GetArrayItem(private, 0);
        if (!p0) {
                error_set(err, "interfaces.private is empty (no VPC interface on this droplet)");
                return -ENOENT;
        }
        if (!cJSON_IsObject(p0)) {
                error_set(err, PRIVATE0 " %s is %s, expected an object", json_value_brief(p0, b, sizeof b),
                         json_type_name(p0));
                return -EINVAL;
        }

        r = json_get_string(p0, PRIVATE0, "mac", &mac, err);
        if (r < 0)
                return r;
        if (mac_parse(mac, m.mac) < 0) {
                error_set(err, PRIVATE0 ".mac \"%s\" is not a MAC address (six hex octets)",
                         str_quote(mac, strlen(mac), QUOTE_MAX, q, sizeof q));
                return -EINVAL;
        }
        if (m.mac[0] & 1) {
                error_set(err, PRIVATE0 ".mac \"%s\" is a multicast address", mac);
                return -EINVAL;
        }

        r = json_get(p0, PRIVATE0, "ipv4", &ipv4, err);
        if (r < 0)
                return r;
        if (r == 0) {
                error_set(err, PRIVATE0 ".ipv4 is missing");
                return -ENOENT;
        }
        if (!cJSON_IsObject(ipv4)) {
                error_set(err, PRIVATE0 ".ipv4 %s is %s, expected an object", json_value_brief(ipv4, b, sizeof b),
                         json_type_name(ipv4));
                return -EINVAL;
        }
        if ((r = get_ipv4(ipv4, "ip_address", &m.address, err)) < 0 ||
            (r = get_ipv4(ipv4, "netmask", &netmask, err)) < 0 ||
            (r = get_gateway(ipv4, &m.metadata_gateway, err)) < 0)
                return r;

        prefix = netmask_to_prefix(netmask);
        if (prefix < 0) {
                error_set(err, PRIVATE0 ".ipv4.netmask \"%s\" is not a contiguous netmask",
                         ipv4_to_string(netmask, a));
                return -EINVAL;
        }
        /* VPCs are /16 to /28; allow a margin, but a subnet needs room for network, gateway,
         * droplet and broadcast addresses. */
        if (prefix < 8 || prefix > 30) {
                error_set(err, PRIVATE0 ".ipv4.netmask \"%s\" (/%d) is not a usable VPC subnet (/8 to /30)",
                         ipv4_to_string(netmask, a), prefix);
                return -EINVAL;
        }
        m.prefixlen = (uint8_t) prefix;

        struct cidr subnet = { m.address & netmask, m.prefixlen };
        uint32_t broadcast = subnet.addr | ~netmask;
        if (m.address == subnet.addr || m.address == broadcast) {
                error_set(err, PRIVATE0 ".ipv4.ip_address \"%s\" is the %s address of %s", ipv4_to_string(m.address, a),
                         m.address == subnet.addr ? "network" : "broadcast", cidr_to_string(&subnet, c));
                return -EINVAL;
        }

        r = parse_features(root, &m.peering_enabled, err);
        if (r < 0)
                return r;
        parse_public(interfaces, &m);

        *ret = m;
        return 0;
}

/* Can gw serve as the gateway of md's private subnet? what names it in the message. */
static int check_gateway(const struct metadata *md, uint32_t gw, const char *what, struct error *err) {
        struct cidr subnet = { md->address & prefix_to_mask(md->prefixlen), md->prefixlen };
        uint32_t broadcast = subnet.addr | ~prefix_to_mask(md->prefixlen);
        char a[IPV4_STRLEN], c[CIDR_STRLEN];

        ipv4_to_string(gw, a);
        cidr_to_string(&subnet, c);
        if (!cidr_contains_addr(&subnet, gw))
                error_set(err, "%s \"%s\" is outside the private subnet %s", what, a, c);
        else if (gw == subnet.addr || gw == broadcast)
                error_set(err, "%s \"%s\" is the %s address of %s", what, a, gw == subnet.addr ? "network" : "broadcast", c);
        else if (gw == md->address)
                error_set(err, "%s \"%s\" is the droplet's own address", what, a);
        else
                return 0;
        return -EINVAL;
}

int metadata_resolve_gateway(struct metadata *md, uint32_t configured, struct error *err) {
        uint32_t first = (md->address & prefix_to_mask(md->prefixlen)) + 1;
        char a[IPV4_STRLEN];
        int r;

        if (configured) {
                r = check_gateway(md, configured, "config: gateway", err);
                if (r < 0)
                        return r;
                md->gateway = configured;
                md->gateway_origin = GATEWAY_CONFIG;
                return 0;
        }
        if (md->metadata_gateway) {
                r = check_gateway(md, md->metadata_gateway, "metadata: " PRIVATE0 ".ipv4.gateway", err);
                if (r < 0)
                        return r;
                md->gateway = md->metadata_gateway;
                md->gateway_origin = GATEWAY_METADATA;
                return 0;
        }
        if (first == md->address) {
                error_set(err, "metadata: " PRIVATE0 ".ipv4.gateway is not given, and the droplet's own address %s is the first "
                         "of its subnet, where the VPC gateway would be; set gateway = ADDRESS in the config",
                         ipv4_to_string(md->address, a));
                return -EINVAL;
        }
        md->gateway = first;
        md->gateway_origin = GATEWAY_DERIVED;
        return 0;
}

const char *gateway_origin_to_string(enum gateway_origin o) {
        switch (o) {
        case GATEWAY_METADATA:
                return "metadata";
        case GATEWAY_DERIVED:
                return "derived";
        case GATEWAY_CONFIG:
                return "config";
        }
        return "?";
}

const char *gateway_origin_explain(const struct metadata *md, char *buf, size_t size) {
        char a[IPV4_STRLEN];

        if (md->gateway_origin == GATEWAY_DERIVED)
                snprintf(buf, size, "derived: the metadata gives none");
        else if (md->gateway_origin == GATEWAY_CONFIG && md->metadata_gateway && md->metadata_gateway != md->gateway)
                snprintf(buf, size, "from the config; the metadata gives %s", ipv4_to_string(md->metadata_gateway, a));
        else if (md->gateway_origin == GATEWAY_CONFIG)
                snprintf(buf, size, "from the config");
        else
                buf[0] = '\0';
        return buf;
}

int metadata_require_droplet_id(const struct metadata *md, struct error *err) {
        if (md->droplet_id)
                return 0;
        if (md->droplet_id_problem.msg[0])
                error_set(err, "metadata: %s; source = api needs it", md->droplet_id_problem.msg);
        else
                error_set(err, "metadata: droplet_id is missing; source = api needs it");
        return -ENOENT;
}
