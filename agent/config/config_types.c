/* SPDX-License-Identifier: MIT */
/* The kinds of value a config key holds: how each is parsed (the message is the reason only;
 * config_set() puts where, the key and the quoted value in front of it), printed as the file
 * writes it, and freed. */
#include <ctype.h>

#include "config_types.h"
#include "url.h"

#define SEC USEC_PER_SEC

static int parse_string(char **field, const char *v) {
        char *s = strdup(v);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static bool print_string(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        const char *s = *(char *const *) field;
        (void) c;
        if (!s)
                return false;
        fprintf(f, "%s = %s\n", k->name, s);
        return true;
}

static void free_string(void *field) {
        free(*(char **) field);
}

static int parse_path(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        (void) c, (void) k;
        if (v[0] != '/') {
                error_set(err, "must be an absolute path");
                return -EINVAL;
        }
        return parse_string(field, v);
}
const struct config_type type_path = { parse_path, print_string, free_string };

static int parse_url(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        (void) c, (void) k;
        if (url_scheme(v) == URL_SCHEME_OTHER) {
                error_set(err, "must start with http:// or https://");
                return -EINVAL;
        }
        if (strlen(v) > 2048) {
                error_set(err, "is longer than 2048 characters");
                return -EINVAL;
        }
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f) {
                        error_set(err, "contains a space or control character");
                        return -EINVAL;
                }
        return parse_string(field, v);
}
const struct config_type type_url = { parse_url, print_string, free_string };

/* A base URL: the agent appends /v2/...; a trailing slash would double it. */
static int parse_base_url(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        size_t l = strlen(v);
        if (l > 0 && v[l - 1] == '/') {
                error_set(err, "must not end with a slash (e.g. https://api.digitalocean.com)");
                return -EINVAL;
        }
        return parse_url(c, k, field, v, err);
}
const struct config_type type_base_url = { parse_base_url, print_string, free_string };

static int parse_ifname(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        bool ok = strlen(v) < IF_NAMESIZE && !streq(v, ".") && !streq(v, "..");
        (void) c, (void) k;
        for (const char *p = v; ok && *p; p++)
                ok = isgraph((unsigned char) *p) && *p != ':' && *p != '/';
        if (!ok) {
                error_set(err, "is not a valid interface name");
                return -EINVAL;
        }
        return parse_string(field, v);
}
const struct config_type type_ifname = { parse_ifname, print_string, free_string };

static int parse_duration(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        uint64_t usec;
        (void) c;
        if (parse_duration_usec(v, &usec) < 0 || usec < k->min || usec > k->max) {
                error_set(err, "is not a duration from %llu ms to %llu s (e.g. \"2\", \"2s\", \"500ms\")",
                          (unsigned long long) (k->min / 1000), (unsigned long long) (k->max / SEC));
                return -EINVAL;
        }
        *(uint64_t *) field = usec;
        return 0;
}

static bool print_duration(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        char buf[FORMAT_TIMESPAN_MAX];
        (void) c;
        fprintf(f, "%s = %s\n", k->name, format_timespan(*(const uint64_t *) field, true, buf));
        return true;
}
const struct config_type type_duration = { parse_duration, print_duration, NULL };

static int parse_number(const struct config_key *k, const char *v, uint64_t *ret, struct error *err) {
        if (safe_atou64(v, k->min, k->max, ret) < 0) {
                error_set(err, "is not a number from %llu to %llu", (unsigned long long) k->min,
                          (unsigned long long) k->max);
                return -EINVAL;
        }
        return 0;
}

static int parse_u64(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        (void) c;
        return parse_number(k, v, field, err);
}

static bool print_u64(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        (void) c;
        fprintf(f, "%s = %llu\n", k->name, (unsigned long long) *(const uint64_t *) field);
        return true;
}
const struct config_type type_u64 = { parse_u64, print_u64, NULL };

static int parse_u32(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        uint64_t u;
        int r = parse_number(k, v, &u, err);
        (void) c;
        if (r == 0)
                *(uint32_t *) field = (uint32_t) u;
        return r;
}

static bool print_u32(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        (void) c;
        fprintf(f, "%s = %u\n", k->name, *(const uint32_t *) field);
        return true;
}
const struct config_type type_u32 = { parse_u32, print_u32, NULL };

static int parse_bool(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        (void) c, (void) k;
        if (parse_boolean(v, field) < 0) {
                error_set(err, "must be yes or no");
                return -EINVAL;
        }
        return 0;
}

static bool print_bool(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        (void) c;
        fprintf(f, "%s = %s\n", k->name, *(const bool *) field ? "yes" : "no");
        return true;
}
const struct config_type type_bool = { parse_bool, print_bool, NULL };

/* An enum field: the index of the word. */
static int parse_word(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        (void) c;
        for (size_t i = 0; k->words[i]; i++)
                if (streq(v, k->words[i])) {
                        *(int *) field = (int) i;
                        return 0;
                }
        error_set(err, "must be \"%s\" or \"%s\"", k->words[0], k->words[1]);
        return -EINVAL;
}

static bool print_word(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        (void) c;
        fprintf(f, "%s = %s\n", k->name, k->words[*(const int *) field]);
        return true;
}
const struct config_type type_word = { parse_word, print_word, NULL };

static int parse_gateway(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        uint32_t a;
        (void) c, (void) k;
        if (ipv4_parse(v, &a) < 0 || a == 0) {
                error_set(err, "is not an IPv4 address (e.g. 10.116.0.1)");
                return -EINVAL;
        }
        /* Whether it lies in the private subnet is checked against the metadata, at each use. */
        *(uint32_t *) field = a;
        return 0;
}

