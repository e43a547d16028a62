/* SPDX-License-Identifier: MIT */
/* Command line: a table of subcommands (sync, status, flush), global options, exit codes. */
#include <getopt.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "api_fetch.h"
#include "config.h"
#include "daemon.h"
#include "http.h"
#include "log.h"
#include "metadata_fetch.h"
#include "nl.h"
#include "reconcile.h"
#include "status.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,
        EXIT_USAGE = 2,
        EXIT_CONFLICT = 3,
};

struct options {
        struct daemon_options d; /* config path and overrides */
        bool dry_run;
        bool json;
        int verbosity;
};

enum {
        OPT_DRY_RUN = 1 << 0,
        OPT_JSON = 1 << 1,
        OPT_INTERVAL = 1 << 2,
};

struct verb {
        const char *name;
        int (*run)(struct config *c, const struct options *o);
        unsigned options; /* command-specific options it accepts */
};

static void help(FILE *f) {
        fprintf(f,
                "Usage: vpc-peer-routes [OPTIONS] COMMAND\n"
                "\n"
                "Routes traffic for peered DigitalOcean VPCs through the droplet's private NIC,\n"
                "touching only routes tagged with its own protocol number.\n"
                "\n"
                "Commands:\n"
                "  run          Stay in the foreground as a service: poll the metadata every\n"
                "               interval, heal routes within milliseconds when they vanish\n"
                "  sync         Read the metadata once; add, fix and remove own routes\n"
                "  status       Show desired vs installed routes (own routes even if metadata fails)\n"
                "  flush        Delete every route of the agent's protocol in its table, nothing else\n"
                "\n"
                "Options:\n"
                "  -c, --config FILE       Config file (default " CONFIG_DEFAULT_PATH "; a missing\n"
                "                          default is fine, a missing FILE given here is an error)\n"
                "      --metadata-url URL  Metadata document (default http://169.254.169.254/metadata/v1.json)\n"
                "      --protocol N        Route protocol number the agent owns (default 241)\n"
                "  -n, --dry-run           sync: print the plan and change nothing\n"
                "      --interval TIME     run: metadata poll interval (default 30s, at least 1s)\n"
                "      --json              status: print JSON (see vpc-peer-routes(8))\n"
                "  -v, --verbose           Print debug messages\n"
                "  -q, --quiet             Print only warnings and errors\n"
                "  -h, --help              Show this help\n"
                "  -V, --version           Show the version\n"
                "\n"
                "Exit status:\n"
                "  0  desired routes are in place (equal routes of other programs count)\n"
                "  1  could not fetch, parse, validate or apply; nothing was deleted because of it\n"
                "  2  usage or configuration error\n"
                "  3  applied, but conflicts remain (another program's route holds a destination)\n"
                "\n"
                "See vpc-peer-routes(8) and vpc-peer-routes.conf(5).\n");
}

static bool have_net_admin(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return true; /* cannot tell: let the kernel decide */
        return d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN);
}

static int require_net_admin(const char *what) {
        if (have_net_admin())
                return 0;
        log_error("%s needs CAP_NET_ADMIN to change routes; run it as root (sudo vpc-peer-routes %s)", what, what);
        return -EPERM;
}

static void log_metadata_line(const struct config *c, const struct reconcile *rc) {
        char mac[MAC_STRLEN], a[IPV4_STRLEN], gw[IPV4_STRLEN];

        log_info("Private NIC %s (%s) %s/%u, gateway %s, vpc_peering_enabled=%s%s", rc->link.ifname,
                 mac_to_string(rc->md.mac, mac), ipv4_to_string(rc->md.address, a), rc->md.prefixlen,
                 ipv4_to_string(rc->md.gateway, gw), tristate_to_string(rc->md.peering_enabled),
                 rc->md.peering_enabled == TRISTATE_FALSE
                         ? (c->peering_flag == PEERING_FLAG_HONOR ? " (peering_flag = honor: no routes wanted)"
                                                                  : " (peering_flag = ignore: installing anyway)")
                         : "");
}

/* Fetch, parse, find the NIC. Any failure here changes nothing. */
/* Fetch and parse the metadata, find the NIC, and with source = api ask the API for the peers
 * (into peers, which must outlive rc). Any failure here changes nothing. */
