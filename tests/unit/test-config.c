/* SPDX-License-Identifier: MIT */
/* Config file parsing: defaults, every key's bad values (with file and line), routes files,
 * finalize rules, and loading files of the wrong kind. */
#include <sys/stat.h>

#include "api_pace.h"
#include "config.h"
#include "owner.h"
#include "unit.h"

static void test_defaults(void **state) {
        _cleanup_config_ struct config *c = NULL;
        struct error err = {0};
        (void) state;

        assert_int_equal(config_new_default(&c), 0);
        assert_int_equal(config_finalize(c, &err), 0);
        assert_string_equal(c->metadata_url, "http://169.254.169.254/metadata/v1.json");
        assert_int_equal(c->connect_timeout_usec, 2000000);
        assert_int_equal(c->timeout_usec, 10000000);
        assert_int_equal(c->metadata_max_size, 4 * 1024 * 1024);
        assert_int_equal(c->metric, 101);
        assert_int_equal(c->mtu, 1500);
        assert_int_equal(c->table, 254);
        assert_int_equal(c->protocol, 241);
        assert_int_equal(c->peering_flag, PEERING_FLAG_HONOR);
        assert_false(c->allow_non_private);
        assert_int_equal(c->max_routes, 256);
        assert_int_equal(c->api_budget, 50);
        assert_null(c->interface);
        assert_int_equal(c->gateway, 0);
        assert_int_equal(c->n_routes, 3);
        assert_int_equal(c->routes[0].addr, 0x0a000000u);
        assert_int_equal(c->routes[1].addr, 0xac100000u);
        assert_int_equal(c->routes[2].addr, 0xc0a80000u);
}

static void test_full_file(void **state) {
        _cleanup_config_ struct config *c = NULL;
        const char *text = "# every key\n"
                           "\n"
                           "source = metadata\r\n"
                           "metadata_url = http://127.0.0.1:8080/metadata/v1.json   # trailing comment\n"
                           "connect_timeout = 500ms\n"
                           "timeout = 3s\n"
                           "metadata_max_size = 2097152\n"
                           "  interface = ens4\n"
                           "gateway = 10.116.0.9\n"
                           "routes = 10.120.0.0/20 10.130.0.0/16, 10.120.0.0/20\n"
                           "metric = 0\n"
                           "mtu = 1450\n"
                           "table = 100\n"
                           "protocol = 250\n"
                           "peering_flag = ignore\n"
                           "allow_non_private = yes\n"
                           "max_routes = 2\n"
                           "api_budget = 75%\n";
        struct error err = {0};
        (void) state;

        assert_int_equal(config_new_default(&c), 0);
        if (config_parse_text(c, text, strlen(text), "test.conf", &err) < 0)
                fail_msg("%s", err.msg);
        if (config_finalize(c, &err) < 0)
                fail_msg("%s", err.msg);
        assert_string_equal(c->metadata_url, "http://127.0.0.1:8080/metadata/v1.json");
        assert_int_equal(c->connect_timeout_usec, 500000);
        assert_int_equal(c->timeout_usec, 3000000);
        assert_int_equal(c->metadata_max_size, 2097152);
        assert_string_equal(c->interface, "ens4");
        assert_int_equal(c->gateway, 0x0a740009u);
        assert_int_equal(c->n_routes, 2); /* the duplicate collapsed */
        assert_int_equal(c->routes[0].addr, 0x0a780000u);
        assert_int_equal(c->routes[1].addr, 0x0a820000u);
        assert_int_equal(c->metric, 0);
        assert_int_equal(c->mtu, 1450);
        assert_int_equal(c->table, 100);
        assert_int_equal(c->protocol, 250);
        assert_int_equal(c->peering_flag, PEERING_FLAG_IGNORE);
        assert_true(c->allow_non_private);
        assert_int_equal(c->max_routes, 2);
        assert_int_equal(c->api_budget, 75);
}

struct bad_case {
        const char *name;
        const char *text;
        const char *error;
};

