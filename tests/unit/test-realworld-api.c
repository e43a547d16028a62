/* SPDX-License-Identifier: MIT */
/* The API parsers against every answer DigitalOcean's specification and its client libraries
 * (godo, droplet_kit, doctl) publish, and client dumps of real droplets: every api-*.json of
 * tests/fixtures/realworld, the shared folder and $VPR_REALWORLD_DIR becomes a test, dispatched
 * by the endpoint its name carries (api-<endpoint>-<source>.json; see SOURCES.md).
 *
 * As for the metadata captures, each answer is checked against what a plain reading of its JSON
 * says (worked out here, without the parser), and the answers known today also against values
 * written down by hand. Where the specification and the clients disagree (the peerings of a VPC
 * under "peerings" or "vpc_peerings"; one VPC id or two), both must parse. */
#include <cjson/cJSON.h>

#include "api_parse.h"
#include "json.h"
#include "realworld.h"
#include "unit.h"

static struct captures answers;

enum endpoint {
        EP_DROPLET,     /* GET /v2/droplets/{id} */
        EP_VPC,         /* GET /v2/vpcs/{id} */
        EP_PEERINGS,    /* GET /v2/vpcs/{id}/peerings and GET /v2/vpc_peerings */
        EP_PEERING,     /* GET /v2/vpc_peerings/{id}: one peering, read as a one-entry list */
        EP_OTHER,       /* an endpoint the agent does not call: must be a JSON object */
};

static const struct {
        const char *prefix;
        enum endpoint ep;
} endpoints[] = {
        { "api-droplets-get-", EP_DROPLET },
        { "api-vpcs-get-", EP_VPC },
        { "api-vpcs-peerings-list-", EP_PEERINGS },
        { "api-vpc_peerings-list-", EP_PEERINGS },
        { "api-vpc_peerings-get-", EP_PEERING },
};

static enum endpoint endpoint_of(const char *file) {
        for (size_t i = 0; i < ELEMENTSOF(endpoints); i++)
                if (str_starts_with(file, endpoints[i].prefix))
                        return endpoints[i].ep;
        return EP_OTHER;
}

static bool is_answer(const char *name) {
        return str_starts_with(name, "api-") && str_ends_with(name, ".json");
}

/* {"vpc_peering": {...}} → {"vpc_peerings": [{...}]}, the list the agent reads. */
static char *peering_as_list(const char *text) {
        cJSON *root = cJSON_Parse(text), *one, *list;
        char *out;

        if (!root)
                fail_msg("the test cannot read the answer");
        one = cJSON_DetachItemFromObjectCaseSensitive(root, "vpc_peering");
        if (!one)
                fail_msg("no vpc_peering in the answer");
        list = cJSON_CreateObject();
        cJSON_AddItemToObject(list, "vpc_peerings", cJSON_CreateArray());
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(list, "vpc_peerings"), one);
        out = cJSON_PrintUnformatted(list);
        cJSON_Delete(list);
        cJSON_Delete(root);
        return out;
}

static const char *string_of(const cJSON *o, const char *key) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void check_droplet(const struct capture *d) {
        cJSON *root = cJSON_Parse(d->text);
        const cJSON *droplet = cJSON_GetObjectItemCaseSensitive(root, "droplet");
        const char *want;
        char uuid[UUID_STRLEN] = "x";
        struct error err = {0};

        /* A client's dump has no "droplet" wrapper: the object is the droplet. */
        if (!droplet)
                droplet = root;
        want = string_of(droplet, "vpc_uuid");
        if (api_parse_droplet(d->text, d->size, uuid, &err) < 0)
                fail_msg("%s: %s", d->name, err);
        assert_string_equal(uuid, want ? want : "");
        cJSON_Delete(root);
}

static void check_vpc(const struct capture *d) {
        cJSON *root = cJSON_Parse(d->text);
        const cJSON *vpc = cJSON_GetObjectItemCaseSensitive(root, "vpc");
        struct api_vpc v;
        struct error err = {0};
        char net[CIDR_STRLEN];

        if (api_parse_vpc(d->text, d->size, &v, &err) < 0)
                fail_msg("%s: %s", d->name, err);
        assert_string_equal(v.id, string_of(vpc, "id"));
        assert_string_equal(cidr_to_string(&v.ip_range, net), string_of(vpc, "ip_range"));
        assert_string_equal(v.name, string_of(vpc, "name") ? string_of(vpc, "name") : "");
        cJSON_Delete(root);
}

