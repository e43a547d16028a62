/* SPDX-License-Identifier: MIT */
/* Command line: a table of subcommands (run, sync, status, flush, check-config), global options,
 * exit codes. */
#include <getopt.h>
#include <signal.h>

#include "api_pace.h"
#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "url.h"

struct options {
        struct daemon_options d; /* config path and overrides */
        struct sync_options sync;
        bool json;
        int verbosity;
};

enum {
        OPT_DRY_RUN = 1 << 0,
        OPT_JSON = 1 << 1,
        OPT_INTERVAL = 1 << 2,
        OPT_WAIT = 1 << 3,
};

#define WAIT_DEFAULT_USEC (5ULL * 60 * 1000000)
#define WAIT_MAX_USEC (24ULL * 3600 * 1000000)

struct verb {
        const char *name;
        int (*run)(struct config *c, const struct options *o);
        unsigned options;       /* command-specific options it accepts */
        const char *summary;    /* for --help: lines of at most 62 characters */
};

static int verb_sync(struct config *c, const struct options *o) {
        struct sync_options s = o->sync;

        s.json = o->json;
        return command_sync(c, &s, NULL);
}

static int verb_status(struct config *c, const struct options *o) {
        return command_status(c, o->json);
}

static int verb_doctor(struct config *c, const struct options *o) {
        return command_doctor(c, o->json);
}

static int verb_flush(struct config *c, const struct options *o) {
        (void) o;
        return command_flush(c);
}

static int verb_check_config(struct config *c, const struct options *o) {
        return command_check_config(c, o->verbosity < 0);
}

static int verb_run(struct config *c, const struct options *o) {
        return daemon_run(&o->d, c);
}

/* The subcommands: this table is dispatch, --help's list, the "use ..." of errors and, through
 * --help, the bash completion. */
static const struct verb verbs[] = {
        { "run", verb_run, OPT_INTERVAL,
          "Stay in the foreground as a service: poll the metadata every\n"
          "interval, heal routes within milliseconds when they vanish" },
        { "sync", verb_sync, OPT_DRY_RUN | OPT_JSON | OPT_WAIT,
          "Read the metadata (and the API) once; add, fix and remove own\n"
          "routes" },
        { "status", verb_status, OPT_JSON, "Show desired vs installed routes (own routes even if metadata fails)" },
        { "doctor", verb_doctor, OPT_JSON,
          "Check that traffic takes the routes: per destination ok, shadowed\n"
          "(a more specific route wins), rule (a policy rule sends it to another\n"
          "table), missing or conflict; and the gateway's ARP, MTU, rp_filter" },
        { "flush", verb_flush, 0,
          "Delete every route of the agent's protocol in its table, nothing else;\n"
          "refused while the service runs (stop it first)" },
        { "check-config", verb_check_config, 0,
          "Parse and check the config: print the effective one and exit 0,\n"
          "or the error (file:line) and exit 2; -q prints nothing on success" },
};

/* The command-specific options, by their bit: name, and how usage writes it. */
static const char *const option_names[] = { "--dry-run", "--json", "--interval", "--wait" };
static const char *const option_usage[] = { "[--dry-run]", "[--json]", "[--interval TIME]", "[--wait[=TIME]]" };

/* "vpc-peer-routes sync --help": the bash completion reads the options of a command here. */
static void verb_help(FILE *f, const struct verb *v) {
        fprintf(f, "Usage: vpc-peer-routes [OPTIONS] %s", v->name);
        for (size_t i = 0; i < ELEMENTSOF(option_usage); i++)
                if (v->options & (1u << i))
                        fprintf(f, " %s", option_usage[i]);
        fprintf(f, "\n\n%s\n\n"
                   "Options of every command: --config FILE, --metadata-url URL, --protocol N,\n"
                   "--verbose, --quiet, --help, --version\n"
                   "\n"
                   "All of it: vpc-peer-routes --help, vpc-peer-routes(8).\n",
                v->summary);
}

/* "run, sync, status, doctor, flush or check-config" */
static const char *verb_list(char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                n += (size_t) snprintf(buf + MIN(n, size), n < size ? size - n : 0, "%s%s",
                                       i == 0 ? "" : i + 1 == ELEMENTSOF(verbs) ? " or " : ", ", verbs[i].name);
        return buf;
}

