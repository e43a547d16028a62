/* SPDX-License-Identifier: MIT */
/* Layer config (agent/config/): the configuration and the API token. Uses core and base. */
/* The configuration: defaults, the "key = value" file, command-line overrides, validation.
 * A loaded config is immutable; a reload builds a new one and swaps it whole. */
#pragma once

#include "route.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/vpc-peer-routes.conf"
#define CONFIG_MAX_FILE_SIZE ((size_t) 1024 * 1024)
#define ROUTES_FILE_MAX_SIZE ((size_t) 16 * 1024 * 1024)
#define STATE_FILE_DEFAULT "/run/vpc-peer-routes/state.json"
#define OWNER_FILE_DEFAULT "/var/lib/vpc-peer-routes/owner"
#define API_URL_DEFAULT "https://api.digitalocean.com"
#define API_CREDENTIAL_NAME "do-api-token"
#define API_TOKEN_MAX 512

enum peering_flag {
        PEERING_FLAG_HONOR,
        PEERING_FLAG_IGNORE,
};

enum route_source {
        SOURCE_METADATA,
        SOURCE_API,
};

/* nat_gateway: egress through a VPC NAT gateway (core/egress.h). */
enum nat_mode {
        NAT_OFF,
        NAT_VPC,            /* via the VPC gateway, which forwards to the VPC's default NAT gateway */
        NAT_ADDRESS,        /* via that NAT gateway's address in the VPC */
};

struct nat_setting {
        enum nat_mode mode;
        uint32_t address;   /* NAT_ADDRESS */
};

struct config {
        enum route_source source;
        char *metadata_url;
        uint64_t connect_timeout_usec;
        uint64_t timeout_usec;
        uint64_t metadata_max_size;
        char *interface;            /* NULL: find the private NIC by the metadata's MAC */
        uint32_t gateway;           /* 0: the metadata's, or the first address of the private subnet */
        struct cidr *routes;        /* from routes or routes_file, validated, sorted, unique */
        size_t n_routes;
        char *routes_file;
        uint32_t metric;
        uint32_t mtu;
        uint32_t table;
        uint8_t protocol;
        enum peering_flag peering_flag;
        bool allow_non_private;
        uint64_t max_routes;
        struct nat_setting nat_gateway;

        /* source = api */
        char *api_url;
        char *api_token_file;       /* NULL: $CREDENTIALS_DIRECTORY/do-api-token */
        char *api_ca_file;
        bool api_insecure;
        uint64_t api_interval_usec;
        unsigned api_budget;        /* percent of the token's hourly limit the fleet may use */
        char *api_token;            /* read by config_finalize; never logged or written anywhere */

        /* run */
        uint64_t interval_usec;
        char *state_file;
        char *owner_file;           /* which protocol and table own routes carry, across runs */
        /* false when --protocol names the owner for one run: then owner_file is neither read nor
         * written, and another protocol number is another owner, whose routes are left alone. */
        bool track_owner;
        char *metrics_file;         /* NULL: no metrics */

        /* Who may own and write the config and routes_file: root, or the user who named the
         * config with --config (config_load sets it). */
        struct file_trust file_trust;

        /* Bookkeeping for messages: where each list came from. */
        char *path;                 /* config file actually read, or NULL */
        unsigned routes_line;       /* line of "routes =" in path, 0 if default */
};

/* The keys are rows of one table (config_keys.c). The i-th key the file accepts, in
 * documentation order; NULL past the last. */
const char *config_key_name(size_t i);
/* Its index, or -ENOENT. */
ssize_t config_key_index(const char *name);

/* A network in CIDR notation, for routes and routes_file; the message says what is wrong with
 * it ("has host bits set (did you mean ...?)"). */
int config_parse_cidr(const char *word, struct cidr *ret, struct error *err);

int config_new_default(struct config **ret);
void config_free(struct config *c);
static inline void config_freep(struct config **c) {
        if (*c)
                config_free(*c);
}
#define _cleanup_config_ _cleanup_(config_freep)

/* Sets one key from text. where is how to name the source in errors ("/etc/x.conf:7" or
 * "--protocol"). Errors quote where, key and value. */
int config_set(struct config *c, const char *key, const char *value, const char *where, struct error *err);

/* Parses a whole config file's text into c (on top of what is already there). Pure. */
int config_parse_text(struct config *c, const char *text, size_t size, const char *path, struct error *err);

/* Parses a routes file (one CIDR a line, '#' comments) into a CIDR list. Pure. */
int config_parse_routes_text(const char *text, size_t size, const char *path, struct cidr **ret, size_t *ret_n,
                             struct error *err);

/* After the file and overrides: reads routes_file, checks every CIDR against the rules and
 * max_routes, collapses duplicates. */
int config_finalize(struct config *c, struct error *err);

/* Reads path (a missing file is an error only if required), applies it to a default config.
 * Does not finalize: the caller applies overrides first. */
int config_load(const char *path, bool required, struct config **ret, struct error *err);

/* Command-line values that override the file; NULL: not given. */
struct config_overrides {
        const char *metadata_url;
        const char *protocol;
        const char *interval;
};

/* config_load, then the overrides (validated like file values), then config_finalize: what
 * every subcommand and every daemon reload does. */
int config_load_full(const char *path, bool required, const struct config_overrides *o, struct config **ret,
                     struct error *err);

/* The effective configuration in the file's syntax, every key in documentation order (unset ones
 * commented out); the token itself is never printed. */
void config_print(FILE *f, const struct config *c);
/* A hash of what config_print() writes: equal for equal effective configurations (how sync
 * tells that the running service has another one). 0 when out of memory. */
uint64_t config_fingerprint(const struct config *c);

const char *peering_flag_to_string(enum peering_flag f);
const char *route_source_to_string(enum route_source s);
/* "main" or the number. */
const char *table_to_string(uint32_t table, char buf[static 12]);
