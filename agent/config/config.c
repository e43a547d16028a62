/* SPDX-License-Identifier: MIT */
/* Configuration file parsing and validation. Every error names where, the key and the value. */
#include <ctype.h>
#include <sys/stat.h>

#include "api_pace.h"
#include "config.h"
#include "config_lexer.h"
#include "config_token.h"

#define DEFAULT_METADATA_URL "http://169.254.169.254/metadata/v1.json"

static const struct cidr default_routes[] = {
        { 0x0a000000u, 8 },  /* 10.0.0.0/8 */
        { 0xac100000u, 12 }, /* 172.16.0.0/12 */
        { 0xc0a80000u, 16 }, /* 192.168.0.0/16 */
};

const char *peering_flag_to_string(enum peering_flag f) {
        return f == PEERING_FLAG_IGNORE ? "ignore" : "honor";
}

const char *route_source_to_string(enum route_source s) {
        switch (s) {
        case SOURCE_METADATA:
                return "metadata";
        case SOURCE_API:
                return "api";
        }
        return "?";
}

const char *table_to_string(uint32_t table, char buf[static 12]) {
        if (table == ROUTE_TABLE_MAIN)
                return "main";
        snprintf(buf, 12, "%u", table);
        return buf;
}

int config_new_default(struct config **ret) {
        _cleanup_config_ struct config *c = NULL;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (struct config) {
                .file_trust = { .forbidden_mode = 022 },
                .track_owner = true,
                .source = SOURCE_METADATA,
                .connect_timeout_usec = 2000000ULL,
                .timeout_usec = 10000000ULL,
                .metadata_max_size = 4ULL * 1024 * 1024,
                .metric = 101,
                .mtu = 1500,
                .table = ROUTE_TABLE_MAIN,
                .protocol = 241,
                .peering_flag = PEERING_FLAG_HONOR,
                .allow_non_private = false,
                .max_routes = 256,
                .interval_usec = 30000000ULL,
                .api_interval_usec = 60000000ULL,
                .api_budget = 50,
        };
        c->metadata_url = strdup(DEFAULT_METADATA_URL);
        c->state_file = strdup(STATE_FILE_DEFAULT);
        c->owner_file = strdup(OWNER_FILE_DEFAULT);
        c->api_url = strdup(API_URL_DEFAULT);
        c->routes = malloc(sizeof default_routes);
        if (!c->metadata_url || !c->state_file || !c->owner_file || !c->api_url || !c->routes)
                /* cppcheck-suppress memleak ; _cleanup_config_ frees c: cppcheck does not model cleanup attributes */
                return -ENOMEM;
        memcpy(c->routes, default_routes, sizeof default_routes);
        c->n_routes = ELEMENTSOF(default_routes);
        *ret = TAKE_PTR(c);
        return 0;
}

void config_free(struct config *c) {
        if (!c)
                return;
        free(c->metadata_url);
        free(c->interface);
        free(c->routes);
        free(c->routes_file);
        free(c->state_file);
        free(c->owner_file);
        free(c->metrics_file);
        free(c->api_url);
        free(c->api_token_file);
        free(c->api_ca_file);
        if (c->api_token) {
                explicit_bzero(c->api_token, strlen(c->api_token));
                free(c->api_token);
        }
        free(c->path);
        free(c);
}

/* Setters: value is trimmed, non-empty text. They fill err with the reason only; config_set
 * prefixes where, key and the quoted value. */

typedef int (*setter_fn)(struct config *c, const char *value, char *err, size_t errlen);

static int set_string(char **field, const char *value) {
        char *s = strdup(value);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static int set_source(struct config *c, const char *v, char *err, size_t errlen) {
        if (streq(v, "metadata"))
                c->source = SOURCE_METADATA;
        else if (streq(v, "api"))
                c->source = SOURCE_API;
        else {
                snprintf(err, errlen, "must be \"metadata\" or \"api\"");
                return -EINVAL;
        }
        return 0;
}

static int set_url(char **field, const char *v, char *err, size_t errlen) {
        if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
                snprintf(err, errlen, "must start with http:// or https://");
                return -EINVAL;
        }
        if (strlen(v) > 2048) {
                snprintf(err, errlen, "is longer than 2048 characters");
                return -EINVAL;
        }
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f) {
                        snprintf(err, errlen, "contains a space or control character");
                        return -EINVAL;
                }
        return set_string(field, v);
}

