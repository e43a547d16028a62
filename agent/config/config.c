/* SPDX-License-Identifier: MIT */
/* Loading a configuration: a file's lines through the table of keys (config_keys.c), routes_file,
 * the checks that span keys, the fingerprint. Every error names where, the key and the value. */
#include <sys/stat.h>

#include "config.h"
#include "egress.h"
#include "config_lexer.h"
#include "config_token.h"
#include "url.h"

int config_parse_cidr(const char *word, struct cidr *ret, struct error *err) {
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
                error_set(err, "has host bits set (did you mean %s?)", cidr_to_string(&m, meant));
                return r;
        }
        if (r < 0) {
                error_set(err, "is not an IPv4 network in CIDR notation (a.b.c.d/len)");
                return r;
        }
        *ret = cd;
        return 0;
}

struct config_parse_state {
        struct config *c;
        const char *path;
        struct error *err;
        unsigned *seen;             /* the line each key was set on, by config_key_index() */
};

static int config_line(char *s, unsigned lineno, void *userdata) {
        struct config_parse_state *st = userdata;
        char where[PATH_MAX + 16], q[QUOTE_BUF];
        char *key, *value;

        snprintf(where, sizeof where, "%s:%u", st->path, lineno);
        if (config_lexer_key_value(s, &key, &value) < 0) {
                error_set(st->err, "%s: expected \"key = value\", got \"%s\"", where,
                         str_quote(s, strlen(s), QUOTE_MAX, q, sizeof q));
                return -EINVAL;
        }
        if (!*value) {
                error_set(st->err, "%s: %s has no value", where, key);
                return -EINVAL;
        }
        ssize_t i = config_key_index(key);
        if (i >= 0) {
                if (st->seen[i]) {
                        error_set(st->err, "%s: %s is already set on line %u", where, key, st->seen[i]);
                        return -EINVAL;
                }
                st->seen[i] = lineno;
                if (streq(key, "routes"))
                        st->c->routes_line = lineno;
        }
        return config_set(st->c, key, value, where, st->err);
}

int config_parse_text(struct config *c, const char *text, size_t size, const char *path, struct error *err) {
        _cleanup_free_ unsigned *seen = NULL;
        size_t n = 0;

        while (config_key_name(n))
                n++;
        seen = calloc(MAX(n, 1u), sizeof *seen);
        if (!seen)
                return -ENOMEM;
        struct config_parse_state st = { .c = c, .path = path, .err = err, .seen = seen };
        return config_lexer_lines(text, size, path, config_line, &st, err);
}

struct routes_parse_state {
        const char *path;
        struct error *err;
        struct cidr *list;
        size_t n, cap;
};

static int routes_line(char *s, unsigned lineno, void *userdata) {
        struct routes_parse_state *st = userdata;
        struct error reason = {};
        char q[QUOTE_BUF];
        struct cidr cd;

        if (config_parse_cidr(s, &cd, &reason) < 0) {
                error_set(st->err, "%s:%u: \"%s\" %s", st->path, lineno,
                          str_quote(s, strlen(s), QUOTE_MAX, q, sizeof q), reason.msg);
                return -EINVAL;
        }
        if (GREEDY_REALLOC(st->list, st->cap, st->n + 1) < 0)
                return -ENOMEM;
        st->list[st->n++] = cd;
        return 0;
}

int config_parse_routes_text(const char *text, size_t size, const char *path, struct cidr **ret, size_t *ret_n,
                             struct error *err) {
        struct routes_parse_state st = { .path = path, .err = err };
        int r;

        r = config_lexer_lines(text, size, path, routes_line, &st, err);
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

int config_finalize(struct config *c, struct error *err) {
        char where[PATH_MAX + 32], cs[CIDR_STRLEN];
        int r;

        if (c->routes_file) {
                _cleanup_free_ char *text = NULL;
                struct cidr *list = NULL;
                size_t size = 0, n = 0;

                if (c->routes_line) {
                        error_set(err, "%s:%u: routes and routes_file are both set; use one", strna(c->path),
                                 c->routes_line);
                        return -EINVAL;
                }
                struct stat st;
                r = read_trusted_file(c->routes_file, ROUTES_FILE_MAX_SIZE, &c->file_trust, &text, &size, &st);
                if (r == -EPERM && S_ISREG(st.st_mode)) {
                        char why[96];
                        error_set(err, "routes_file \"%s\" %s; refusing it", c->routes_file,
                                 file_trust_failure(&c->file_trust, &st, why, sizeof why));
                        return -EPERM;
                }
                if (r < 0) {
                        error_set(err, "routes_file \"%s\": %s", c->routes_file,
                                 r == -EFBIG ? "larger than 16 MiB" : strerror(-r));
                        return -EINVAL;
                }
                r = config_parse_routes_text(text, size, c->routes_file, &list, &n, err);
                if (r < 0)
                        return r;
                if (n == 0) {
                        /* An emptied file is far more often an accident than a wish to drop every route. */
                        free(list);
                        error_set(err, "routes_file \"%s\" lists no network; refusing to remove every route",
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
                        error_set(err, "%s: %s %s", where, cidr_to_string(&c->routes[i], cs),
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
                error_set(err, "%s: %zu routes exceed max_routes = %llu; refusing the whole set", where,
                         c->n_routes, (unsigned long long) c->max_routes);
                return -E2BIG;
        }

        if (c->nat_gateway.mode != NAT_OFF && c->table == EGRESS_TABLE) {
                error_set(err, "%s: table = %u is the table nat_gateway keeps egress in; choose another", strna(c->path),
                          EGRESS_TABLE);
                return -EINVAL;
        }

        if (c->source == SOURCE_API) {
                if (url_scheme(c->api_url) == URL_SCHEME_HTTP && !c->api_insecure) {
                        error_set(err, "api_url \"%s\" is plain http; the token would travel unencrypted "
                                              "(set api_insecure = yes only for tests)",
                                 c->api_url);
                        return -EINVAL;
                }
                r = config_load_api_token(c, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_load(const char *path, bool required, struct config **ret, struct error *err) {
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
                error_set(err, "config file %s %s; refusing it", path, file_trust_failure(&c->file_trust, &st, why, sizeof why));
                return -EPERM;
        }
        if (r < 0) {
                error_set(err, "config file %s: %s", path,
                         r == -EFBIG    ? "larger than 1 MiB; not a config file"
                         : r == -EISDIR ? "is a directory"
                         : r == -EBADFD ? "is not a regular file"
                                        : strerror(-r));
                return -EINVAL;
        }
        c->path = strdup(path);
        if (!c->path)
                return -ENOMEM;
        r = config_parse_text(c, text, size, path, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_full(const char *path, bool required, const struct config_overrides *o, struct config **ret,
                     struct error *err) {
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

        r = config_load(path, required, &c, err);
        if (r < 0)
                return r;
        for (size_t i = 0; o && i < ELEMENTSOF(map); i++) {
                const char *v = *(const char *const *) ((const char *) o + map[i].offset);
                if (v && (r = config_set(c, map[i].key, v, map[i].option, err)) < 0)
                        return r;
        }
        if (o && o->protocol)
                c->track_owner = false;
        r = config_finalize(c, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
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
