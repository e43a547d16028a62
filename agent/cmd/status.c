/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes status [--json]`: desired routes against the kernel, what the service last
 * published, as text or JSON. The JSON shape is documented in vpc-peer-routes(8) and is stable:
 * fields may be added, never renamed or removed. */
#include <signal.h>

#include "commands.h"
#include "json.h"
#include "log.h"
#include "reconcile.h"
#include "state.h"

/* The per-destination state words used in text and JSON. */
static const char *state_word(enum plan_kind k) {
        switch (k) {
        case PLAN_KEEP:
                return "installed";
        case PLAN_ADD:
                return "missing";
        case PLAN_REPLACE:
                return "differs";
        case PLAN_DELETE:
                return "stale";
        case PLAN_FOREIGN_EQUAL:
                return "present";
        case PLAN_CONFLICT:
                return "conflict";
        default:
                return "?";
        }
}

static bool in_sync(const struct reconcile *rc) {
        return rc->have_plan && !plan_has_changes(&rc->plan) && rc->plan.count[PLAN_CONFLICT] == 0 &&
               !rc->egress_plan.changes;
}

static const struct api_peer *status_peer_of(const struct reconcile *rc, const struct route *r) {
        struct cidr c = { r->dst, r->dst_len };
        return rc->peers ? api_peers_find(rc->peers, &c) : NULL;
}

static bool daemon_alive(const struct state_summary *s) {
        return s->pid > 0 && (kill(s->pid, 0) == 0 || errno == EPERM);
}

static uint64_t seconds_since(uint64_t t) {
        uint64_t now = now_usec_realtime() / 1000000ULL;
        return t && now > t ? now - t : 0;
}

static void print_daemon(FILE *f, const struct state_summary *s) {
        char ago[32];

        if (!daemon_alive(s)) {
                fprintf(f, "Daemon:      not running (state file of pid %d, written %s ago)\n", (int) s->pid,
                        format_timespan(seconds_since(s->updated) * USEC_PER_SEC, false, ago));
                return;
        }
        fprintf(f, "Daemon:      running (pid %d): %s\n", (int) s->pid, s->status);
        if (s->last_success)
                fprintf(f, "             last successful sync %s ago; %llu reconciles, %llu heals, %llu metadata errors\n",
                        format_timespan(seconds_since(s->last_success) * USEC_PER_SEC, false, ago), (unsigned long long) s->reconciles,
                        (unsigned long long) s->heals, (unsigned long long) s->metadata_errors);
        else
                fprintf(f, "             no successful sync yet\n");
        if (s->last_error[0])
                fprintf(f, "             last error: %s\n", s->last_error);
        if (s->api_limit) {
                fprintf(f, "             API: asking every %s; the token used %llu of %llu requests in its window",
                        format_timespan(s->api_interval_sec * USEC_PER_SEC, false, ago), (unsigned long long) s->api_used,
                        (unsigned long long) s->api_limit);
                if (s->api_fleet > 1)
                        fprintf(f, ", shared by about %llu agents\n", (unsigned long long) s->api_fleet);
                else
                        fprintf(f, " (this agent alone)\n");
        }
        for (size_t i = 0; i < s->n_fights; i++)
                fprintf(f, "             %s is removed again and again by another program (%llu times): "
                           "re-adding it after %llu ms\n",
                        s->fights[i].destination, (unsigned long long) s->fights[i].removals,
                        (unsigned long long) s->fights[i].pause_ms);
}

static void print_text(FILE *f, const struct config *c, const struct reconcile *rc, const struct state_summary *daemon) {
        char mac[MAC_STRLEN], a[IPV4_STRLEN], gw[IPV4_STRLEN], rs[ROUTE_STRLEN], t[12], egress[192];
        bool active;

        if (c->source == SOURCE_API) {
                fprintf(f, "Source:      api (%s)", c->api_url);
                if (rc->peers) {
                        char names[256];
                        fprintf(f, "; VPC %s, %zu ACTIVE peering%s", rc->peers->own_vpc, rc->peers->n,
                                rc->peers->n == 1 ? "" : "s");
                        if (rc->peers->n_waiting)
                                fprintf(f, ", %zu PROVISIONING (%s)", rc->peers->n_waiting,
                                        api_waiting_names(rc->peers, names, sizeof names));
                }
                fprintf(f, "\nMetadata:    %s\n", c->metadata_url);
        } else
                fprintf(f, "Source:      metadata (%s)\n", c->metadata_url);
        if (rc->have_metadata) {
                if (rc->md.droplet_id)
                        fprintf(f, "Droplet:     %llu\n", (unsigned long long) rc->md.droplet_id);
                char why[64];
                fprintf(f, "Private NIC: %s (%s), %s/%u, gateway %s", rc->have_link ? rc->link.ifname : "not found",
                        mac_to_string(rc->md.mac, mac), ipv4_to_string(rc->md.address, a), rc->md.prefixlen,
                        ipv4_to_string(rc->md.gateway, gw));
                if (gateway_origin_explain(&rc->md, why, sizeof why)[0])
                        fprintf(f, " (%s)", why);
                fprintf(f, "\n");
                if (c->source == SOURCE_API)
                        fprintf(f, "Peering:     the API's ACTIVE peerings (the metadata's vpc_peering_enabled = %s, "
                                   "peering_flag = %s)\n",
                                tristate_to_string(rc->md.peering_enabled), peering_flag_to_string(c->peering_flag));
                else
                        fprintf(f, "Peering:     vpc_peering_enabled = %s (peering_flag = %s)\n",
                                tristate_to_string(rc->md.peering_enabled), peering_flag_to_string(c->peering_flag));
        }
        fprintf(f, "Routes:      protocol %u, table %s, metric %u, mtu %u\n", c->protocol, table_to_string(c->table, t),
                c->metric, c->mtu);
        if (rc->have_plan && reconcile_egress_summary(rc, c, &active, egress, sizeof egress))
                fprintf(f, "Egress:      %s (nat_gateway = %s)\n", egress,
                        c->nat_gateway.mode == NAT_VPC ? "vpc" : ipv4_to_string(c->nat_gateway.address, a));
        if (daemon)
                print_daemon(f, daemon);
        if (rc->error < 0)
                fprintf(f, "Error:       %s\n", rc->err.msg);
        if (rc->have_plan) {
                const struct plan *p = &rc->plan;
                if (in_sync(rc))
                        fprintf(f, "State:       in sync\n");
                else
                        fprintf(f, "State:       %zu missing, %zu differ, %zu stale, %zu conflict%s\n", p->count[PLAN_ADD],
                                p->count[PLAN_REPLACE], p->count[PLAN_DELETE], p->count[PLAN_CONFLICT],
                                p->count[PLAN_CONFLICT] == 1 ? "" : "s");
                fprintf(f, "\n");
                for (size_t i = 0; i < p->n; i++) {
                        const struct plan_action *ac = &p->actions[i];
                        const struct route *r = ac->kind == PLAN_DELETE || ac->kind == PLAN_FOREIGN_EQUAL ? &ac->have : &ac->want;
                        const struct api_peer *peer = status_peer_of(rc, r);
                        fprintf(f, "  %-10s %s", state_word(ac->kind), route_to_string(r, rs));
                        if (peer)
                                fprintf(f, "  [peering %s, VPC %s]", peer->peering_name[0] ? peer->peering_name : peer->peering_id,
                                        peer->vpc_name[0] ? peer->vpc_name : peer->vpc_id);
                        if (ac->kind == PLAN_REPLACE)
                                fprintf(f, "  (installed: %s)", route_to_string(&ac->have, rs));
                        else if (ac->kind == PLAN_CONFLICT)
                                fprintf(f, "  (held by: %s)", route_to_string(&ac->have, rs));
                        fprintf(f, "\n");
                }
        } else {
                fprintf(f, "\nInstalled own routes (protocol %u):\n", c->protocol);
                if (rc->own.n == 0)
                        fprintf(f, "  none\n");
                for (size_t i = 0; i < rc->own.n; i++)
                        fprintf(f, "  %s\n", route_to_string(&rc->own.routes[i], rs));
        }
}

static void add_route_or_null(cJSON *o, const char *key, const struct route *r) {
        cJSON *j = r ? json_from_route(r) : NULL;
        if (j)
                cJSON_AddItemToObject(o, key, j);
        else
                cJSON_AddNullToObject(o, key);
}

static int print_json(FILE *f, const struct config *c, const struct reconcile *rc, const struct state_summary *daemon) {
        cJSON *root = cJSON_CreateObject(), *md, *routes, *installed;
        char mac[MAC_STRLEN], a[IPV4_STRLEN], gw[IPV4_STRLEN], egress[192];
        bool active;

        if (!root)
                return -ENOMEM;
        cJSON_AddNumberToObject(root, "version", 1);
        cJSON_AddStringToObject(root, "source", route_source_to_string(c->source));
        if (c->source == SOURCE_API) {
                cJSON *api = cJSON_AddObjectToObject(root, "api");
                if (api) {
                        cJSON_AddStringToObject(api, "url", c->api_url);
                        cJSON_AddBoolToObject(api, "ok", rc->peers != NULL);
                        if (rc->peers) {
                                cJSON_AddStringToObject(api, "vpc_id", rc->peers->own_vpc);
                                cJSON_AddNumberToObject(api, "active_peerings", (double) rc->peers->n);
                                cJSON_AddItemToObject(api, "provisioning", api_waiting_to_json(rc->peers));
                        } else {
                                cJSON_AddNullToObject(api, "vpc_id");
                                cJSON_AddNullToObject(api, "active_peerings");
                                cJSON_AddNullToObject(api, "provisioning");
                        }
                }
        }
        cJSON_AddNumberToObject(root, "protocol", c->protocol);
        cJSON_AddNumberToObject(root, "table", c->table);

        md = cJSON_AddObjectToObject(root, "metadata");
        if (md) {
                cJSON_AddStringToObject(md, "url", c->metadata_url);
                cJSON_AddBoolToObject(md, "ok", rc->have_metadata);
                if (rc->have_metadata && rc->md.droplet_id)
                        cJSON_AddNumberToObject(md, "droplet_id", (double) rc->md.droplet_id);
                else
                        cJSON_AddNullToObject(md, "droplet_id");
                if (rc->have_metadata && rc->md.peering_enabled != TRISTATE_ABSENT)
                        cJSON_AddBoolToObject(md, "vpc_peering_enabled", rc->md.peering_enabled == TRISTATE_TRUE);
                else
                        cJSON_AddNullToObject(md, "vpc_peering_enabled");
                cJSON_AddStringToObject(md, "peering_flag", peering_flag_to_string(c->peering_flag));
        }

        if (rc->have_metadata) {
                cJSON *nic = cJSON_AddObjectToObject(root, "interface");
                if (nic) {
                        if (rc->have_link) {
                                cJSON_AddStringToObject(nic, "name", rc->link.ifname);
                                cJSON_AddNumberToObject(nic, "ifindex", rc->link.ifindex);
                        } else {
                                cJSON_AddNullToObject(nic, "name");
                                cJSON_AddNullToObject(nic, "ifindex");
                        }
                        cJSON_AddStringToObject(nic, "mac", mac_to_string(rc->md.mac, mac));
                        cJSON_AddStringToObject(nic, "address", ipv4_to_string(rc->md.address, a));
                        cJSON_AddNumberToObject(nic, "prefixlen", rc->md.prefixlen);
                        cJSON_AddStringToObject(nic, "gateway", ipv4_to_string(rc->md.gateway, gw));
                        cJSON_AddStringToObject(nic, "gateway_source", gateway_origin_to_string(rc->md.gateway_origin));
                }
        } else
                cJSON_AddNullToObject(root, "interface");

        if (daemon) {
                cJSON *dm = cJSON_AddObjectToObject(root, "daemon");
                if (dm) {
                        cJSON_AddNumberToObject(dm, "pid", daemon->pid);
                        cJSON_AddBoolToObject(dm, "running", daemon_alive(daemon));
                        cJSON_AddStringToObject(dm, "status", daemon->status);
                        if (daemon->last_success) {
                                cJSON_AddNumberToObject(dm, "last_success", (double) daemon->last_success);
                                cJSON_AddNumberToObject(dm, "seconds_since_success", (double) seconds_since(daemon->last_success));
                        } else {
                                cJSON_AddNullToObject(dm, "last_success");
                                cJSON_AddNullToObject(dm, "seconds_since_success");
                        }
                        if (daemon->last_error[0])
                                cJSON_AddStringToObject(dm, "last_error", daemon->last_error);
                        else
                                cJSON_AddNullToObject(dm, "last_error");
                        cJSON_AddNumberToObject(dm, "reconciles", (double) daemon->reconciles);
                        cJSON_AddNumberToObject(dm, "heals", (double) daemon->heals);
                        cJSON_AddNumberToObject(dm, "heal_backoffs", (double) daemon->heal_backoffs);
                        cJSON_AddNumberToObject(dm, "metadata_errors", (double) daemon->metadata_errors);
                        if (daemon->api_limit) {
                                cJSON *p = cJSON_AddObjectToObject(dm, "api_pacing");
                                if (p) {
                                        cJSON_AddNumberToObject(p, "interval_seconds", (double) daemon->api_interval_sec);
                                        cJSON_AddNumberToObject(p, "fleet", (double) daemon->api_fleet);
                                        cJSON_AddNumberToObject(p, "token_used", (double) daemon->api_used);
                                        cJSON_AddNumberToObject(p, "token_limit", (double) daemon->api_limit);
                                }
                        } else
                                cJSON_AddNullToObject(dm, "api_pacing");
                }
        } else
                cJSON_AddNullToObject(root, "daemon");
        cJSON_AddBoolToObject(root, "in_sync", in_sync(rc));
        if (rc->have_plan && reconcile_egress_summary(rc, c, &active, egress, sizeof egress)) {
                cJSON *e = cJSON_AddObjectToObject(root, "egress");
                if (e) {
                        cJSON_AddStringToObject(e, "summary", egress);
                        cJSON_AddBoolToObject(e, "active", active);
                        cJSON_AddNumberToObject(e, "table", EGRESS_TABLE);
                }
        } else
                cJSON_AddNullToObject(root, "egress");
        if (rc->error < 0)
                cJSON_AddStringToObject(root, "error", rc->err.msg);
        else
                cJSON_AddNullToObject(root, "error");

        routes = cJSON_AddArrayToObject(root, "routes");
        for (size_t i = 0; routes && rc->have_plan && i < rc->plan.n; i++) {
                const struct plan_action *ac = &rc->plan.actions[i];
                const struct route *key = ac->kind == PLAN_DELETE ? &ac->have : &ac->want;
                struct cidr cd = { key->dst, key->dst_len };
                char dst[CIDR_STRLEN];
                cJSON *o = cJSON_CreateObject();
                if (!o)
                        break;
                cJSON_AddStringToObject(o, "destination", cidr_to_string(&cd, dst));
                cJSON_AddStringToObject(o, "state", state_word(ac->kind));
                const struct api_peer *peer = status_peer_of(rc, key);
                if (peer)
                        cJSON_AddItemToObject(o, "peering", api_peer_to_json(peer));
                else
                        cJSON_AddNullToObject(o, "peering");
                add_route_or_null(o, "wanted", ac->kind == PLAN_DELETE ? NULL : &ac->want);
                add_route_or_null(o, "kernel", ac->kind == PLAN_ADD ? NULL : &ac->have);
                cJSON_AddItemToArray(routes, o);
        }

        installed = cJSON_AddArrayToObject(root, "installed");
        for (size_t i = 0; installed && i < rc->own.n; i++) {
                cJSON *o = json_from_route(&rc->own.routes[i]);
                if (o)
                        cJSON_AddItemToArray(installed, o);
        }

        return json_print_free(f, root);
}

int command_status(const struct config *c, bool json) {
        _cleanup_(api_peers_done) struct api_peers peers = {};
        _cleanup_reconcile_ struct reconcile rc = { .read_only = true };
        _cleanup_route_set_ struct route_set none = {}, foreign = {};
        _cleanup_kernel_ struct kernel_ctx *nl = NULL;
        struct state_summary daemon;
        struct error err = {0};
        int r, ret;

        if (command_open_netlink(&nl) < 0)
                return EXIT_FAILED;
        r = reconcile_prepare_full(&rc, nl, c, &peers);
        if (r < 0) {
                /* Still show what is installed: that is what an operator needs most when the
                 * metadata service is down. */
                log_error("%s", rc.err.msg);
                (void) kernel_route_list(nl, KERNEL_LIST_FAST, c->table, c->protocol, 0, &none, &rc.own, &foreign);
                rc.have_plan = false;
                ret = EXIT_FAILED;
        } else
                ret = plan_has_changes(&rc.plan) || rc.egress_plan.changes || rc.plan.count[PLAN_CONFLICT] > 0 ? EXIT_CONFLICT : EXIT_OK;

        /* What the running service published, when it runs (or ran). */
        r = state_read(c->state_file, &daemon, &err);
        if (r < 0 && r != -ENOENT)
                log_warning("Could not read the daemon's state: %s", err.msg);

        if (json) {
                if (print_json(stdout, c, &rc, r >= 0 ? &daemon : NULL) < 0)
                        return log_oom(), EXIT_FAILED;
        } else {
                char hint[512];
                print_text(stdout, c, &rc, r >= 0 ? &daemon : NULL);
                /* Installed is not the same as taken: one line when doctor would say more. */
                if (rc.have_plan && doctor_summary(nl, c, &rc, hint, sizeof hint) > 0)
                        printf("Doctor:      %s; see vpc-peer-routes doctor\n", hint);
        }
        return ret;
}
