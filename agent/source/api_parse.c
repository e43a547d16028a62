/* SPDX-License-Identifier: MIT */
/* Parsers for the three API responses the agent reads. */
#include "api_parse.h"
#include "json.h"
#include "url.h"

bool uuid_valid(const char *s) {
        /* 8-4-4-4-12 hex digits */
        if (!s || strlen(s) != 36)
                return false;
        for (int i = 0; i < 36; i++) {
                char c = s[i];
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (c != '-')
                                return false;
                } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                        return false;
        }
        return true;
}

const char *api_peering_other_vpc(const struct api_peering *p, const char *own_vpc) {
        return streq(p->vpc_ids[0], own_vpc) ? p->vpc_ids[1] : p->vpc_ids[0];
}

/* Parses {"key": {...}}, the shape of single-resource answers; *ret_obj points into *ret_root. */
static int parse_wrapped(const char *body, size_t size, const char *key, cJSON **ret_root, const cJSON **ret_obj,
                         struct error *err) {
        char b[QUOTE_BUF + 4];
        cJSON *root = NULL;
        int r;

        r = json_parse_object(body, size, &root, err);
        if (r < 0)
                return r;
        *ret_root = root;
        r = json_get(root, "", key, ret_obj, err);
        if (r < 0)
                return r;
        if (r == 0) {
                error_set(err, "%s is missing", key);
                return -ENOENT;
        }
        if (!cJSON_IsObject(*ret_obj)) {
                error_set(err, "%s %s is %s, expected an object", key, json_value_brief(*ret_obj, b, sizeof b),
                         json_type_name(*ret_obj));
                return -EINVAL;
        }
        return 0;
}

static int get_uuid(const cJSON *obj, const char *path, const char *key, char ret[static UUID_STRLEN], struct error *err) {
        const char *s;
        char q[QUOTE_BUF];
        int r;

        r = json_get_string(obj, path, key, &s, err);
        if (r < 0)
                return r;
        if (!uuid_valid(s)) {
                error_set(err, "%s.%s \"%s\" is not a UUID", path, key, str_quote(s, strlen(s), QUOTE_MAX, q, sizeof q));
                return -EINVAL;
        }
        snprintf(ret, UUID_STRLEN, "%s", s);
        return 0;
}

/* Optional display names: absent or null is "", anything else must be a string. */
static int get_name(const cJSON *obj, const char *path, char ret[static API_NAME_MAX], struct error *err) {
        const cJSON *v = NULL;
        char b[QUOTE_BUF + 4];
        int r;

        ret[0] = '\0';
        r = json_get(obj, path, "name", &v, err);
        if (r <= 0 || cJSON_IsNull(v))
                return r;
        if (!cJSON_IsString(v)) {
                error_set(err, "%s.name %s is %s, expected a string", path, json_value_brief(v, b, sizeof b),
                         json_type_name(v));
                return -EINVAL;
        }
        /* Names are printed: keep them printable. */
        str_quote(v->valuestring, strlen(v->valuestring), API_NAME_MAX - 8, ret, API_NAME_MAX);
        return 0;
}

int api_parse_droplet(const char *body, size_t size, char ret_vpc_uuid[static UUID_STRLEN], struct error *err) {
        _cleanup_cjson_ cJSON *root = NULL;
        const cJSON *droplet = NULL, *v = NULL;
        char uuid[UUID_STRLEN] = "";
        int r;

        r = json_parse_object(body, size, &root, err);
        if (r < 0)
                return r;
        r = json_get(root, "", "droplet", &droplet, err);
        if (r < 0)
                return r;
        /* {"droplet": {...}} as the API answers; a client's dump of the droplet object itself
         * (with its id and vpc_uuid at the top) is read the same way. */
        if (r == 0 && json_get(root, "", "vpc_uuid", &v, err) > 0)
                droplet = root;
        else if (r == 0) {
                error_set(err, "droplet is missing");
                return -ENOENT;
        }
        if (!cJSON_IsObject(droplet)) {
                char b[QUOTE_BUF + 4];
                error_set(err, "droplet %s is %s, expected an object", json_value_brief(droplet, b, sizeof b),
                         json_type_name(droplet));
                return -EINVAL;
        }
        /* Absent or null: a droplet in no VPC (older droplets). The round says so. */
        r = json_get(droplet, "droplet", "vpc_uuid", &v, err);
        if (r < 0)
                return r;
        if (r > 0 && !cJSON_IsNull(v) && (r = get_uuid(droplet, "droplet", "vpc_uuid", uuid, err)) < 0)
                return r;
        memcpy(ret_vpc_uuid, uuid, UUID_STRLEN);
        return 0;
}

