/* SPDX-License-Identifier: MIT */
/* The keys of the config file: one row each, in documentation order. A row names the key, its
 * field in struct config, its value type, its default (as the file would write it, read by the
 * same parser) and its limits. Parsing, defaults, freeing, check-config's printer and the docs
 * test all read this table: adding a key is its field, its row and its documentation. */
#include <assert.h>

#include "config_types.h"

#define DEFAULT_METADATA_URL "http://169.254.169.254/metadata/v1.json"
#define SEC USEC_PER_SEC

/* ---- the keys ---- */

static const char *const source_words[] = { [SOURCE_METADATA] = "metadata", [SOURCE_API] = "api", NULL };
static const char *const peering_flag_words[] = { [PEERING_FLAG_HONOR] = "honor", [PEERING_FLAG_IGNORE] = "ignore", NULL };

/* KEY(name, type, field, default, limits or words) */
#define KEY(n, t, f, d, ...) \
        { .name = n, .type = &t, .offset = offsetof(struct config, f), .default_value = d, __VA_ARGS__ }

static const struct config_key keys[] = {
        KEY("source", type_word, source, "metadata", .words = source_words),
        KEY("metadata_url", type_url, metadata_url, DEFAULT_METADATA_URL),
        KEY("connect_timeout", type_duration, connect_timeout_usec, "2s", .min = SEC / 10, .max = 60 * SEC),
        KEY("timeout", type_duration, timeout_usec, "10s", .min = SEC / 10, .max = 300 * SEC),
        /* DigitalOcean's user_data alone can be tens of KiB; never cap below 1 MiB. */
        KEY("metadata_max_size", type_u64, metadata_max_size, "4194304", .min = 1 << 20, .max = 256 << 20),
        KEY("interface", type_ifname, interface, NULL),
        KEY("gateway", type_gateway, gateway, NULL),
        KEY("routes", type_routes, routes, "10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"),
        KEY("routes_file", type_path, routes_file, NULL),
        KEY("metric", type_u32, metric, "101", .min = 0, .max = UINT32_MAX),
        KEY("mtu", type_u32, mtu, "1500", .min = 68, .max = 65535),
        KEY("table", type_table, table, "main"),
        KEY("protocol", type_protocol, protocol, "241"),
        KEY("peering_flag", type_word, peering_flag, "honor", .words = peering_flag_words),
        KEY("allow_non_private", type_bool, allow_non_private, "no"),
        KEY("max_routes", type_u64, max_routes, "256", .min = 1, .max = 1000000),
        KEY("nat_gateway", type_nat, nat_gateway, "off"),
        KEY("interval", type_duration, interval_usec, "30s", .min = SEC, .max = 86400 * SEC),
        KEY("state_file", type_path, state_file, STATE_FILE_DEFAULT),
        KEY("owner_file", type_path, owner_file, OWNER_FILE_DEFAULT),
        KEY("metrics_file", type_path, metrics_file, NULL),
        KEY("api_url", type_base_url, api_url, API_URL_DEFAULT),
        KEY("api_token_file", type_path, api_token_file, NULL),
        KEY("api_ca_file", type_path, api_ca_file, NULL),
        KEY("api_insecure", type_bool, api_insecure, "no"),
        /* Two requests a round: even the minimum stays far inside 250 requests a minute. */
        KEY("api_interval", type_duration, api_interval_usec, "60s", .min = 10 * SEC, .max = 86400 * SEC),
        KEY("api_budget", type_percent, api_budget, "50%"),
};

const char *config_key_name(size_t i) {
        return i < ELEMENTSOF(keys) ? keys[i].name : NULL;
}

ssize_t config_key_index(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(keys[i].name, name))
                        return (ssize_t) i;
        return -ENOENT;
}

static void *field_of(const struct config *c, const struct config_key *k) {
        return (char *) c + k->offset;
}

int config_set(struct config *c, const char *key, const char *value, const char *where, struct error *err) {
        char q[QUOTE_BUF], kq[QUOTE_BUF];
        struct error reason = {};
        ssize_t i = config_key_index(key);
        int r;

        if (i < 0) {
                error_set(err, "%s: unknown key \"%s\"", where, str_quote(key, strlen(key), QUOTE_MAX, kq, sizeof kq));
                return -EINVAL;
        }
        r = keys[i].type->parse(c, &keys[i], field_of(c, &keys[i]), value, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                error_set(err, "%s: %s \"%s\" %s", where, key, str_quote(value, strlen(value), QUOTE_MAX, q, sizeof q),
                          reason.msg);
                return -EINVAL;
        }
        return 0;
}

int config_new_default(struct config **ret) {
        _cleanup_config_ struct config *c = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->file_trust = (struct file_trust) { .forbidden_mode = 022 };
        c->track_owner = true;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (!keys[i].default_value)
                        continue;
                r = config_set(c, keys[i].name, keys[i].default_value, "default", NULL);
                if (r == -ENOMEM)
                        return r;
                /* A default its own parser refuses is a bug of this table (test-docs prints the
                 * defaults and reads them back). */
                assert(r >= 0);
        }
        *ret = TAKE_PTR(c);
        return 0;
}

void config_free(struct config *c) {
        if (!c)
                return;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (keys[i].type->free)
                        keys[i].type->free(field_of(c, &keys[i]));
        secret_free(c->api_token);
        free(c->path);
        free(c);
}

void config_print(FILE *f, const struct config *c) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (!keys[i].type->print(c, &keys[i], field_of(c, &keys[i]), f))
                        fprintf(f, "#%s =\n", keys[i].name);
        if (c->routes_file)
                fprintf(f, "# routes_file holds %zu network%s\n", c->n_routes, c->n_routes == 1 ? "" : "s");
        if (c->api_token)
                fprintf(f, "# source = api: a token of %zu characters was read\n", strlen(c->api_token));
}

const char *peering_flag_to_string(enum peering_flag f) {
        return peering_flag_words[f];
}

const char *route_source_to_string(enum route_source s) {
        return source_words[s];
}

const char *table_to_string(uint32_t table, char buf[static 12]) {
        if (table == ROUTE_TABLE_MAIN)
                return "main";
        snprintf(buf, 12, "%u", table);
        return buf;
}
