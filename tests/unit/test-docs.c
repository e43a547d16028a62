/* SPDX-License-Identifier: MIT */
/* The documentation agrees with the code: every key the parser knows is described in
 * vpc-peer-routes.conf(5) and listed in the example config, and nothing else is (the README
 * shows none the parser lacks); every default shown in the example config is the parser's
 * default; every metric is described in vpc-peer-routes(8). */
#include <ctype.h>

#include "config.h"
#include "state.h"
#include "unit.h"

static char *man, *man8, *example, *readme;

/* Same settings: the keys' table prints every one of them (check-config's output), and the
 * token, which it never prints, is compared apart. */
static bool config_equal(const struct config *a, const struct config *b) {
        _cleanup_free_ char *ta = NULL, *tb = NULL;
        size_t la = 0, lb = 0;
        FILE *f;

        f = open_memstream(&ta, &la);
        assert_non_null(f);
        config_print(f, a);
        fclose(f);
        f = open_memstream(&tb, &lb);
        assert_non_null(f);
        config_print(f, b);
        fclose(f);
        return streq(ta, tb) && streq_ptr(a->api_token, b->api_token);
}

static char *load(const char *rel) {
        char path[1024], *text = NULL;
        snprintf(path, sizeof path, "%s/%s", SRCDIR, rel);
        if (read_full_file(path, 1 << 20, &text, NULL) < 0) {
                fprintf(stderr, "cannot read %s\n", path);
                exit(1);
        }
        return text;
}

static bool is_key(const char *k) {
        for (size_t i = 0; config_key_name(i); i++)
                if (streq(config_key_name(i), k))
                        return true;
        return false;
}

/* Does text hold a line that is exactly "prefix key" followed by end of line or one of ends? */
static bool has_line(const char *text, const char *prefix, const char *key, const char *ends) {
        size_t pl = strlen(prefix), kl = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, prefix, pl) == 0 && strncmp(p + pl, key, kl) == 0 && strchr(ends, p[pl + kl]))
                        return true;
        return false;
}

static void test_keys_documented(void **state) {
        (void) state;
        for (size_t i = 0; config_key_name(i); i++) {
                const char *k = config_key_name(i);

                if (!has_line(man, ".B ", k, "\n"))
                        fail_msg("key %s is not described in man/vpc-peer-routes.conf.5 (.TP / .B %s)", k, k);
                if (!has_line(example, "#", k, " "))
                        fail_msg("key %s is missing from packaging/vpc-peer-routes.conf (#%s = ...)", k, k);
        }
}

/* The README is short and keeps no key table (the reference is vpc-peer-routes.conf(5)); every
 * "key = value" it shows in its examples is a key the parser knows. */
static void test_readme_keys_known(void **state) {
        unsigned seen = 0;
        (void) state;

        /* "key = " where key starts a line or follows a space, a backtick, a quote or "(". */
        for (const char *q = readme; *q; q++) {
                char k[64];
                size_t n;

                if (!islower((unsigned char) *q) || (q > readme && !strchr(" \t\n`'(", q[-1])))
                        continue;
                n = strspn(q, "abcdefghijklmnopqrstuvwxyz_");
                if (n < sizeof k && strncmp(q + n, " = ", 3) == 0) {
                        memcpy(k, q, n);
                        k[n] = '\0';
                        if (!is_key(k))
                                fail_msg("README.md shows \"%s = ...\", which the parser does not know", k);
                        seen++;
                }
                q += n ? n - 1 : 0;
        }
        assert_true(seen >= 2);
}

/* Every metric the service writes is described in vpc-peer-routes(8). */
static void test_metrics_documented(void **state) {
        (void) state;
        for (size_t i = 0; metric_name(i); i++) {
                char roff[128];
                snprintf(roff, sizeof roff, "vpc_peer_routes_%s", metric_name(i));
                if (!strstr(man8, roff))
                        fail_msg("metric %s is not described in man/vpc-peer-routes.8", roff);
        }
}