static int parse_peering(const cJSON *p, const char *key, size_t index, struct api_peering *ret, struct error *err) {
        struct api_peering pr = {};
        const cJSON *ids = NULL;
        const char *status;
        char path[48], b[QUOTE_BUF + 4];
        int r, n;

        snprintf(path, sizeof path, "%s[%zu]", key, index);
        if (!cJSON_IsObject(p)) {
                error_set(err, "%s %s is %s, expected an object", path, json_value_brief(p, b, sizeof b), json_type_name(p));
                return -EINVAL;
        }
        if ((r = get_uuid(p, path, "id", pr.id, err)) < 0 || (r = get_name(p, path, pr.name, err)) < 0)
                return r;
        r = json_get(p, path, "vpc_ids", &ids, err);
        if (r < 0)
                return r;
        /* Two VPCs, says the specification; godo's own test answer names one. A peering that
         * names one VPC only is read (the round ignores it: there is no other side to route). */
        n = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : 0;
        if (r == 0 || n < 1 || n > 2) {
                error_set(err, "%s.vpc_ids %s is not an array of two VPC ids", path,
                         r == 0 ? "(missing)" : json_value_brief(ids, b, sizeof b));
                return -EINVAL;
        }
        pr.n_vpc_ids = (unsigned) n;
        for (int i = 0; i < n; i++) {
                const cJSON *id = cJSON_GetArrayItem(ids, i);
                if (!cJSON_IsString(id) || !uuid_valid(id->valuestring)) {
                        error_set(err, "%s.vpc_ids[%d] %s is not a UUID", path, i, json_value_brief(id, b, sizeof b));
                        return -EINVAL;
                }
                snprintf(pr.vpc_ids[i], UUID_STRLEN, "%s", id->valuestring);
        }
        r = json_get_string(p, path, "status", &status, err);
        if (r < 0)
                return r;
        if (streq(status, "ACTIVE"))
                pr.status = PEERING_ACTIVE;
        else if (streq(status, "PROVISIONING"))
                pr.status = PEERING_PROVISIONING;
        else if (streq(status, "DELETING"))
                pr.status = PEERING_DELETING;
        else
                pr.status = PEERING_OTHER;
        str_quote(status, strlen(status), 16, pr.status_text, sizeof pr.status_text);
        *ret = pr;
        return 0;
}

/* What every list page of the API says of the others: links.pages.next (absent on the last
 * page) and meta.total. */
static int parse_page_links(const cJSON *root, char **ret_next, uint64_t *ret_total, bool *ret_has_total,
                            struct error *err) {
        const cJSON *links = NULL, *pages = NULL, *next = NULL, *meta = NULL;
        char b[QUOTE_BUF + 4];
        int r;

        if ((r = json_get(root, "", "links", &links, err)) < 0 ||
            (r > 0 && cJSON_IsObject(links) && (r = json_get(links, "links", "pages", &pages, err)) < 0) ||
            (r > 0 && cJSON_IsObject(pages) && (r = json_get(pages, "links.pages", "next", &next, err)) < 0))
                return r;
        if (next && !cJSON_IsNull(next)) {
                if (!cJSON_IsString(next) || url_scheme(next->valuestring) == URL_SCHEME_OTHER) {
                        error_set(err, "links.pages.next %s is not an http(s) URL", json_value_brief(next, b, sizeof b));
                        return -EINVAL;
                }
                *ret_next = strdup(next->valuestring);
                if (!*ret_next)
                        return -ENOMEM;
        }
        if (json_get(root, "", "meta", &meta, err) > 0 && cJSON_IsObject(meta)) {
                const cJSON *total = NULL;
                if (json_get(meta, "meta", "total", &total, err) > 0 && cJSON_IsNumber(total) && total->valuedouble >= 0 &&
                    total->valuedouble < 1e9 && total->valuedouble == (double) (uint64_t) total->valuedouble) {
                        *ret_total = (uint64_t) total->valuedouble;
                        *ret_has_total = true;
                }
        }
        return 0;
}