static enum peering_status status_of(const char *s) {
        if (streq(s, "ACTIVE"))
                return PEERING_ACTIVE;
        if (streq(s, "PROVISIONING"))
                return PEERING_PROVISIONING;
        if (streq(s, "DELETING"))
                return PEERING_DELETING;
        return PEERING_OTHER;
}

static void check_peerings(const char *name, const char *text) {
        cJSON *root = cJSON_Parse(text);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "peerings"), *total, *next;
        struct api_peerings_page page;
        struct error err = {0};
        int n;

        if (!list)
                list = cJSON_GetObjectItemCaseSensitive(root, "vpc_peerings");
        if (api_parse_peerings_page(text, strlen(text), &page, &err) < 0)
                fail_msg("%s: %s", name, err);
        n = cJSON_GetArraySize(list);
        assert_int_equal(page.n, n);
        for (int i = 0; i < n; i++) {
                const cJSON *p = cJSON_GetArrayItem(list, i), *ids = cJSON_GetObjectItemCaseSensitive(p, "vpc_ids");
                assert_string_equal(page.peerings[i].id, string_of(p, "id"));
                assert_int_equal(page.peerings[i].status, status_of(string_of(p, "status")));
                assert_int_equal(page.peerings[i].n_vpc_ids, cJSON_GetArraySize(ids));
                for (int k = 0; k < cJSON_GetArraySize(ids); k++)
                        assert_string_equal(page.peerings[i].vpc_ids[k], cJSON_GetArrayItem(ids, k)->valuestring);
        }
        total = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "meta"), "total");
        assert_int_equal(page.has_total, cJSON_IsNumber(total));
        if (cJSON_IsNumber(total))
                assert_int_equal(page.total, (uint64_t) total->valuedouble);
        next = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "links"), "pages"), "next");
        if (cJSON_IsString(next))
                assert_string_equal(page.next, next->valuestring);
        else
                assert_null(page.next);
        api_peerings_page_done(&page);
        cJSON_Delete(root);
}

static void test_answer(void **state) {
        const struct capture *d = *state;
        struct error err = {0};

        switch (endpoint_of(d->file)) {
        case EP_DROPLET:
                check_droplet(d);
                return;
        case EP_VPC:
                check_vpc(d);
                return;
        case EP_PEERINGS:
                check_peerings(d->name, d->text);
                return;
        case EP_PEERING: {
                char *list = peering_as_list(d->text);
                check_peerings(d->name, list);
                cJSON_free(list);
                return;
        }
        default: {
                cJSON *root = NULL;
                if (json_parse_object(d->text, d->size, &root, &err) < 0)
                        fail_msg("%s: %s", d->name, err);
                cJSON_Delete(root);
                return;
        }
        }
}

/* ---- written down by hand from SOURCES.md ---- */

struct known {
        const char *file;
        const char *id;         /* droplet: its vpc_uuid ("" for none); vpc: its id; list: the first peering's id */
        const char *range;      /* vpc: ip_range */
        int count;              /* list: peerings on the page */
        int total;              /* list: meta.total */
        unsigned n_vpc_ids;     /* list: of the first peering */
        const char *next;       /* list: links.pages.next */
};

