/* SPDX-License-Identifier: MIT */
/* Text and JSON renderings of a reconcile. The JSON shape is documented in vpc-peer-routes(8)
 * and is stable: fields may be added, never renamed or removed. */
#include <cjson/cJSON.h>

#include "status.h"

const char *status_state_word(enum plan_kind k) {
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

void status_print_plan(FILE *f, const struct plan *p) {
        char buf[PLAN_ACTION_STRLEN];

        for (size_t i = 0; i < p->n; i++)
                fprintf(f, "%s\n", plan_action_to_string(&p->actions[i], buf, sizeof buf));
        fprintf(f, "%zu to add, %zu to replace, %zu to delete, %zu unchanged, %zu present (other owner), %zu conflict%s\n",
                p->count[PLAN_ADD], p->count[PLAN_REPLACE], p->count[PLAN_DELETE], p->count[PLAN_KEEP],
                p->count[PLAN_FOREIGN_EQUAL], p->count[PLAN_CONFLICT], p->count[PLAN_CONFLICT] == 1 ? "" : "s");
}

static bool in_sync(const struct reconcile *rc) {
        return rc->have_plan && !plan_has_changes(&rc->plan) && rc->plan.count[PLAN_CONFLICT] == 0;
}

void status_print_text(FILE *f, const struct config *c, const struct reconcile *rc) {
        char mac[MAC_STRLEN], a[IPV4_STRLEN], gw[IPV4_STRLEN], rs[ROUTE_STRLEN], t[12];

        fprintf(f, "Source:      %s (%s)\n", route_source_to_string(c->source), c->metadata_url);
        if (rc->have_metadata) {
                if (rc->md.droplet_id)
                        fprintf(f, "Droplet:     %llu\n", (unsigned long long) rc->md.droplet_id);
                fprintf(f, "Private NIC: %s (%s), %s/%u, gateway %s\n", rc->have_link ? rc->link.ifname : "not found",
                        mac_to_string(rc->md.mac, mac), ipv4_to_string(rc->md.address, a), rc->md.prefixlen,
                        ipv4_to_string(rc->md.gateway, gw));
                fprintf(f, "Peering:     vpc_peering_enabled = %s (peering_flag = %s)\n",
                        tristate_to_string(rc->md.peering_enabled), peering_flag_to_string(c->peering_flag));
        }
        fprintf(f, "Routes:      protocol %u, table %s, metric %u, mtu %u\n", c->protocol, table_to_string(c->table, t),
                c->metric, c->mtu);
        if (rc->error < 0)
                fprintf(f, "Error:       %s\n", rc->error_msg);
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
                        fprintf(f, "  %-10s %s", status_state_word(ac->kind), route_to_string(r, rs));
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

static cJSON *route_json(const struct route *r) {
        char dst[CIDR_STRLEN], gw[IPV4_STRLEN];
        struct cidr c = { r->dst, r->dst_len };
        cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        cJSON_AddStringToObject(o, "destination", cidr_to_string(&c, dst));
        if (r->gateway)
                cJSON_AddStringToObject(o, "gateway", ipv4_to_string(r->gateway, gw));
        else
                cJSON_AddNullToObject(o, "gateway");
        if (r->ifname[0])
                cJSON_AddStringToObject(o, "device", r->ifname);
        else
                cJSON_AddNullToObject(o, "device");
        cJSON_AddNumberToObject(o, "metric", r->metric);
        if (r->mtu)
                cJSON_AddNumberToObject(o, "mtu", r->mtu);
        else
                cJSON_AddNullToObject(o, "mtu");
        cJSON_AddNumberToObject(o, "table", r->table);
        cJSON_AddNumberToObject(o, "protocol", r->protocol);
        return o;
}

static void add_route_or_null(cJSON *o, const char *key, const struct route *r) {
        cJSON *j = r ? route_json(r) : NULL;
        if (j)
                cJSON_AddItemToObject(o, key, j);
        else
                cJSON_AddNullToObject(o, key);
}

int status_print_json(FILE *f, const struct config *c, const struct reconcile *rc) {
        cJSON *root = cJSON_CreateObject(), *md, *routes, *installed;
        char mac[MAC_STRLEN], a[IPV4_STRLEN], gw[IPV4_STRLEN];
        char *text;

        if (!root)
                return -ENOMEM;
        cJSON_AddNumberToObject(root, "version", 1);
        cJSON_AddStringToObject(root, "source", route_source_to_string(c->source));
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
                }
        } else
                cJSON_AddNullToObject(root, "interface");

        cJSON_AddBoolToObject(root, "in_sync", in_sync(rc));
        if (rc->error < 0)
                cJSON_AddStringToObject(root, "error", rc->error_msg);
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
                cJSON_AddStringToObject(o, "state", status_state_word(ac->kind));
                add_route_or_null(o, "wanted", ac->kind == PLAN_DELETE ? NULL : &ac->want);
                add_route_or_null(o, "kernel", ac->kind == PLAN_ADD ? NULL : &ac->have);
                cJSON_AddItemToArray(routes, o);
        }

        installed = cJSON_AddArrayToObject(root, "installed");
        for (size_t i = 0; installed && i < rc->own.n; i++) {
                cJSON *o = route_json(&rc->own.routes[i]);
                if (o)
                        cJSON_AddItemToArray(installed, o);
        }

        text = cJSON_Print(root);
        cJSON_Delete(root);
        if (!text)
                return -ENOMEM;
        fprintf(f, "%s\n", text);
        free(text);
        return 0;
}