static int set_metadata_url(struct config *c, const char *v, char *err, size_t errlen) {
        return set_url(&c->metadata_url, v, err, errlen);
}

static int set_api_url(struct config *c, const char *v, char *err, size_t errlen) {
        size_t l = strlen(v);
        /* A base URL: the agent appends /v2/...; a trailing slash would double it. */
        if (l > 0 && v[l - 1] == '/') {
                snprintf(err, errlen, "must not end with a slash (e.g. https://api.digitalocean.com)");
                return -EINVAL;
        }
        return set_url(&c->api_url, v, err, errlen);
}

static int set_duration(uint64_t *field, const char *v, uint64_t min, uint64_t max, char *err, size_t errlen) {
        uint64_t usec;
        if (parse_duration_usec(v, &usec) < 0 || usec < min || usec > max) {
                snprintf(err, errlen, "is not a duration from %llu ms to %llu s (e.g. \"2\", \"2s\", \"500ms\")",
                         (unsigned long long) (min / 1000), (unsigned long long) (max / 1000000));
                return -EINVAL;
        }
        *field = usec;
        return 0;
}

static int set_connect_timeout(struct config *c, const char *v, char *err, size_t errlen) {
        return set_duration(&c->connect_timeout_usec, v, 100000ULL, 60000000ULL, err, errlen);
}

static int set_timeout(struct config *c, const char *v, char *err, size_t errlen) {
        return set_duration(&c->timeout_usec, v, 100000ULL, 300000000ULL, err, errlen);
}

static int set_uint(uint64_t *ret, const char *v, uint64_t min, uint64_t max, char *err, size_t errlen) {
        if (safe_atou64(v, min, max, ret) < 0) {
                snprintf(err, errlen, "is not a number from %llu to %llu", (unsigned long long) min,
                         (unsigned long long) max);
                return -EINVAL;
        }
        return 0;
}

static int set_metadata_max_size(struct config *c, const char *v, char *err, size_t errlen) {
        /* DigitalOcean's user_data alone can be tens of KiB; never cap below 1 MiB. */
        return set_uint(&c->metadata_max_size, v, 1024ULL * 1024, 256ULL * 1024 * 1024, err, errlen);
}

static int set_interface(struct config *c, const char *v, char *err, size_t errlen) {
        if (strlen(v) >= IF_NAMESIZE || streq(v, ".") || streq(v, "..") || strchr(v, '/')) {
                snprintf(err, errlen, "is not a valid interface name");
                return -EINVAL;
        }
        for (const char *p = v; *p; p++)
                if (!isgraph((unsigned char) *p) || *p == ':') {
                        snprintf(err, errlen, "is not a valid interface name");
                        return -EINVAL;
                }
        return set_string(&c->interface, v);
}

static int set_gateway(struct config *c, const char *v, char *err, size_t errlen) {
        uint32_t a;

        if (ipv4_parse(v, &a) < 0 || a == 0) {
                snprintf(err, errlen, "is not an IPv4 address (e.g. 10.116.0.1)");
                return -EINVAL;
        }
        /* Whether it lies in the private subnet is checked against the metadata, at each use. */
        c->gateway = a;
        return 0;
}

static int parse_cidr_word(const char *word, struct cidr *ret, char *err, size_t errlen) {
        struct cidr cd;
        int r;

        r = cidr_parse(word, &cd);
        if (r == -EADDRNOTAVAIL) {
                /* Name the network the user most likely meant. */
                const char *slash = strchr(word, '/');
                uint64_t len = 0;
                uint32_t a = 0;
                char addr[IPV4_STRLEN] = "", meant[CIDR_STRLEN];
                if (slash && (size_t) (slash - word) < sizeof addr) {
                        memcpy(addr, word, (size_t) (slash - word));
                        addr[slash - word] = '\0';
                }
                (void) ipv4_parse(addr, &a);
                (void) safe_atou64(slash ? slash + 1 : "", 0, 32, &len);
                struct cidr m = { a & prefix_to_mask((uint8_t) len), (uint8_t) len };
                snprintf(err, errlen, "has host bits set (did you mean %s?)", cidr_to_string(&m, meant));
                return r;
        }
        if (r < 0) {
                snprintf(err, errlen, "is not an IPv4 network in CIDR notation (a.b.c.d/len)");
                return r;
        }
        *ret = cd;
        return 0;
}

