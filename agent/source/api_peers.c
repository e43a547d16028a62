/* SPDX-License-Identifier: MIT */
/* The peers of an API round: lookup, comparison, and their JSON form. */
#include "api_peers.h"

void api_peers_done(struct api_peers *p) {
        free(p->peers);
        free(p->waiting);
        *p = (struct api_peers) {};
}

static int peer_compare(const void *x, const void *y) {
        const struct api_peer *p = x, *q = y;
        return cidr_compare(&p->range, &q->range);
}

void api_peers_sort(struct api_peers *p) {
        if (p->n > 1)
                qsort(p->peers, p->n, sizeof *p->peers, peer_compare);
}

const struct api_peer *api_peers_find(const struct api_peers *p, const struct cidr *c) {
        for (size_t i = 0; p && i < p->n; i++)
                if (cidr_compare(&p->peers[i].range, c) == 0)
                        return &p->peers[i];
        return NULL;
}

bool api_peers_equal(const struct api_peers *a, const struct api_peers *b) {
        if (a->n != b->n || !streq(a->own_vpc, b->own_vpc) || a->nat_checked != b->nat_checked ||
            a->nat_found != b->nat_found || (a->nat_found && (!streq(a->nat.id, b->nat.id) || a->nat.gateway_ip != b->nat.gateway_ip)))
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (cidr_compare(&a->peers[i].range, &b->peers[i].range) != 0 ||
                    !streq(a->peers[i].peering_id, b->peers[i].peering_id))
                        return false;
        return true;
}

cJSON *api_peer_to_json(const struct api_peer *p) {
        cJSON *o = cJSON_CreateObject();

        if (!o)
                return NULL;
        cJSON_AddStringToObject(o, "id", p->peering_id);
        cJSON_AddStringToObject(o, "name", p->peering_name);
        cJSON_AddStringToObject(o, "vpc_id", p->vpc_id);
        cJSON_AddStringToObject(o, "vpc_name", p->vpc_name);
        return o;
}

cJSON *api_waiting_to_json(const struct api_peers *p) {
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; a && i < p->n_waiting; i++) {
                cJSON *o = cJSON_CreateObject();
                /* cJSON_AddItemToArray returns nothing before cJSON 1.7.13: an array takes any item. */
                if (!o) {
                        cJSON_Delete(a);
                        return NULL;
                }
                cJSON_AddItemToArray(a, o);
                cJSON_AddStringToObject(o, "id", p->waiting[i].peering_id);
                cJSON_AddStringToObject(o, "name", p->waiting[i].peering_name);
        }
        return a;
}

const char *api_waiting_names(const struct api_peers *p, char *buf, size_t size) {
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < p->n_waiting && used < size; i++) {
                const struct api_waiting *w = &p->waiting[i];
                int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", w->peering_name[0] ? w->peering_name : w->peering_id);
                if (n < 0)
                        break;
                used += (size_t) n;
        }
        return buf;
}