static const struct known known[] = {
        { .file = "api-droplets-get-openapi.json", .id = "760e09ef-dc84-11e8-981e-3cfdfeaae000" },
        /* A real droplet (sgp1, 2021), dumped by a client without the "droplet" wrapper. */
        { .file = "api-droplets-get-clientdump-chiro2001.json", .id = "5b73020f-7351-4b7e-9a87-012a6eacc66e" },
        /* No vpc_uuid at all: a droplet in no VPC. */
        { .file = "api-droplets-get-dropletkit.json", .id = "" },
        { .file = "api-vpcs-get-dropletkit.json", .id = "880b7f98-f062-404d-b33c-458d545696f6", .range = "10.108.0.0/20" },
        { .file = "api-vpcs-get-default-dropletkit.json", .id = "880b7f98-f062-404d-b33c-458d545696f6", .range = "10.108.0.0/20" },
        { .file = "api-vpcs-get-godo.json", .id = "880b7f98-f062-404d-b33c-458d545696f6", .range = "10.122.0.0/20" },
        { .file = "api-vpcs-get-doctl.json", .id = "5a4981aa-9653-4bd1-bef5-d6bff52042e4", .range = "10.10.10.0/24" },
        /* The specification lists a VPC's peerings under "peerings"... */
        { .file = "api-vpcs-peerings-list-openapi.json", .id = "6b5c619c-359c-44ca-87e2-47e98170c01d", .count = 2, .total = 2, .n_vpc_ids = 2 },
        /* ...godo decodes the same endpoint from "vpc_peerings", with one VPC id. */
        { .file = "api-vpcs-peerings-list-godo.json", .id = "f5a0c5e4-7537-47de-bb8d-46c766f89ffb", .count = 1, .total = 3, .n_vpc_ids = 1, .next = "http://localhost/v2/vpcs?page=2&per_page=1" },
        { .file = "api-vpc_peerings-list-openapi.json", .id = "6b5c619c-359c-44ca-87e2-47e98170c01d", .count = 2, .total = 2, .n_vpc_ids = 2 },
        { .file = "api-vpc_peerings-list-dropletkit.json", .id = "6e9bff8e-2d65-4301-9a48-f80a25ad89fa", .count = 2, .total = 10, .n_vpc_ids = 2, .next = "https://api.digitalocean.com/v2/vpc_peerings?page=3&per_page=2" },
        { .file = "api-vpc_peerings-list-godo.json", .id = "f5a0c5e4-7537-47de-bb8d-46c766f89ffb", .count = 1, .total = 3, .n_vpc_ids = 1, .next = "http://localhost/v2/vpcs?page=2&per_page=1" },
        { .file = "api-vpc_peerings-get-openapi.json", .id = "5a4981aa-9653-4bd1-bef5-d6bff52042e4", .count = 1, .total = -1, .n_vpc_ids = 2 },
        { .file = "api-vpc_peerings-get-dropletkit.json", .id = "6e9bff8e-2d65-4301-9a48-f80a25ad89fa", .count = 1, .total = -1, .n_vpc_ids = 2 },
};

static void test_known(void **state) {
        const struct known *k = *state;
        const struct capture *d = captures_find(&answers, k->file);
        struct error err = {0};
        char uuid[UUID_STRLEN], net[CIDR_STRLEN];
        struct api_peerings_page page;
        struct api_vpc v;

        if (!d)
                fail_msg("%s is missing from " REALWORLD_COPY, k->file);
        switch (endpoint_of(d->file)) {
        case EP_DROPLET:
                if (api_parse_droplet(d->text, d->size, uuid, &err) < 0)
                        fail_msg("%s", err.msg);
                assert_string_equal(uuid, k->id);
                return;
        case EP_VPC:
                if (api_parse_vpc(d->text, d->size, &v, &err) < 0)
                        fail_msg("%s", err.msg);
                assert_string_equal(v.id, k->id);
                assert_string_equal(cidr_to_string(&v.ip_range, net), k->range);
                return;
        case EP_PEERINGS:
        case EP_PEERING: {
                char *list = endpoint_of(d->file) == EP_PEERING ? peering_as_list(d->text) : NULL;
                const char *text = list ? list : d->text;
                int r = api_parse_peerings_page(text, strlen(text), &page, &err);
                cJSON_free(list);
                if (r < 0)
                        fail_msg("%s", err.msg);
                assert_int_equal(page.n, k->count);
                assert_string_equal(page.peerings[0].id, k->id);
                assert_int_equal(page.peerings[0].status, PEERING_ACTIVE);
                assert_int_equal(page.peerings[0].n_vpc_ids, k->n_vpc_ids);
                assert_int_equal(page.has_total, k->total >= 0);
                if (k->total >= 0)
                        assert_int_equal(page.total, k->total);
                if (k->next)
                        assert_string_equal(page.next, k->next);
                else
                        assert_null(page.next);
                api_peerings_page_done(&page);
                return;
        }
        default:
                fail_msg("%s: no endpoint of the agent", k->file);
        }
}

int main(void) {
        struct unit_tests u = {};
        char *known_names[ELEMENTSOF(known)];
        int r;

        captures_load(&answers, is_answer, NULL);
        if (answers.n == 0) {
                fprintf(stderr, "no API answers in " REALWORLD_COPY "\n");
                return 1;
        }
        for (size_t i = 0; i < answers.n; i++)
                unit_add(&u, answers.c[i].name, test_answer, &answers.c[i]);
        for (size_t i = 0; i < ELEMENTSOF(known); i++) {
                if (asprintf(&known_names[i], "%s as SOURCES.md describes it", known[i].file) < 0)
                        abort();
                unit_add(&u, known_names[i], test_known, (void *) &known[i]);
        }
        r = unit_run(&u, "realworld-api");
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                free(known_names[i]);
        captures_free(&answers);
        return r;
}