static int set_routes(struct config *c, const char *v, char *err, size_t errlen) {
        _cleanup_free_ struct cidr *list = NULL;
        _cleanup_free_ char *copy = strdup(v);
        size_t n = 0, cap = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
                char reason[CONFIG_ERR_MAX], q[QUOTE_BUF];
                struct cidr cd;
                if (parse_cidr_word(w, &cd, reason, sizeof reason) < 0) {
                        snprintf(err, errlen, "entry \"%s\" %s", str_quote(w, strlen(w), QUOTE_MAX, q, sizeof q), reason);
                        return -EINVAL;
                }
                if (GREEDY_REALLOC(list, cap, n + 1) < 0)
                        return -ENOMEM;
                list[n++] = cd;
        }
        if (n == 0) {
                snprintf(err, errlen, "lists no network");
                return -EINVAL;
        }
        free(c->routes);
        c->routes = TAKE_PTR(list);
        c->n_routes = n;
        return 0;
}

static int set_path(char **field, const char *v, char *err, size_t errlen);

static int set_routes_file(struct config *c, const char *v, char *err, size_t errlen) {
        return set_path(&c->routes_file, v, err, errlen);
}

static int set_metric(struct config *c, const char *v, char *err, size_t errlen) {
        uint64_t u;
        int r = set_uint(&u, v, 0, UINT32_MAX, err, errlen);
        if (r == 0)
                c->metric = (uint32_t) u;
        return r;
}

static int set_mtu(struct config *c, const char *v, char *err, size_t errlen) {
        uint64_t u;
        int r = set_uint(&u, v, 68, 65535, err, errlen);
        if (r == 0)
                c->mtu = (uint32_t) u;
        return r;
}

static int set_table(struct config *c, const char *v, char *err, size_t errlen) {
        uint64_t u;

        if (streq(v, "main")) {
                c->table = ROUTE_TABLE_MAIN;
                return 0;
        }
        if (safe_atou64(v, 1, UINT32_MAX, &u) < 0 || u == ROUTE_TABLE_LOCAL) {
                snprintf(err, errlen, "must be \"main\" or a table number from 1 to 4294967295 other than 255 (local)");
                return -EINVAL;
        }
        c->table = (uint32_t) u;
        return 0;
}

static int set_protocol(struct config *c, const char *v, char *err, size_t errlen) {
        uint64_t u;

        if (safe_atou64(v, 0, 255, &u) < 0) {
                snprintf(err, errlen, "is not a number from 1 to 255");
                return -EINVAL;
        }
        /* Owning another program's protocol number would make "flush" delete its routes. */
        if (route_protocol_name((uint8_t) u)) {
                snprintf(err, errlen, "belongs to %s routes; the agent would treat them as its own (241 is the default)",
                         route_protocol_name((uint8_t) u));
                return -EINVAL;
        }
        c->protocol = (uint8_t) u;
        return 0;
}

static int set_peering_flag(struct config *c, const char *v, char *err, size_t errlen) {
        if (streq(v, "honor"))
                c->peering_flag = PEERING_FLAG_HONOR;
        else if (streq(v, "ignore"))
                c->peering_flag = PEERING_FLAG_IGNORE;
        else {
                snprintf(err, errlen, "must be \"honor\" or \"ignore\"");
                return -EINVAL;
        }
        return 0;
}

static int set_allow_non_private(struct config *c, const char *v, char *err, size_t errlen) {
        if (parse_boolean(v, &c->allow_non_private) < 0) {
                snprintf(err, errlen, "must be yes or no");
                return -EINVAL;
        }
        return 0;
}

static int set_max_routes(struct config *c, const char *v, char *err, size_t errlen) {
        return set_uint(&c->max_routes, v, 1, 1000000, err, errlen);
}

static int set_interval(struct config *c, const char *v, char *err, size_t errlen) {
        return set_duration(&c->interval_usec, v, 1000000ULL, 86400000000ULL, err, errlen);
}

static int set_api_interval(struct config *c, const char *v, char *err, size_t errlen) {
        /* Two requests a round: even the minimum stays far inside 250 requests a minute.
         * Benchmarks that run API time faster may go below it (api_time_scale). */
        return set_duration(&c->api_interval_usec, v, 10000000ULL / api_time_scale(), 86400000000ULL, err, errlen);
}