int api_parse_peerings_page(const char *body, size_t size, struct api_peerings_page *ret, struct error *err) {
        _cleanup_cjson_ cJSON *root = NULL;
        const cJSON *peerings = NULL, *other = NULL;
        struct api_peerings_page page = {};
        const char *key;
        char b[QUOTE_BUF + 4];
        int r, n;

        r = json_parse_object(body, size, &root, err);
        if (r < 0)
                return r;
        /* GET /v2/vpcs/{id}/peerings lists them under "peerings" in DigitalOcean's specification
         * and under "vpc_peerings" as godo (doctl, Terraform) decodes it, like GET /v2/vpc_peerings
         * everywhere. The agent reads this endpoint rather than the account-wide list: it needs
         * only the vpc:read scope the VPC lookups need anyway (the account list needs
         * vpc_peering:read), and it answers with this VPC's peerings only, however many the
         * account holds. So both keys are accepted; exactly one must be there. */
        r = json_get(root, "", "peerings", &peerings, err);
        if (r < 0)
                return r;
        r = json_get(root, "", "vpc_peerings", &other, err);
        if (r < 0)
                return r;
        if (peerings && other) {
                error_set(err, "both peerings and vpc_peerings are there; expected one of them");
                return -EINVAL;
        }
        if (!peerings && !other) {
                error_set(err, "neither peerings nor vpc_peerings is there");
                return -ENOENT;
        }
        key = peerings ? "peerings" : "vpc_peerings";
        if (!peerings)
                peerings = other;
        if (!cJSON_IsArray(peerings)) {
                error_set(err, "%s %s is %s, expected an array", key, json_value_brief(peerings, b, sizeof b),
                         json_type_name(peerings));
                return -EINVAL;
        }
        n = cJSON_GetArraySize(peerings);
        if (n > 1000) {
                error_set(err, "%s holds %d entries on one page; refusing", key, n);
                return -E2BIG;
        }
        if (n > 0) {
                page.peerings = calloc((size_t) n, sizeof *page.peerings);
                if (!page.peerings)
                        return -ENOMEM;
        }
        for (int i = 0; i < n; i++) {
                r = parse_peering(cJSON_GetArrayItem(peerings, i), key, (size_t) i, &page.peerings[page.n], err);
                if (r < 0) {
                        api_peerings_page_done(&page);
                        return r;
                }
                page.n++;
        }

        r = parse_page_links(root, &page.next, &page.total, &page.has_total, err);
        if (r < 0) {
                api_peerings_page_done(&page);
                return r;
        }
        *ret = page;
        return 0;
}

void api_peerings_page_done(struct api_peerings_page *p) {
        free(p->peerings);
        free(p->next);
        *p = (struct api_peerings_page) {};
}