static bool print_gateway(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        char a[IPV4_STRLEN];
        (void) c;
        if (!*(const uint32_t *) field)
                return false;
        fprintf(f, "%s = %s\n", k->name, ipv4_to_string(*(const uint32_t *) field, a));
        return true;
}
const struct config_type type_gateway = { parse_gateway, print_gateway, NULL };

static int parse_table(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        uint64_t u;
        (void) c, (void) k;
        if (streq(v, "main"))
                u = ROUTE_TABLE_MAIN;
        else if (safe_atou64(v, 1, UINT32_MAX, &u) < 0 || u == ROUTE_TABLE_LOCAL) {
                error_set(err, "must be \"main\" or a table number from 1 to 4294967295 other than 255 (local)");
                return -EINVAL;
        }
        *(uint32_t *) field = (uint32_t) u;
        return 0;
}

static bool print_table(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        char t[12];
        (void) c;
        fprintf(f, "%s = %s\n", k->name, table_to_string(*(const uint32_t *) field, t));
        return true;
}
const struct config_type type_table = { parse_table, print_table, NULL };

static int parse_protocol(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        uint64_t u;
        (void) c, (void) k;
        if (safe_atou64(v, 0, 255, &u) < 0) {
                error_set(err, "is not a number from 1 to 255");
                return -EINVAL;
        }
        /* Owning another program's protocol number would make "flush" delete its routes. */
        if (route_protocol_name((uint8_t) u)) {
                error_set(err, "belongs to %s routes; the agent would treat them as its own (241 is the default)",
                          route_protocol_name((uint8_t) u));
                return -EINVAL;
        }
        *(uint8_t *) field = (uint8_t) u;
        return 0;
}

static bool print_protocol(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        (void) c;
        fprintf(f, "%s = %u\n", k->name, *(const uint8_t *) field);
        return true;
}
const struct config_type type_protocol = { parse_protocol, print_protocol, NULL };

/* "off", "vpc" or the address of a NAT gateway in the VPC (checked against the private subnet
 * at each use, as gateway is). */
static int parse_nat(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        struct nat_setting *n = field;
        uint32_t a;
        (void) c, (void) k;
        if (streq(v, "off") || streq(v, "vpc")) {
                *n = (struct nat_setting) { .mode = streq(v, "off") ? NAT_OFF : NAT_VPC };
                return 0;
        }
        if (ipv4_parse(v, &a) < 0 || a == 0) {
                error_set(err, "must be \"off\", \"vpc\" or the NAT gateway's IPv4 address in the VPC (e.g. 10.116.0.7)");
                return -EINVAL;
        }
        *n = (struct nat_setting) { .mode = NAT_ADDRESS, .address = a };
        return 0;
}

static bool print_nat(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        const struct nat_setting *n = field;
        char a[IPV4_STRLEN];
        (void) c;
        fprintf(f, "%s = %s\n", k->name,
                n->mode == NAT_OFF ? "off" : n->mode == NAT_VPC ? "vpc" : ipv4_to_string(n->address, a));
        return true;
}
const struct config_type type_nat = { parse_nat, print_nat, NULL };

/* "50%" or "50" */
static int parse_percent(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        size_t digits = strcspn(v, "%");
        char number[24];
        uint64_t pct;
        (void) c, (void) k;
        if (digits >= sizeof number || (v[digits] == '%' && v[digits + 1] != '\0') ||
            (memcpy(number, v, digits), number[digits] = '\0', safe_atou64(number, 1, 100, &pct) < 0)) {
                error_set(err, "is not a percentage from 1%% to 100%% (e.g. \"50%%\")");
                return -EINVAL;
        }
        *(unsigned *) field = (unsigned) pct;
        return 0;
}

static bool print_percent(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        (void) c;
        fprintf(f, "%s = %u%%\n", k->name, *(const unsigned *) field);
        return true;
}
const struct config_type type_percent = { parse_percent, print_percent, NULL };

/* The routes list: its field is c->routes, with its count beside it in c->n_routes. */
static int parse_routes(struct config *c, const struct config_key *k, void *field, const char *v, struct error *err) {
        _cleanup_free_ struct cidr *list = NULL;
        _cleanup_free_ char *copy = strdup(v);
        size_t n = 0, cap = 0;
        char *save = NULL;
        (void) k, (void) field;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
                struct error reason = {};
                char q[QUOTE_BUF];
                struct cidr cd;
                if (config_parse_cidr(w, &cd, &reason) < 0) {
                        error_set(err, "entry \"%s\" %s", str_quote(w, strlen(w), QUOTE_MAX, q, sizeof q), reason.msg);
                        return -EINVAL;
                }
                if (GREEDY_REALLOC(list, cap, n + 1) < 0)
                        return -ENOMEM;
                list[n++] = cd;
        }
        if (n == 0) {
                error_set(err, "lists no network");
                return -EINVAL;
        }
        free(c->routes);
        c->routes = TAKE_PTR(list);
        c->n_routes = n;
        return 0;
}

static bool print_routes(const struct config *c, const struct config_key *k, const void *field, FILE *f) {
        (void) field;
        /* From routes_file: that key says where they are. */
        if (c->routes_file)
                return false;
        fprintf(f, "%s =", k->name);
        for (size_t i = 0; i < c->n_routes; i++) {
                char cs[CIDR_STRLEN];
                fprintf(f, " %s", cidr_to_string(&c->routes[i], cs));
        }
        fputc('\n', f);
        return true;
}
const struct config_type type_routes = { parse_routes, print_routes, free_string };