static int set_api_budget(struct config *c, const char *v, char *err, size_t errlen) {
        size_t digits = strcspn(v, "%");
        _cleanup_free_ char *number = strndup(v, digits);
        uint64_t pct;

        if (!number)
                return -ENOMEM;
        /* "50%" or "50" */
        if ((v[digits] == '%' && v[digits + 1] != '\0') || safe_atou64(number, 1, 100, &pct) < 0) {
                snprintf(err, errlen, "is not a percentage from 1%% to 100%% (e.g. \"50%%\")");
                return -EINVAL;
        }
        c->api_budget = (unsigned) pct;
        return 0;
}

static int set_api_insecure(struct config *c, const char *v, char *err, size_t errlen) {
        if (parse_boolean(v, &c->api_insecure) < 0) {
                snprintf(err, errlen, "must be yes or no");
                return -EINVAL;
        }
        return 0;
}

static int set_api_token_file(struct config *c, const char *v, char *err, size_t errlen) {
        return set_path(&c->api_token_file, v, err, errlen);
}

static int set_api_ca_file(struct config *c, const char *v, char *err, size_t errlen) {
        return set_path(&c->api_ca_file, v, err, errlen);
}

static int set_path(char **field, const char *v, char *err, size_t errlen) {
        if (v[0] != '/') {
                snprintf(err, errlen, "must be an absolute path");
                return -EINVAL;
        }
        return set_string(field, v);
}

static int set_state_file(struct config *c, const char *v, char *err, size_t errlen) {
        return set_path(&c->state_file, v, err, errlen);
}

static int set_owner_file(struct config *c, const char *v, char *err, size_t errlen) {
        return set_path(&c->owner_file, v, err, errlen);
}

static int set_metrics_file(struct config *c, const char *v, char *err, size_t errlen) {
        return set_path(&c->metrics_file, v, err, errlen);
}

static const struct {
        const char *key;
        setter_fn set;
} setters[] = {
        { "source", set_source },
        { "metadata_url", set_metadata_url },
        { "connect_timeout", set_connect_timeout },
        { "timeout", set_timeout },
        { "metadata_max_size", set_metadata_max_size },
        { "interface", set_interface },
        { "gateway", set_gateway },
        { "routes", set_routes },
        { "routes_file", set_routes_file },
        { "metric", set_metric },
        { "mtu", set_mtu },
        { "table", set_table },
        { "protocol", set_protocol },
        { "peering_flag", set_peering_flag },
        { "allow_non_private", set_allow_non_private },
        { "max_routes", set_max_routes },
        { "interval", set_interval },
        { "state_file", set_state_file },
        { "owner_file", set_owner_file },
        { "metrics_file", set_metrics_file },
        { "api_url", set_api_url },
        { "api_token_file", set_api_token_file },
        { "api_ca_file", set_api_ca_file },
        { "api_insecure", set_api_insecure },
        { "api_interval", set_api_interval },
        { "api_budget", set_api_budget },
};

const char *config_key_name(size_t i) {
        return i < ELEMENTSOF(setters) ? setters[i].key : NULL;
}

int config_set(struct config *c, const char *key, const char *value, const char *where, char *err, size_t errlen) {
        char reason[CONFIG_ERR_MAX], q[QUOTE_BUF], k[QUOTE_BUF];
        int r;

        for (size_t i = 0; i < ELEMENTSOF(setters); i++) {
                if (!streq(setters[i].key, key))
                        continue;
                reason[0] = '\0';
                r = setters[i].set(c, value, reason, sizeof reason);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        snprintf(err, errlen, "%s: %s \"%s\" %s", where, key,
                                 str_quote(value, strlen(value), QUOTE_MAX, q, sizeof q), reason);
                        return -EINVAL;
                }
                return 0;
        }
        snprintf(err, errlen, "%s: unknown key \"%s\"", where, str_quote(key, strlen(key), QUOTE_MAX, k, sizeof k));
        return -EINVAL;
}

struct config_parse_state {
        struct config *c;
        const char *path;
        char *err;
        size_t errlen;
        unsigned seen[ELEMENTSOF(setters)];
};

