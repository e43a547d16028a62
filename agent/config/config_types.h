/* SPDX-License-Identifier: MIT */
/* The rows of the keys' table (config_keys.c) and the kinds of value a key can hold
 * (config_types.c). Private to those two files. */
#pragma once

#include "config.h"

struct config_key;

struct config_type {
        /* value is trimmed, non-empty text; the message is the reason only ("must be ..."):
         * config_set() puts where, the key and the quoted value in front of it. */
        int (*parse)(struct config *c, const struct config_key *k, void *field, const char *value, struct error *err);
        /* Writes "key = value\n"; false (writing nothing) when the key is unset. */
        bool (*print)(const struct config *c, const struct config_key *k, const void *field, FILE *f);
        /* Fields that own memory; NULL for plain values. */
        void (*free)(void *field);
};

struct config_key {
        const char *name;
        const struct config_type *type;
        size_t offset;
        const char *default_value; /* NULL: unset */
        uint64_t min, max;         /* numbers and durations */
        const char *const *words;  /* enumerations: the words, in the enum's order */
};

extern const struct config_type type_path;
extern const struct config_type type_url;
extern const struct config_type type_base_url;
extern const struct config_type type_ifname;
extern const struct config_type type_duration;
extern const struct config_type type_u64;
extern const struct config_type type_u32;
extern const struct config_type type_bool;
extern const struct config_type type_word;
extern const struct config_type type_gateway;
extern const struct config_type type_table;
extern const struct config_type type_protocol;
extern const struct config_type type_nat;
extern const struct config_type type_percent;
extern const struct config_type type_routes;