static void help(FILE *f) {
        fputs("Usage: vpc-peer-routes [OPTIONS] COMMAND\n"
              "\n"
              "Routes traffic for peered DigitalOcean VPCs through the droplet's private NIC,\n"
              "touching only routes tagged with its own protocol number.\n"
              "\n"
              "Commands:\n",
              f);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const char *line = verbs[i].summary;
                for (bool first = true; *line; first = false) {
                        size_t len = strcspn(line, "\n");
                        fprintf(f, "  %-12s %.*s\n", first ? verbs[i].name : "", (int) len, line);
                        line += len + (line[len] == '\n');
                }
        }
        fprintf(f,
                "\n"
                "Options:\n"
                "  -c, --config FILE       Config file (default " CONFIG_DEFAULT_PATH "; a missing\n"
                "                          default is fine, a missing FILE given here is an error)\n"
                "      --metadata-url URL  Metadata document (default http://169.254.169.254/metadata/v1.json)\n"
                "      --protocol N        Route protocol number the agent owns (default 241)\n"
                "  -n, --dry-run           sync: print the plan and change nothing\n"
                "      --json              sync --dry-run: print the plan as JSON; status, doctor:\n"
                "                          print JSON (all in vpc-peer-routes(8))\n"
                "      --wait[=TIME]       sync with source = api: ask again every 10s until no\n"
                "                          peering is PROVISIONING and every ACTIVE one is routed;\n"
                "                          exit 1 naming those still waiting after TIME (default\n"
                "                          5min). With source = metadata: one sync\n"
                "      --interval TIME     run: metadata poll interval (default 30s, at least 1s)\n"

                "  -v, --verbose           Print debug messages\n"
                "  -q, --quiet             Print only warnings and errors\n"
                "  -h, --help              Show this help\n"
                "  -V, --version           Show the version\n"
                "\n"
                "Exit status:\n"
                "  0  desired routes are in place (equal routes of other programs count)\n"
                "  1  could not fetch, parse, validate or apply; nothing was deleted because of it\n"
                "  2  usage or configuration error\n"
                "  3  applied, but conflicts remain (another program's route holds a destination);\n"
                "     doctor: a destination is not ok\n"
                "\n"
                "See vpc-peer-routes(8) and vpc-peer-routes.conf(5).\n");
}