static int config_line(char *s, unsigned lineno, void *userdata) {
        struct config_parse_state *st = userdata;
        char where[PATH_MAX + 16], q[QUOTE_BUF];
        char *key, *value;

        snprintf(where, sizeof where, "%s:%u", st->path, lineno);
        if (config_lexer_key_value(s, &key, &value) < 0) {
                snprintf(st->err, st->errlen, "%s: expected \"key = value\", got \"%s\"", where,
                         str_quote(s, strlen(s), QUOTE_MAX, q, sizeof q));
                return -EINVAL;
        }
        if (!*value) {
                snprintf(st->err, st->errlen, "%s: %s has no value", where, key);
                return -EINVAL;
        }
        for (size_t i = 0; i < ELEMENTSOF(setters); i++)
                if (streq(setters[i].key, key)) {
                        if (st->seen[i]) {
                                snprintf(st->err, st->errlen, "%s: %s is already set on line %u", where, key, st->seen[i]);
                                return -EINVAL;
                        }
                        st->seen[i] = lineno;
                        if (streq(key, "routes"))
                                st->c->routes_line = lineno;
                }
        return config_set(st->c, key, value, where, st->err, st->errlen);
}

int config_parse_text(struct config *c, const char *text, size_t size, const char *path, char *err, size_t errlen) {
        struct config_parse_state st = { .c = c, .path = path, .err = err, .errlen = errlen };
        return config_lexer_lines(text, size, path, config_line, &st, err, errlen);
}

struct routes_parse_state {
        const char *path;
        char *err;
        size_t errlen;
        struct cidr *list;
        size_t n, cap;
};

static int routes_line(char *s, unsigned lineno, void *userdata) {
        struct routes_parse_state *st = userdata;
        char reason[CONFIG_ERR_MAX], q[QUOTE_BUF];
        struct cidr cd;

        if (parse_cidr_word(s, &cd, reason, sizeof reason) < 0) {
                snprintf(st->err, st->errlen, "%s:%u: \"%s\" %s", st->path, lineno,
                         str_quote(s, strlen(s), QUOTE_MAX, q, sizeof q), reason);
                return -EINVAL;
        }
        if (GREEDY_REALLOC(st->list, st->cap, st->n + 1) < 0)
                return -ENOMEM;
        st->list[st->n++] = cd;
        return 0;
}

int config_parse_routes_text(const char *text, size_t size, const char *path, struct cidr **ret, size_t *ret_n,
                             char *err, size_t errlen) {
        struct routes_parse_state st = { .path = path, .err = err, .errlen = errlen };
        int r;

        r = config_lexer_lines(text, size, path, routes_line, &st, err, errlen);
        if (r < 0) {
                free(st.list);
                return r;
        }
        *ret = st.list;
        *ret_n = st.n;
        return 0;
}

static int cidr_compare_qsort(const void *a, const void *b) {
        return cidr_compare(a, b);
}