static int prepare(const struct config *c, struct nl_ctx *nl, struct reconcile *rc, struct api_peers *peers) {
        _cleanup_free_ char *body = NULL;
        char err[API_ROUND_ERR_MAX + 256];
        size_t size = 0;
        int r;

        r = metadata_fetch_blocking(c, &body, &size, NULL, err, sizeof err);
        if (r < 0)
                return reconcile_fail(rc, STAGE_FETCH, r, "metadata: %s", err);
        r = reconcile_parse(rc, body, size);
        if (r < 0)
                return r;
        r = reconcile_find_link(rc, nl, c);
        if (r < 0 || c->source != SOURCE_API)
                return r;
        if (!rc->md.droplet_id)
                return reconcile_fail(rc, STAGE_PARSE, -ENOENT, "metadata: droplet_id is missing; source = api needs it");
        r = api_round_blocking(c, rc->md.droplet_id, peers, err, sizeof err);
        if (r < 0)
                return reconcile_fail(rc, STAGE_FETCH, r, "%s", err);
        return reconcile_use_peers(rc, nl, c, peers, true);
}

/* sync: a down NIC is an error (nothing could work through it); a NIC without the private
 * address is worth a warning, and the kernel's own refusal says the rest. */
static int check_link(struct reconcile *rc) {
        char why[256];
        int r;

        r = reconcile_link_ready(rc, why, sizeof why);
        if (r == -ENETDOWN)
                return reconcile_fail(rc, STAGE_LINK, r, "%s; not routing through it", why);
        if (r < 0) {
                char gw[IPV4_STRLEN];
                log_warning("%s; the kernel may refuse routes via %s", why, ipv4_to_string(rc->md.gateway, gw));
        }
        return 0;
}

static int verb_sync(struct config *c, const struct options *o) {
        _cleanup_(api_peers_done) struct api_peers peers = {};
        _cleanup_reconcile_ struct reconcile rc = {};
        _cleanup_nl_ struct nl_ctx *nl = NULL;
        char summary[256];
        int r;

        r = nl_ctx_open(&nl);
        if (r < 0) {
                log_error_errno(r, "Could not open a netlink socket: %m");
                return EXIT_FAILED;
        }
        r = prepare(c, nl, &rc, &peers);
        if (r >= 0)
                r = check_link(&rc);
        if (r < 0) {
                log_error("%s; nothing changed", rc.error_msg);
                return EXIT_FAILED;
        }
        log_metadata_line(c, &rc);
        if (c->source == SOURCE_API)
                log_info("API: VPC %s has %zu ACTIVE peering%s", peers.own_vpc, peers.n, peers.n == 1 ? "" : "s");

        r = reconcile_plan(&rc, nl, c, o->dry_run ? NL_LIST_FULL : NL_LIST_FAST);
        if (r < 0) {
                log_error("%s; nothing changed", rc.error_msg);
                return EXIT_FAILED;
        }
        if (o->dry_run) {
                status_print_plan(stdout, &rc.plan);
                return rc.plan.count[PLAN_CONFLICT] > 0 ? EXIT_CONFLICT : EXIT_OK;
        }
        if (plan_has_changes(&rc.plan) && require_net_admin("sync") < 0)
                return EXIT_FAILED;

        r = reconcile_apply(&rc, nl, c, false);
        reconcile_log_conflicts(&rc);
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return EXIT_FAILED;
        }
        reconcile_summary(&rc, summary, sizeof summary);
        if (rc.applied_any)
                log_info("Synced: %s (%zu added or changed, %zu deleted)", summary,
                         rc.plan.count[PLAN_ADD] + rc.plan.count[PLAN_REPLACE], rc.plan.count[PLAN_DELETE]);
        else
                log_info("In sync: %s; nothing to change", summary);
        return reconcile_exit_code(&rc) == 3 ? EXIT_CONFLICT : EXIT_OK;
}

static int verb_status(struct config *c, const struct options *o) {
        _cleanup_(api_peers_done) struct api_peers peers = {};
        _cleanup_reconcile_ struct reconcile rc = {};
        _cleanup_route_set_ struct route_set none = {}, foreign = {};
        _cleanup_nl_ struct nl_ctx *nl = NULL;
        int r, ret;

        r = nl_ctx_open(&nl);
        if (r < 0) {
                log_error_errno(r, "Could not open a netlink socket: %m");
                return EXIT_FAILED;
        }
        r = prepare(c, nl, &rc, &peers);
        if (r >= 0)
                r = reconcile_plan(&rc, nl, c, NL_LIST_FULL);
        if (r < 0) {
                /* Still show what is installed: that is what an operator needs most when the
                 * metadata service is down. */
                log_error("%s", rc.error_msg);
                (void) nl_list_routes(nl, NL_LIST_FAST, c->table, c->protocol, 0, &none, &rc.own, &foreign);
                rc.have_plan = false;
                ret = EXIT_FAILED;
        } else
                ret = plan_has_changes(&rc.plan) || rc.plan.count[PLAN_CONFLICT] > 0 ? EXIT_CONFLICT : EXIT_OK;

        /* What the running service published, when it runs (or ran). */
        struct state_summary daemon;
        char err[512];
        r = state_read(c->state_file, &daemon, err, sizeof err);
        if (r < 0 && r != -ENOENT)
                log_warning("Could not read the daemon's state: %s", err);

        if (o->json) {
                if (status_print_json(stdout, c, &rc, r >= 0 ? &daemon : NULL) < 0)
                        return log_oom(), EXIT_FAILED;
        } else
                status_print_text(stdout, c, &rc, r >= 0 ? &daemon : NULL);
        return ret;
}