static int parse_argv(int argc, char *argv[], struct options *o, const struct verb **ret_verb) {
        enum {
                ARG_METADATA_URL = 0x100,
                ARG_PROTOCOL,
                ARG_JSON,
                ARG_INTERVAL,
                ARG_WAIT,
        };
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "metadata-url", required_argument, NULL, ARG_METADATA_URL },
                { "protocol", required_argument, NULL, ARG_PROTOCOL },
                { "dry-run", no_argument, NULL, 'n' },
                { "json", no_argument, NULL, ARG_JSON },
                { "interval", required_argument, NULL, ARG_INTERVAL },
                { "wait", optional_argument, NULL, ARG_WAIT },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const struct verb *verb = NULL;
        unsigned used = 0;
        char list[128];
        bool want_help = false;
        int ch;

        opterr = 0;
        while ((ch = getopt_long(argc, argv, ":c:nvqhV", longopts, NULL)) >= 0) {
                switch (ch) {
                case 'c':
                        o->d.config_path = optarg;
                        o->d.config_explicit = true;
                        break;
                case ARG_METADATA_URL:
                        o->d.overrides.metadata_url = optarg;
                        break;
                case ARG_PROTOCOL:
                        o->d.overrides.protocol = optarg;
                        break;
                case ARG_INTERVAL:
                        o->d.overrides.interval = optarg;
                        used |= OPT_INTERVAL;
                        break;
                case ARG_WAIT:
                        o->sync.wait_usec = WAIT_DEFAULT_USEC;
                        if (optarg && (parse_duration_usec(optarg, &o->sync.wait_usec) < 0 || o->sync.wait_usec < 1000000ULL ||
                                       o->sync.wait_usec > WAIT_MAX_USEC)) {
                                char q[QUOTE_BUF];
                                log_error("--wait=%s is not a time from 1s to 24h (e.g. --wait=90s, --wait=10min)",
                                          str_quote(optarg, strlen(optarg), QUOTE_MAX, q, sizeof q));
                                return -EINVAL;
                        }
                        used |= OPT_WAIT;
                        break;
                case 'n':
                        o->sync.dry_run = true;
                        used |= OPT_DRY_RUN;
                        break;
                case ARG_JSON:
                        o->json = true;
                        used |= OPT_JSON;
                        break;
                case 'v':
                        o->verbosity++;
                        break;
                case 'q':
                        o->verbosity--;
                        break;
                case 'h':
                        want_help = true;
                        break;
                case 'V':
                        printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
                        return 0;
                case ':':
                        log_error("Option %s needs a value; see --help", argv[optind - 1]);
                        return -EINVAL;
                default:
                        log_error("Unknown option %s; see --help", argv[optind - 1]);
                        return -EINVAL;
                }
        }

        if (want_help || (optind < argc && streq(argv[optind], "help"))) {
                /* "sync --help", "help sync": that command's; otherwise all of it. */
                const char *name = optind < argc ? argv[optind + streq(argv[optind], "help")] : NULL;
                for (size_t i = 0; name && i < ELEMENTSOF(verbs); i++)
                        if (streq(verbs[i].name, name)) {
                                verb_help(stdout, &verbs[i]);
                                return 0;
                        }
                help(stdout);
                return 0;
        }
        if (optind >= argc) {
                log_error("No command given: use %s; see --help", verb_list(list, sizeof list));
                return -EINVAL;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, argv[optind]))
                        verb = &verbs[i];
        if (!verb) {
                char q[QUOTE_BUF];
                log_error("Unknown command \"%s\": use %s; see --help",
                          str_quote(argv[optind], strlen(argv[optind]), QUOTE_MAX, q, sizeof q), verb_list(list, sizeof list));
                return -EINVAL;
        }
        if (optind + 1 < argc) {
                log_error("Unexpected argument \"%s\" after %s", argv[optind + 1], verb->name);
                return -EINVAL;
        }
        if (used & ~verb->options) {
                unsigned bad = (unsigned) __builtin_ctz(used & ~verb->options);
                log_error("%s does not take %s", verb->name, option_names[bad]);
                return -EINVAL;
        }
        if (verb->run == verb_sync && (used & OPT_JSON) && !(used & OPT_DRY_RUN)) {
                log_error("sync --json prints the plan of --dry-run; use sync --dry-run --json");
                return -EINVAL;
        }
        if ((used & OPT_WAIT) && (used & OPT_DRY_RUN)) {
                log_error("sync --wait waits for routes to be installed; it does not go with --dry-run");
                return -EINVAL;
        }
        *ret_verb = verb;
        return 1;
}

static int load_config(struct options *o, struct config **ret) {
        struct error err = {0};
        int r;

        if (!o->d.config_path)
                o->d.config_path = CONFIG_DEFAULT_PATH;
        r = config_load_full(o->d.config_path, o->d.config_explicit, &o->d.overrides, ret, &err);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", err.msg);
        return 0;
}

int main(int argc, char *argv[]) {
        struct config *c = NULL;
        struct options o = {};
        const struct verb *verb = NULL;
        int r;

        /* libcurl runs with CURLOPT_NOSIGNAL, so a write to a connection the peer already closed
         * (OpenSSL shutting down a reused TLS connection) would raise SIGPIPE and end the
         * process; the error comes back as EPIPE instead. */
        (void) signal(SIGPIPE, SIG_IGN);
        log_setup(LOG_TARGET_AUTO);
        r = parse_argv(argc, argv, &o, &verb);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_OK;
        log_set_max_level(o.verbosity > 0 ? LOG_DEBUG : o.verbosity < 0 ? LOG_WARNING : LOG_INFO);

        if (api_time_scale() > 1)
                log_warning("VPR_BENCH_API_SCALE=%u: API time runs %u times faster (limits, windows, api_interval); "
                            "for benchmarks only",
                            api_time_scale(), api_time_scale());
        if (load_config(&o, &c) < 0)
                return EXIT_USAGE;
        if (c->source == SOURCE_API && url_scheme(c->api_url) == URL_SCHEME_HTTP)
                log_warning("api_url %s is plain http (api_insecure = yes): the API token travels unencrypted; "
                            "use this for tests only",
                            c->api_url);
        if (http_global_init() < 0) {
                log_error("Could not initialise libcurl");
                config_free(c);
                return EXIT_FAILED;
        }
        if (verb->run == verb_run)
                return verb_run(c, &o); /* the daemon owns the config from here: reloads replace it */
        r = verb->run(c, &o);
        config_free(c);
        return r;
}