int config_finalize(struct config *c, char *err, size_t errlen) {
        char where[PATH_MAX + 32], cs[CIDR_STRLEN];
        int r;

        if (c->routes_file) {
                _cleanup_free_ char *text = NULL;
                struct cidr *list = NULL;
                size_t size = 0, n = 0;

                if (c->routes_line) {
                        snprintf(err, errlen, "%s:%u: routes and routes_file are both set; use one", strna(c->path),
                                 c->routes_line);
                        return -EINVAL;
                }
                struct stat st;
                r = read_trusted_file(c->routes_file, ROUTES_FILE_MAX_SIZE, &c->file_trust, &text, &size, &st);
                if (r == -EPERM && S_ISREG(st.st_mode)) {
                        char why[96];
                        snprintf(err, errlen, "routes_file \"%s\" %s; refusing it", c->routes_file,
                                 file_trust_failure(&c->file_trust, &st, why, sizeof why));
                        return -EPERM;
                }
                if (r < 0) {
                        snprintf(err, errlen, "routes_file \"%s\": %s", c->routes_file,
                                 r == -EFBIG ? "larger than 16 MiB" : strerror(-r));
                        return -EINVAL;
                }
                r = config_parse_routes_text(text, size, c->routes_file, &list, &n, err, errlen);
                if (r < 0)
                        return r;
                if (n == 0) {
                        /* An emptied file is far more often an accident than a wish to drop every route. */
                        free(list);
                        snprintf(err, errlen, "routes_file \"%s\" lists no network; refusing to remove every route",
                                 c->routes_file);
                        return -EINVAL;
                }
                free(c->routes);
                c->routes = list;
                c->n_routes = n;
        }

        if (c->routes_file)
                snprintf(where, sizeof where, "routes_file %s", c->routes_file);
        else if (c->routes_line)
                snprintf(where, sizeof where, "%s:%u: routes", strna(c->path), c->routes_line);
        else
                snprintf(where, sizeof where, "routes");

        for (size_t i = 0; i < c->n_routes; i++) {
                enum cidr_verdict v = cidr_check(&c->routes[i], c->allow_non_private);
                if (v != CIDR_OK) {
                        snprintf(err, errlen, "%s: %s %s", where, cidr_to_string(&c->routes[i], cs),
                                 cidr_verdict_to_string(v));
                        return -EINVAL;
                }
        }

        if (c->n_routes > 1) {
                size_t o = 1;
                qsort(c->routes, c->n_routes, sizeof *c->routes, cidr_compare_qsort);
                for (size_t i = 1; i < c->n_routes; i++)
                        if (cidr_compare(&c->routes[o - 1], &c->routes[i]) != 0)
                                c->routes[o++] = c->routes[i];
                c->n_routes = o;
        }
        if (c->n_routes > c->max_routes) {
                snprintf(err, errlen, "%s: %zu routes exceed max_routes = %llu; refusing the whole set", where,
                         c->n_routes, (unsigned long long) c->max_routes);
                return -E2BIG;
        }

        if (c->source == SOURCE_API) {
                if (strncmp(c->api_url, "http://", 7) == 0 && !c->api_insecure) {
                        snprintf(err, errlen, "api_url \"%s\" is plain http; the token would travel unencrypted "
                                              "(set api_insecure = yes only for tests)",
                                 c->api_url);
                        return -EINVAL;
                }
                r = config_load_api_token(c, err, errlen);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_load(const char *path, bool required, struct config **ret, char *err, size_t errlen) {
        _cleanup_config_ struct config *c = NULL;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t size;
        int r;

        r = config_new_default(&c);
        if (r < 0)
                return r;
        if (!path) {
                *ret = TAKE_PTR(c);
                return 0;
        }

        /* The config decides which routes exist: root's file, or one a non-root user named with
         * --config and owns (status as that user), and nobody else may have written to it. */
        c->file_trust = (struct file_trust) { .forbidden_mode = 022, .other_owner = required ? getuid() : 0 };
        r = read_trusted_file(path, CONFIG_MAX_FILE_SIZE, &c->file_trust, &text, &size, &st);
        if (r == -ENOENT && !required) {
                *ret = TAKE_PTR(c);
                return 0;
        }
        if (r == -EPERM && S_ISREG(st.st_mode)) {
                char why[96];
                snprintf(err, errlen, "config file %s %s; refusing it", path, file_trust_failure(&c->file_trust, &st, why, sizeof why));
                return -EPERM;
        }
        if (r < 0) {
                snprintf(err, errlen, "config file %s: %s", path,
                         r == -EFBIG    ? "larger than 1 MiB; not a config file"
                         : r == -EISDIR ? "is a directory"
                         : r == -EBADFD ? "is not a regular file"
                                        : strerror(-r));
                return -EINVAL;
        }
        c->path = strdup(path);
        if (!c->path)
                return -ENOMEM;
        r = config_parse_text(c, text, size, path, err, errlen);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_full(const char *path, bool required, const struct config_overrides *o, struct config **ret,
                     char *err, size_t errlen) {
        static const struct {
                const char *key;
                const char *option;
                size_t offset;
        } map[] = {
                { "metadata_url", "--metadata-url", offsetof(struct config_overrides, metadata_url) },
                { "protocol", "--protocol", offsetof(struct config_overrides, protocol) },
                { "interval", "--interval", offsetof(struct config_overrides, interval) },
        };
        _cleanup_config_ struct config *c = NULL;
        int r;

        r = config_load(path, required, &c, err, errlen);
        if (r < 0)
                return r;
        for (size_t i = 0; o && i < ELEMENTSOF(map); i++) {
                const char *v = *(const char *const *) ((const char *) o + map[i].offset);
                if (v && (r = config_set(c, map[i].key, v, map[i].option, err, errlen)) < 0)
                        return r;
        }
        if (o && o->protocol)
                c->track_owner = false;
        r = config_finalize(c, err, errlen);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static const char *format_duration(uint64_t usec, char *buf, size_t size) {
        if (usec % 60000000ULL == 0 && usec >= 60000000ULL)
                snprintf(buf, size, "%llumin", (unsigned long long) (usec / 60000000ULL));
        else if (usec % 1000000ULL == 0)
                snprintf(buf, size, "%llus", (unsigned long long) (usec / 1000000ULL));
        else
                snprintf(buf, size, "%llums", (unsigned long long) (usec / 1000ULL));
        return buf;
}

/* key's value as the file would say it; NULL when the key is unset (printed commented out). */
static const char *format_value(const struct config *c, const char *key, char *buf, size_t size) {
        char a[IPV4_STRLEN], t[12];

        if (streq(key, "source"))
                return route_source_to_string(c->source);
        if (streq(key, "metadata_url"))
                return c->metadata_url;
        if (streq(key, "connect_timeout"))
                return format_duration(c->connect_timeout_usec, buf, size);
        if (streq(key, "timeout"))
                return format_duration(c->timeout_usec, buf, size);
        if (streq(key, "metadata_max_size"))
                return snprintf(buf, size, "%llu", (unsigned long long) c->metadata_max_size), buf;
        if (streq(key, "interface"))
                return c->interface;
        if (streq(key, "gateway"))
                return c->gateway ? snprintf(buf, size, "%s", ipv4_to_string(c->gateway, a)), buf : NULL;
        if (streq(key, "routes_file"))
                return c->routes_file;
        if (streq(key, "metric"))
                return snprintf(buf, size, "%u", c->metric), buf;
        if (streq(key, "mtu"))
                return snprintf(buf, size, "%u", c->mtu), buf;
        if (streq(key, "table"))
                return snprintf(buf, size, "%s", table_to_string(c->table, t)), buf;
        if (streq(key, "protocol"))
                return snprintf(buf, size, "%u", c->protocol), buf;
        if (streq(key, "peering_flag"))
                return peering_flag_to_string(c->peering_flag);
        if (streq(key, "allow_non_private"))
                return c->allow_non_private ? "yes" : "no";
        if (streq(key, "max_routes"))
                return snprintf(buf, size, "%llu", (unsigned long long) c->max_routes), buf;
        if (streq(key, "interval"))
                return format_duration(c->interval_usec, buf, size);
        if (streq(key, "state_file"))
                return c->state_file;
        if (streq(key, "owner_file"))
                return c->owner_file;
        if (streq(key, "metrics_file"))
                return c->metrics_file;
        if (streq(key, "api_url"))
                return c->api_url;
        if (streq(key, "api_token_file"))
                return c->api_token_file;
        if (streq(key, "api_ca_file"))
                return c->api_ca_file;
        if (streq(key, "api_insecure"))
                return c->api_insecure ? "yes" : "no";
        if (streq(key, "api_interval"))
                return format_duration(c->api_interval_usec, buf, size);
        if (streq(key, "api_budget")) {
                snprintf(buf, size, "%u%%", c->api_budget);
                return buf;
        }
        return NULL;
}

void config_print(FILE *f, const struct config *c) {
        for (size_t i = 0; i < ELEMENTSOF(setters); i++) {
                char buf[4096];
                const char *v;

                if (streq(setters[i].key, "routes") && !c->routes_file) {
                        /* Any number of networks (max_routes): written out whole, not through buf. */
                        fputs("routes = ", f);
                        for (size_t k = 0; k < c->n_routes; k++) {
                                char cs[CIDR_STRLEN];
                                fprintf(f, "%s%s", k ? " " : "", cidr_to_string(&c->routes[k], cs));
                        }
                        fputc('\n', f);
                        continue;
                }
                v = format_value(c, setters[i].key, buf, sizeof buf);
                if (v)
                        fprintf(f, "%s = %s\n", setters[i].key, v);
                else
                        fprintf(f, "#%s =\n", setters[i].key);
        }
        if (c->routes_file)
                fprintf(f, "# routes_file holds %zu network%s\n", c->n_routes, c->n_routes == 1 ? "" : "s");
        if (c->api_token)
                fprintf(f, "# source = api: a token of %zu characters was read\n", strlen(c->api_token));
}

uint64_t config_fingerprint(const struct config *c) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        uint64_t h = 14695981039346656037ULL; /* FNV-1a */
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return 0;
        config_print(f, c);
        if (fclose(f) != 0)
                return 0;
        for (size_t i = 0; i < size; i++)
                h = (h ^ (unsigned char) text[i]) * 1099511628211ULL;
        return h;
}
