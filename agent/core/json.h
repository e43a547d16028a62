/* SPDX-License-Identifier: MIT */
/* cJSON helpers shared by the files that read or write JSON (the parsers, state, status). No
 * cJSON pointer travels beyond those files. */
#pragma once

#include <cjson/cJSON.h>

#include "util.h"


/* Strict parse of a whole document: rejects raw control characters inside strings, trailing
 * bytes, and nesting deeper than cJSON's limit. "\u0000" escapes are rewritten to U+FFFD before
 * cJSON sees them, because cJSON would silently cut the string at the NUL ("10.0.0.1\u0000x"
 * would read as a valid address). */
int json_parse_document(const char *body, size_t size, cJSON **ret, struct error *err);

/* json_parse_document, and the document must be an object. */
int json_parse_object(const char *body, size_t size, cJSON **ret, struct error *err);

/* Looks up key in obj. 1 found, 0 absent, negative on a duplicate key or obj not an object.
 * path is the dotted name of obj, used in the error message. */
int json_get(const cJSON *obj, const char *path, const char *key, const cJSON **ret, struct error *err);

/* "a string", "a number", "an object", ... */
const char *json_type_name(const cJSON *v);

/* A short, quoted rendering of a value for error messages: strings quoted and escaped, numbers,
 * true/false/null, objects and arrays as {…} and […]. */
const char *json_value_brief(const cJSON *v, char *buf, size_t size);

/* Fetches a string member; absent, wrong type or duplicate is an error naming path.key. */
int json_get_string(const cJSON *obj, const char *path, const char *key, const char **ret, struct error *err);

/* Fetches an integer member in [min, max] (exact: no fraction, no exponent overflow). */
int json_get_uint(const cJSON *obj, const char *path, const char *key, uint64_t min, uint64_t max, uint64_t *ret,
                  struct error *err);

struct route;
/* {"destination", "gateway", "device", "metric", "mtu", "table", "protocol"}; NULL on OOM. */
cJSON *json_from_route(const struct route *r);
/* Prints root, indented, with a newline, and frees it (root may be NULL: -ENOMEM). */
int json_print_free(FILE *f, cJSON *root);

static inline void cjson_deletep(cJSON **j) {
        if (*j)
                cJSON_Delete(*j);
}
#define _cleanup_cjson_ _cleanup_(cjson_deletep)