static const struct bad_case bad_cases[] = {
        { "unknown key", "metric = 101\nmetrc = 5\n", "test.conf:2: unknown key \"metrc\"" },
        { "no equals", "\n\nmetric 101\n", "test.conf:3: expected \"key = value\", got \"metric 101\"" },
        { "empty value", "metric =\n", "test.conf:1: metric has no value" },
        { "duplicate key", "metric = 1\n# x\nmetric = 2\n", "test.conf:3: metric is already set on line 1" },
        { "source", "source = api2\n", "test.conf:1: source \"api2\" must be \"metadata\"" },
        { "metadata_url scheme", "metadata_url = ftp://x/\n", "metadata_url \"ftp://x/\" must start with http:// or https://" },
        { "metadata_url space", "metadata_url = http://a b/\n", "contains a space" },
        { "connect_timeout word", "connect_timeout = soon\n", "test.conf:1: connect_timeout \"soon\" is not a duration" },
        { "connect_timeout zero", "connect_timeout = 0\n", "connect_timeout \"0\" is not a duration" },
        { "timeout huge", "timeout = 1h\n", "timeout \"1h\" is not a duration" },
        { "api_budget zero", "api_budget = 0%\n", "test.conf:1: api_budget \"0%\" is not a percentage from 1% to 100% (e.g. \"50%\")" },
        { "api_budget over", "api_budget = 101\n", "api_budget \"101\" is not a percentage from 1% to 100%" },
        { "api_budget double percent", "api_budget = 50%%\n", "api_budget \"50%%\" is not a percentage" },
        { "api_budget fraction", "api_budget = 0.5\n", "api_budget \"0.5\" is not a percentage" },
        { "api_interval short", "api_interval = 5s\n", "api_interval \"5s\" is not a duration from 10000 ms" },
        { "metadata_max_size small", "metadata_max_size = 1000\n", "metadata_max_size \"1000\" is not a number from 1048576" },
        { "interface slash", "interface = a/b\n", "interface \"a/b\" is not a valid interface name" },
        { "interface long", "interface = abcdefghijklmnop\n", "is not a valid interface name" },
        { "routes host bits", "routes = 10.0.0.1/8\n", "routes \"10.0.0.1/8\" entry \"10.0.0.1/8\" has host bits set (did you mean 10.0.0.0/8?)" },
        { "routes not cidr", "routes = 10.0.0.0/8 banana\n", "entry \"banana\" is not an IPv4 network" },
        { "routes only commas", "routes = ,,\n", "routes \",,\" lists no network" },
        { "routes_file relative", "routes_file = routes.txt\n", "routes_file \"routes.txt\" must be an absolute path" },
        { "metric negative", "metric = -1\n", "metric \"-1\" is not a number from 0 to 4294967295" },
        { "metric too big", "metric = 4294967296\n", "is not a number from 0 to 4294967295" },
        { "metric float", "metric = 1.5\n", "is not a number" },
        { "mtu small", "mtu = 67\n", "mtu \"67\" is not a number from 68 to 65535" },
        { "mtu big", "mtu = 65536\n", "is not a number from 68 to 65535" },
        { "table local", "table = 255\n", "table \"255\" must be \"main\" or a table number" },
        { "table zero", "table = 0\n", "must be \"main\" or a table number" },
        { "table name", "table = vpn\n", "must be \"main\" or a table number" },
        { "protocol static", "protocol = 4\n", "protocol \"4\" belongs to static routes" },
        { "protocol boot", "protocol = 3\n", "belongs to boot routes" },
        { "protocol kernel", "protocol = 2\n", "belongs to kernel routes" },
        { "protocol dhcp", "protocol = 16\n", "belongs to dhcp routes" },
        { "protocol bgp", "protocol = 186\n", "belongs to bgp routes" },
        { "protocol 256", "protocol = 256\n", "is not a number from 1 to 255" },
        { "peering_flag", "peering_flag = maybe\n", "peering_flag \"maybe\" must be \"honor\" or \"ignore\"" },
        { "allow_non_private", "allow_non_private = perhaps\n", "allow_non_private \"perhaps\" must be yes or no" },
        { "max_routes zero", "max_routes = 0\n", "max_routes \"0\" is not a number from 1" },
        { "gateway not an address", "gateway = 10.116.0.256\n", "gateway \"10.116.0.256\" is not an IPv4 address" },
        { "gateway with prefix", "gateway = 10.116.0.1/20\n", "gateway \"10.116.0.1/20\" is not an IPv4 address" },
        { "gateway 0.0.0.0", "gateway = 0.0.0.0\n", "gateway \"0.0.0.0\" is not an IPv4 address" },
        { "gateway name", "gateway = _gateway\n", "is not an IPv4 address" },
        { "nul byte", "metric = 1\0\n", "contains a NUL byte" },
        { "quoted value control chars", "interface = \x01\x02\n", "interface \"\\x01\\x02\" is not a valid interface name" },
};