static int verb_flush(struct config *c, const struct options *o) {
        _cleanup_nl_ struct nl_ctx *nl = NULL;
        struct apply_result res = {};
        int r;

        (void) o;
        r = nl_ctx_open(&nl);
        if (r < 0) {
                log_error_errno(r, "Could not open a netlink socket: %m");
                return EXIT_FAILED;
        }
        if (require_net_admin("flush") < 0)
                return EXIT_FAILED;
        r = nl_flush(nl, c->table, c->protocol, &res);
        if (r < 0) {
                log_error_errno(r, "Could not flush routes of protocol %u: %m", c->protocol);
                return EXIT_FAILED;
        }
        log_info("Flushed %zu route%s of protocol %u%s", res.ok, res.ok == 1 ? "" : "s", c->protocol,
                 res.failed ? "; some could not be deleted" : "");
        return res.failed ? EXIT_FAILED : EXIT_OK;
}

static int verb_run(struct config *c, const struct options *o) {
        return daemon_run(&o->d, c);
}

static const struct verb verbs[] = {
        { "run", verb_run, OPT_INTERVAL },
        { "sync", verb_sync, OPT_DRY_RUN },
        { "status", verb_status, OPT_JSON },
        { "flush", verb_flush, 0 },
};

static int parse_argv(int argc, char *argv[], struct options *o, const struct verb **ret_verb) {
        enum {
                ARG_METADATA_URL = 0x100,
                ARG_PROTOCOL,
                ARG_JSON,
                ARG_INTERVAL,
        };
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "metadata-url", required_argument, NULL, ARG_METADATA_URL },
                { "protocol", required_argument, NULL, ARG_PROTOCOL },
                { "dry-run", no_argument, NULL, 'n' },
                { "json", no_argument, NULL, ARG_JSON },
                { "interval", required_argument, NULL, ARG_INTERVAL },
                { "verbose", no_argument, NULL, 'v' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        const struct verb *verb = NULL;
        unsigned used = 0;
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
                case 'n':
                        o->dry_run = true;
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
                        help(stdout);
                        return 0;
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

        if (optind >= argc) {
                log_error("No command given: use run, sync, status or flush; see --help");
                return -EINVAL;
        }
        if (streq(argv[optind], "help")) {
                help(stdout);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, argv[optind]))
                        verb = &verbs[i];
        if (!verb) {
                char q[QUOTE_BUF];
                log_error("Unknown command \"%s\": use run, sync, status or flush; see --help",
                          str_quote(argv[optind], strlen(argv[optind]), QUOTE_MAX, q, sizeof q));
                return -EINVAL;
        }
        if (optind + 1 < argc) {
                log_error("Unexpected argument \"%s\" after %s", argv[optind + 1], verb->name);
                return -EINVAL;
        }
        if (used & ~verb->options) {
                unsigned bad = used & ~verb->options;
                log_error("%s does not take %s", verb->name,
                          (bad & OPT_DRY_RUN) ? "--dry-run" : (bad & OPT_JSON) ? "--json" : "--interval");
                return -EINVAL;
        }
        *ret_verb = verb;
        return 1;
}

static int load_config(struct options *o, struct config **ret) {
        char err[CONFIG_ERR_MAX + PATH_MAX];
        int r;

        if (!o->d.config_path)
                o->d.config_path = CONFIG_DEFAULT_PATH;
        r = config_load_full(o->d.config_path, o->d.config_explicit, &o->d.overrides, ret, err, sizeof err);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", err);
        return 0;
}

int main(int argc, char *argv[]) {
        struct config *c = NULL;
        struct options o = {};
        const struct verb *verb = NULL;
        int r;

        log_setup(LOG_TARGET_AUTO);
        r = parse_argv(argc, argv, &o, &verb);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_OK;
        log_set_max_level(o.verbosity > 0 ? LOG_DEBUG : o.verbosity < 0 ? LOG_WARNING : LOG_INFO);

        if (load_config(&o, &c) < 0)
                return EXIT_USAGE;
        if (c->source == SOURCE_API && strncmp(c->api_url, "http://", 7) == 0)
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