int api_parse_vpc(const char *body, size_t size, struct api_vpc *ret, struct error *err) {
        _cleanup_cjson_ cJSON *root = NULL;
        const cJSON *vpc;
        struct api_vpc v = {};
        const char *range;
        char q[QUOTE_BUF];
        int r;

        r = parse_wrapped(body, size, "vpc", &root, &vpc, err);
        if (r < 0)
                return r;
        if ((r = get_uuid(vpc, "vpc", "id", v.id, err)) < 0 || (r = get_name(vpc, "vpc", v.name, err)) < 0 ||
            (r = json_get_string(vpc, "vpc", "ip_range", &range, err)) < 0)
                return r;
        r = cidr_parse(range, &v.ip_range);
        if (r < 0) {
                error_set(err, "vpc.ip_range \"%s\" is not a network in CIDR notation%s",
                         str_quote(range, strlen(range), QUOTE_MAX, q, sizeof q), r == -EADDRNOTAVAIL ? " (host bits set)" : "");
                return -EINVAL;
        }
        /* DigitalOcean VPCs are /16 to /28 inside RFC 1918; anything else is not a VPC range. */
        if (v.ip_range.len < 8 || v.ip_range.len > 28) {
                error_set(err, "vpc.ip_range \"%s\" is not a VPC-sized network (/8 to /28)", range);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

void api_parse_error_message(const char *body, size_t size, char *buf, size_t bufsize) {
        _cleanup_cjson_ cJSON *root = NULL;
        const cJSON *m = NULL;

        buf[0] = '\0';
        if (!body || json_parse_document(body, size, &root, NULL) < 0 || !cJSON_IsObject(root))
                return;
        if (json_get(root, "", "message", &m, NULL) > 0 && cJSON_IsString(m))
                str_quote(m->valuestring, strlen(m->valuestring), 120, buf, bufsize);
}

/* One NAT gateway of GET /v2/vpc_nat_gateways: whether it is ACTIVE, and its address in own_vpc. */
static int parse_nat_gateway(const cJSON *g, size_t i, const char *own_vpc, struct api_nat_gateway *ret,
                             struct error *err) {
        const cJSON *vpcs = NULL;
        const char *id, *name, *state;
        char path[64], b[QUOTE_BUF + 4];
        int r;

        snprintf(path, sizeof path, "vpc_nat_gateways[%zu]", i);
        if (!cJSON_IsObject(g)) {
                error_set(err, "%s %s is %s, expected an object", path, json_value_brief(g, b, sizeof b), json_type_name(g));
                return -EINVAL;
        }
        *ret = (struct api_nat_gateway) {};
        if ((r = json_get_string(g, path, "id", &id, err)) < 0 || (r = json_get_string(g, path, "state", &state, err)) < 0)
                return r;
        if (json_get_string(g, path, "name", &name, NULL) < 0)
                name = "";
        snprintf(ret->id, sizeof ret->id, "%s", id);
        str_quote(name, strlen(name), API_NAME_MAX - 8, ret->name, sizeof ret->name);
        ret->active = streq(state, "ACTIVE");
        r = json_get(g, path, "vpcs", &vpcs, err);
        if (r < 0)
                return r;
        for (const cJSON *v = cJSON_IsArray(vpcs) ? vpcs->child : NULL; v; v = v->next) {
                const cJSON *uuid = cJSON_GetObjectItemCaseSensitive(v, "vpc_uuid");
                const cJSON *ip = cJSON_GetObjectItemCaseSensitive(v, "gateway_ip");
                if (!cJSON_IsString(uuid) || !streq(uuid->valuestring, own_vpc))
                        continue;
                ret->serves_own_vpc = true;
                if (cJSON_IsString(ip) && ipv4_parse(ip->valuestring, &ret->gateway_ip) < 0) {
                        error_set(err, "%s.vpcs[].gateway_ip %s is not an IPv4 address", path, json_value_brief(ip, b, sizeof b));
                        return -EINVAL;
                }
        }
        return 0;
}

int api_parse_nat_page(const char *body, size_t size, const char *own_vpc, struct api_nat_page *ret, struct error *err) {
        _cleanup_cjson_ cJSON *root = NULL;
        const cJSON *list = NULL;
        struct api_nat_page page = {};
        int r, n;

        r = json_parse_object(body, size, &root, err);
        if (r < 0)
                return r;
        r = json_get(root, "", "vpc_nat_gateways", &list, err);
        if (r < 0)
                return r;
        if (r == 0 || !cJSON_IsArray(list)) {
                error_set(err, "vpc_nat_gateways %s", r == 0 ? "is not there" : "is not an array");
                return r == 0 ? -ENOENT : -EINVAL;
        }
        n = cJSON_GetArraySize(list);
        if (n > 1000) {
                error_set(err, "vpc_nat_gateways holds %d entries on one page; refusing", n);
                return -E2BIG;
        }
        page.gateways = calloc((size_t) MAX(n, 1), sizeof *page.gateways);
        if (!page.gateways)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                r = parse_nat_gateway(cJSON_GetArrayItem(list, i), (size_t) i, own_vpc, &page.gateways[page.n], err);
                if (r < 0) {
                        api_nat_page_done(&page);
                        return r;
                }
                page.n++;
        }
        r = parse_page_links(root, &page.next, &page.total, &page.has_total, err);
        if (r < 0) {
                api_nat_page_done(&page);
                return r;
        }
        *ret = page;
        return 0;
}

void api_nat_page_done(struct api_nat_page *p) {
        free(p->gateways);
        free(p->next);
        *p = (struct api_nat_page) {};
}