static void test_bad(void **state) {
        const struct bad_case *c = *state;
        _cleanup_config_ struct config *cfg = NULL;
        struct error err = {0};
        size_t len = strlen(c->text);

        if (strstr(c->name, "nul byte"))
                len = 12;
        assert_int_equal(config_new_default(&cfg), 0);
        assert_true(config_parse_text(cfg, c->text, len, "test.conf", &err) < 0);
        assert_contains(err.msg, c->error);
        assert_null(strchr(err.msg, '\n'));
}

struct finalize_case {
        const char *name;
        const char *text;
        const char *error; /* NULL: must succeed */
};

static const struct finalize_case finalize_cases[] = {
        { "public network refused", "routes = 203.0.113.0/24\n", "test.conf:1: routes: 203.0.113.0/24 is outside RFC 1918" },
        { "public network allowed", "routes = 203.0.113.0/24\nallow_non_private = yes\n", NULL },
        { "allow before routes", "allow_non_private = yes\nroutes = 100.64.0.0/10\n", NULL },
        { "link-local refused even allowed", "routes = 169.254.0.0/16\nallow_non_private = yes\n", "covers the metadata service" },
        { "covering metadata refused", "routes = 168.0.0.0/7\nallow_non_private = yes\n", "prefix is shorter than /8" },
        { "default refused", "routes = 0.0.0.0/0\nallow_non_private = yes\n", "is the default route" },
        { "loopback refused", "routes = 127.0.0.0/8\nallow_non_private = yes\n", "overlaps loopback" },
        { "multicast refused", "routes = 239.0.0.0/8\nallow_non_private = yes\n", "overlaps multicast" },
        { "max_routes exceeded", "routes = 10.1.0.0/16 10.2.0.0/16 10.3.0.0/16\nmax_routes = 2\n",
          "3 routes exceed max_routes = 2; refusing the whole set" },
        { "duplicates collapse under max", "routes = 10.1.0.0/16 10.1.0.0/16 10.1.0.0/16\nmax_routes = 1\n", NULL },
        { "routes and routes_file", "routes = 10.0.0.0/8\nroutes_file = /nonexistent\n", "routes and routes_file are both set" },
        { "routes_file missing", "routes_file = /nonexistent/routes\n", "routes_file \"/nonexistent/routes\": No such file or directory" },
        { "routes_file directory", "routes_file = /\n", "routes_file \"/\": Is a directory" },
};

static void test_finalize(void **state) {
        const struct finalize_case *c = *state;
        _cleanup_config_ struct config *cfg = NULL;
        struct error err = {0};

        assert_int_equal(config_new_default(&cfg), 0);
        cfg->path = strdup("test.conf");
        if (config_parse_text(cfg, c->text, strlen(c->text), "test.conf", &err) < 0)
                fail_msg("parse: %s", err.msg);
        if (!c->error) {
                if (config_finalize(cfg, &err) < 0)
                        fail_msg("%s", err.msg);
                return;
        }
        assert_true(config_finalize(cfg, &err) < 0);
        assert_contains(err.msg, c->error);
}