/* Keys in the man page's option list (".TP" then ".B key") and in the example all exist. */
static void test_no_unknown_keys(void **state) {
        (void) state;
        for (const char *p = strstr(man, ".SH OPTIONS"); p && (p = strstr(p, ".TP\n.B ")); p += 7) {
                char k[64];
                size_t n = strcspn(p + 7, "\n");
                if (strncmp(p - 0, ".TP\n.B ", 7) != 0 || n >= sizeof k)
                        continue;
                memcpy(k, p + 7, n);
                k[n] = '\0';
                if (strstr(k, "\\") || strchr(k, ' '))
                        continue;
                if (!is_key(k))
                        fail_msg("man/vpc-peer-routes.conf.5 describes \"%s\", which the parser does not know", k);
                if (strstr(p, ".SH EXAMPLES") == p)
                        break;
        }
        for (const char *p = example; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                char k[64];
                size_t n;
                if (p[0] != '#' || !islower((unsigned char) p[1]))
                        continue;
                n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
                if (n >= sizeof k || strncmp(p + 1 + n, " =", 2) != 0)
                        continue;
                memcpy(k, p + 1, n);
                k[n] = '\0';
                if (!is_key(k))
                        fail_msg("packaging/vpc-peer-routes.conf lists \"%s\", which the parser does not know", k);
        }
}

/* Each "#key = value" of the example, applied to the defaults, changes nothing. */
static void test_example_defaults(void **state) {
        _cleanup_config_ struct config *def = NULL;
        struct error err = {0};
        unsigned checked = 0;
        (void) state;

        assert_int_equal(config_new_default(&def), 0);
        for (const char *p = example; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                _cleanup_config_ struct config *c = NULL;
                char line[512], *eq, *key, *value;
                size_t n = strcspn(p, "\n");

                if (p[0] != '#' || !islower((unsigned char) p[1]) || n >= sizeof line)
                        continue;
                memcpy(line, p + 1, n - 1);
                line[n - 1] = '\0';
                eq = strstr(line, " = ");
                if (!eq)
                        continue;
                *eq = '\0';
                key = line;
                value = eq + 3;
                if (!is_key(key))
                        continue;
                assert_int_equal(config_new_default(&c), 0);
                if (config_set(c, key, value, "example", &err) < 0)
                        fail_msg("example default does not parse: %s", err.msg);
                if (!config_equal(c, def))
                        fail_msg("example says \"%s = %s\", which is not the default", key, value);
                checked++;
        }
        assert_true(checked >= 15);
}

/* check-config prints the effective configuration in the file's syntax: printed and read back, it
 * is the same configuration, and it names every key. */
static void test_print_round_trip(void **state) {
        static const char *const configs[] = {
                "",
                "source = metadata\nconnect_timeout = 500ms\ntimeout = 3s\ninterface = ens4\ngateway = 10.116.0.9\n"
                "routes = 10.120.0.0/20 10.130.0.0/16\nmetric = 7\nmtu = 1450\ntable = 100\nprotocol = 250\n"
                "peering_flag = ignore\nallow_non_private = yes\nmax_routes = 9\ninterval = 2min\n"
                "state_file = /run/x.json\nowner_file = /var/lib/x\nmetrics_file = /run/m.prom\n"
                "api_url = https://api.example.com\napi_interval = 90s\napi_insecure = yes\napi_budget = 20%\n",
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(configs); i++) {
                _cleanup_config_ struct config *c = NULL, *back = NULL;
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                struct error err = {0};
                FILE *f;

                assert_int_equal(config_new_default(&c), 0);
                if (config_parse_text(c, configs[i], strlen(configs[i]), "in.conf", &err) < 0 ||
                    config_finalize(c, &err) < 0)
                        fail_msg("%s", err.msg);
                f = open_memstream(&text, &len);
                assert_non_null(f);
                config_print(f, c);
                fclose(f);
                for (size_t k = 0; config_key_name(k); k++) {
                        char line[64];
                        snprintf(line, sizeof line, "%s =", config_key_name(k));
                        assert_contains(text, line);
                }
                assert_int_equal(config_new_default(&back), 0);
                if (config_parse_text(back, text, len, "printed", &err) < 0 || config_finalize(back, &err) < 0)
                        fail_msg("the printed configuration does not read back: %s\n%s", err, text);
                if (!config_equal(c, back))
                        fail_msg("the printed configuration reads back as another one:\n%s", text);
        }
}

int main(void) {
        struct unit_tests u = {};
        int r;

        man = load("man/vpc-peer-routes.conf.5");
        example = load("packaging/vpc-peer-routes.conf");
        readme = load("README.md");
        man8 = load("man/vpc-peer-routes.8");
        UNIT_ADD(&u, test_keys_documented);
        UNIT_ADD(&u, test_readme_keys_known);
        UNIT_ADD(&u, test_metrics_documented);
        UNIT_ADD(&u, test_no_unknown_keys);
        UNIT_ADD(&u, test_example_defaults);
        UNIT_ADD(&u, test_print_round_trip);
        r = unit_run(&u, "docs");
        free(man);
        free(man8);
        free(example);
        free(readme);
        return r;
}