static void test_routes_text(void **state) {
        const char *text = "# peered VPCs\n10.120.0.0/20\n\n  10.130.0.0/16   # staging\n";
        const char *bad = "10.120.0.0/20\n# fine\n10.130.0.1/16\n";
        struct cidr *list = NULL;
        struct error err = {0};
        size_t n = 0;
        (void) state;

        assert_int_equal(config_parse_routes_text(text, strlen(text), "/r", &list, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_int_equal(list[1].addr, 0x0a820000u);
        free(list);
        assert_true(config_parse_routes_text(bad, strlen(bad), "/r", &list, &n, &err) < 0);
        assert_contains(err.msg, "/r:3: \"10.130.0.1/16\" has host bits set (did you mean 10.130.0.0/16?)");
}

static char tmpdir[] = "/tmp/vpr-unit-XXXXXX";

static char *tmp_file(const char *name, const char *content, mode_t mode) {
        char *p;
        FILE *f;

        if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
                abort();
        f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
        chmod(p, mode);
        return p;
}

static void test_load(void **state) {
        _cleanup_config_ struct config *c = NULL;
        _cleanup_free_ char *good = NULL, *writable = NULL, *routes = NULL, *withfile = NULL, *huge = NULL,
                            *empty_routes = NULL, *withempty = NULL;
        struct error err = {0};
        char *conf;
        (void) state;

        assert_non_null(mkdtemp(tmpdir));

        /* A missing default file is fine; a missing explicit one is an error. */
        assert_int_equal(config_load("/nonexistent/vpr.conf", false, &c, &err), 0);
        config_free(TAKE_PTR(c));
        assert_true(config_load("/nonexistent/vpr.conf", true, &c, &err) < 0);
        assert_contains(err.msg, "config file /nonexistent/vpr.conf: No such file or directory");

        assert_true(config_load(tmpdir, true, &c, &err) < 0);
        assert_contains(err.msg, "is a directory");

        good = tmp_file("good.conf", "metric = 7\n", 0644);
        assert_int_equal(config_load(good, true, &c, &err), 0);
        assert_int_equal(c->metric, 7);
        config_free(TAKE_PTR(c));

        writable = tmp_file("w.conf", "metric = 7\n", 0666);
        assert_true(config_load(writable, true, &c, &err) < 0);
        assert_contains(err.msg, "is writable by group or others (mode 0666); refusing it");

        routes = tmp_file("routes", "10.120.0.0/20\n10.130.0.0/16\n", 0644);
        if (asprintf(&conf, "routes_file = %s\n", routes) < 0)
                abort();
        withfile = tmp_file("f.conf", conf, 0644);
        free(conf);
        assert_int_equal(config_load(withfile, true, &c, &err), 0);
        assert_int_equal(config_finalize(c, &err), 0);
        assert_int_equal(c->n_routes, 2);
        config_free(TAKE_PTR(c));

        empty_routes = tmp_file("empty", "# nothing yet\n", 0644);
        if (asprintf(&conf, "routes_file = %s\n", empty_routes) < 0)
                abort();
        withempty = tmp_file("e.conf", conf, 0644);
        free(conf);
        assert_int_equal(config_load(withempty, true, &c, &err), 0);
        assert_true(config_finalize(c, &err) < 0);
        assert_contains(err.msg, "lists no network; refusing to remove every route");
        config_free(TAKE_PTR(c));

        {
                size_t big = CONFIG_MAX_FILE_SIZE + 10;
                char *text = malloc(big + 1);
                memset(text, '#', big);
                text[big] = '\0';
                huge = tmp_file("huge.conf", text, 0644);
                free(text);
        }
        assert_true(config_load(huge, true, &c, &err) < 0);
        assert_contains(err.msg, "larger than 1 MiB");

        unlink(good);
        unlink(writable);
        unlink(routes);
        unlink(withfile);
        unlink(empty_routes);
        unlink(withempty);
        unlink(huge);
        rmdir(tmpdir);
}

static void test_keys_listed(void **state) {
        _cleanup_config_ struct config *c = NULL;
        struct error err = {0};
        size_t n = 0;
        (void) state;

        assert_int_equal(config_new_default(&c), 0);
        for (size_t i = 0; config_key_name(i); i++, n++) {
                /* Every listed key rejects garbage with a reason, not as an unknown key. */
                assert_true(config_set(c, config_key_name(i), "\x7f", "x", &err) < 0);
                if (strstr(err.msg, "unknown key"))
                        fail_msg("listed key %s is unknown to the parser", config_key_name(i));
        }
        assert_true(n >= 15);
}

/* --config /dev/null: the defaults. Other devices stay refused. */
static void test_dev_null(void **state) {
        _cleanup_config_ struct config *c = NULL, *def = NULL;
        struct error err = {0};
        (void) state;

        if (config_load("/dev/null", true, &c, &err) < 0)
                fail_msg("/dev/null refused: %s", err.msg);
        assert_int_equal(config_new_default(&def), 0);
        assert_int_equal(config_fingerprint(c), config_fingerprint(def));
        config_free(TAKE_PTR(c));
        assert_true(config_load("/dev/zero", true, &c, &err) < 0);
        assert_contains(err.msg, "is not a regular file");
}

/* check-config prints every network of a long list, not what fits a buffer. */
static void test_print_long_routes(void **state) {
        _cleanup_config_ struct config *c = NULL;
        _cleanup_free_ char *text = NULL, *printed = NULL;
        struct error err = {0};
        size_t len = 0, n = 0;
        FILE *f;
        (void) state;

        f = open_memstream(&text, &len);
        assert_non_null(f);
        fprintf(f, "max_routes = 300\nroutes =");
        for (unsigned i = 0; i < 300; i++)
                fprintf(f, " 10.%u.%u.0/24", 100 + i / 200, i % 200);
        fputc('\n', f);
        fclose(f);
        assert_int_equal(config_new_default(&c), 0);
        if (config_parse_text(c, text, len, "long.conf", &err) < 0 || config_finalize(c, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(c->n_routes, 300);
        f = open_memstream(&printed, &len);
        assert_non_null(f);
        config_print(f, c);
        fclose(f);
        for (const char *p = strstr(printed, "\nroutes = "); p && *p && *p != '\n'; p++)
                n += *p == '/';
        if (n == 0) /* "routes = " may be the first line */
                for (const char *p = strstr(printed, "routes = "); p && *p && *p != '\n'; p++)
                        n += *p == '/';
        assert_int_equal(n, 300);
        assert_contains(printed, " 10.101.99.0/24\n");
}

/* The fingerprint the service answers with tells configurations apart. */
static void test_fingerprint(void **state) {
        _cleanup_config_ struct config *a = NULL, *b = NULL;
        struct error err = {0};
        (void) state;

        assert_int_equal(config_new_default(&a), 0);
        assert_int_equal(config_new_default(&b), 0);
        assert_int_equal(config_fingerprint(a), config_fingerprint(b));
        assert_int_equal(config_set(b, "metric", "7", "x", &err), 0);
        assert_true(config_fingerprint(a) != config_fingerprint(b));
}

/* The owner record obeys the protocol key's rule: another program's number adopts nothing. */
static void test_owner_record(void **state) {
        static const struct {
                const char *text;
                int r;
        } rows[] = {
                { "protocol = 241\ntable = 254\n", 0 },
                { "protocol = 250\ntable = 100\n", 0 },
                { "protocol = 4\ntable = 254\n", -EPROTO },   /* static */
                { "protocol = 3\ntable = 254\n", -EPROTO },   /* boot */
                { "protocol = 2\ntable = 254\n", -EPROTO },   /* kernel */
                { "protocol = 186\ntable = 254\n", -EPROTO }, /* bgp */
                { "protocol = 0\ntable = 254\n", -EBADMSG },
                { "protocol = 241\ntable = 255\n", -EBADMSG },
                { "protocol = 241\n", -EBADMSG },
                { "garbage", -EBADMSG },
        };
        (void) state;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct owner o = { .protocol = 99, .table = 99 };
                int r = owner_parse(rows[i].text, &o);
                if (r != rows[i].r)
                        fail_msg("owner_parse(\"%s\") = %d, expected %d", rows[i].text, r, rows[i].r);
                if (r < 0 && (o.protocol != 99 || o.table != 99))
                        fail_msg("owner_parse(\"%s\") wrote its result on failure", rows[i].text);
        }
}

/* The benchmark knob runs API time faster; it never changes which config files the product
 * accepts (it once divided api_interval's minimum). */
static void test_bench_scale_accepts_the_same(void **state) {
        _cleanup_config_ struct config *c = NULL;
        struct error err = {0};
        (void) state;

        assert_int_equal(setenv("VPR_BENCH_API_SCALE", "60", 1), 0);
        assert_int_equal(api_time_scale(), 60);
        assert_int_equal(config_new_default(&c), 0);
        assert_true(config_set(c, "api_interval", "1s", "x", &err) < 0);
        assert_contains(err.msg, "from 10000 ms");
        assert_int_equal(config_set(c, "api_interval", "10s", "x", &err), 0);
        assert_int_equal(c->api_interval_usec, 10000000);
}

int main(void) {
        struct unit_tests u = {};

        UNIT_ADD(&u, test_defaults);
        UNIT_ADD(&u, test_full_file);
        UNIT_ADD_TABLE(&u, test_bad, bad_cases);
        UNIT_ADD_TABLE(&u, test_finalize, finalize_cases);
        UNIT_ADD(&u, test_routes_text);
        UNIT_ADD(&u, test_load);
        UNIT_ADD(&u, test_keys_listed);
        UNIT_ADD(&u, test_dev_null);
        UNIT_ADD(&u, test_print_long_routes);
        UNIT_ADD(&u, test_fingerprint);
        UNIT_ADD(&u, test_owner_record);
        UNIT_ADD(&u, test_bench_scale_accepts_the_same); /* last: it sets the knob for the process */
        return unit_run(&u, "config");
}
