/* SPDX-License-Identifier: MIT */
/* Strict JSON document parsing and typed member access on top of cJSON, with precise errors. */

#include "json.h"
#include "route.h"

/* Works on a NUL-terminated private copy (cJSON needs the terminator to tell "document ended"
 * from "trailing garbage", and callers such as fuzzers pass exact buffers). One walk over the
 * text: control bytes inside strings are an error, "\u0000" becomes "\uFFFD". */
static int json_sanitize(const char *body, size_t size, char **ret, struct error *err) {
        _cleanup_free_ char *copy = NULL;
        bool in_string = false;

        copy = malloc(size + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, body, size);
        copy[size] = '\0';

        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char) copy[i];

                if (!in_string) {
                        if (c == '"')
                                in_string = true;
                        else if (c == '\0') {
                                error_set(err, "NUL byte at offset %zu", i);
                                return -EBADMSG;
                        }
                        continue;
                }
                if (c < 0x20) {
                        error_set(err, "control character 0x%02x inside a string at offset %zu", c, i);
                        return -EBADMSG;
                }
                if (c == '"') {
                        in_string = false;
                        continue;
                }
                if (c != '\\')
                        continue;
                if (i + 5 < size && copy[i + 1] == 'u' && memcmp(copy + i + 2, "0000", 4) == 0) {
                        memcpy(copy + i + 2, "FFFD", 4);
                        i += 5;
                        continue;
                }
                i++; /* skip the escaped character, so \" and \\ neither end nor confuse the string */
        }
        *ret = TAKE_PTR(copy);
        return 0;
}

int json_parse_document(const char *body, size_t size, cJSON **ret, struct error *err) {
        _cleanup_free_ char *text = NULL;
        const char *end = NULL;
        cJSON *j;
        int r;

        if (size == 0) {
                error_set(err, "empty document");
                return -ENODATA;
        }
        r = json_sanitize(body, size, &text, err);
        if (r < 0)
                return r;

        /* text holds no NUL before its end (json_sanitize refused them), so the terminator is where
         * cJSON stops: cJSON_ParseWithLengthOpts would need cJSON 1.7.13. */
        j = cJSON_ParseWithOpts(text, &end, true);
        if (!j) {
                size_t off = end && end >= text ? (size_t) (end - text) : 0;
                if (off >= size)
                        error_set(err, "not valid JSON: document ends early (%zu bytes)", size);
                else {
                        char q[QUOTE_BUF];
                        error_set(err, "not valid JSON at offset %zu near \"%s\"", off,
                                 str_quote(text + off, size - off, 24, q, sizeof q));
                }
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

int json_parse_object(const char *body, size_t size, cJSON **ret, struct error *err) {
        cJSON *j = NULL;
        int r;

        r = json_parse_document(body, size, &j, err);
        if (r < 0)
                return r;
        if (!cJSON_IsObject(j)) {
                error_set(err, "document is %s, expected an object", json_type_name(j));
                cJSON_Delete(j);
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

const char *json_type_name(const cJSON *v) {
        if (!v)
                return "missing";
        if (cJSON_IsString(v))
                return "a string";
        if (cJSON_IsNumber(v))
                return "a number";
        if (cJSON_IsBool(v))
                return "a boolean";
        if (cJSON_IsNull(v))
                return "null";
        if (cJSON_IsArray(v))
                return "an array";
        if (cJSON_IsObject(v))
                return "an object";
        return "invalid";
}

const char *json_value_brief(const cJSON *v, char *buf, size_t size) {
        char q[QUOTE_BUF];

        if (cJSON_IsString(v))
                snprintf(buf, size, "\"%s\"", str_quote(v->valuestring, strlen(v->valuestring), QUOTE_MAX, q, sizeof q));
        else if (cJSON_IsNumber(v))
                snprintf(buf, size, "%.17g", v->valuedouble);
        else if (cJSON_IsTrue(v))
                snprintf(buf, size, "true");
        else if (cJSON_IsFalse(v))
                snprintf(buf, size, "false");
        else if (cJSON_IsNull(v))
                snprintf(buf, size, "null");
        else if (cJSON_IsArray(v))
                snprintf(buf, size, "[...]");
        else if (cJSON_IsObject(v))
                snprintf(buf, size, "{...}");
        else
                snprintf(buf, size, "?");
        return buf;
}

static const char *join_path(const char *path, const char *key, char *buf, size_t size) {
        if (path && *path)
                snprintf(buf, size, "%s.%s", path, key);
        else
                snprintf(buf, size, "%s", key);
        return buf;
}

int json_get(const cJSON *obj, const char *path, const char *key, const cJSON **ret, struct error *err) {
        const cJSON *found = NULL;
        char p[160];

        if (!cJSON_IsObject(obj)) {
                char b[QUOTE_BUF + 4];
                error_set(err, "%s %s is %s, expected an object", path && *path ? path : "document",
                         json_value_brief(obj, b, sizeof b), json_type_name(obj));
                return -EINVAL;
        }
        for (const cJSON *c = obj->child; c; c = c->next) {
                if (!c->string || !streq(c->string, key))
                        continue;
                if (found) {
                        error_set(err, "%s appears twice", join_path(path, key, p, sizeof p));
                        return -EINVAL;
                }
                found = c;
        }
        if (!found)
                return 0;
        *ret = found;
        return 1;
}

/* json_get for a member that must be there. */
static int json_get_required(const cJSON *obj, const char *path, const char *key, const cJSON **ret, struct error *err) {
        char p[160];
        int r;

        r = json_get(obj, path, key, ret, err);
        if (r < 0)
                return r;
        if (r == 0) {
                error_set(err, "%s is missing", join_path(path, key, p, sizeof p));
                return -ENOENT;
        }
        return 0;
}

int json_get_string(const cJSON *obj, const char *path, const char *key, const char **ret, struct error *err) {
        const cJSON *v = NULL;
        char p[160], b[QUOTE_BUF + 4];
        int r;

        r = json_get_required(obj, path, key, &v, err);
        if (r < 0)
                return r;
        if (!cJSON_IsString(v)) {
                error_set(err, "%s %s is %s, expected a string", join_path(path, key, p, sizeof p),
                         json_value_brief(v, b, sizeof b), json_type_name(v));
                return -EINVAL;
        }
        *ret = v->valuestring;
        return 0;
}

int json_get_uint(const cJSON *obj, const char *path, const char *key, uint64_t min, uint64_t max, uint64_t *ret,
                  struct error *err) {
        const cJSON *v = NULL;
        char p[160], b[QUOTE_BUF + 4];
        double d;
        int r;

        r = json_get_required(obj, path, key, &v, err);
        if (r < 0)
                return r;
        if (!cJSON_IsNumber(v)) {
                error_set(err, "%s %s is %s, expected a number", join_path(path, key, p, sizeof p),
                         json_value_brief(v, b, sizeof b), json_type_name(v));
                return -EINVAL;
        }
        d = v->valuedouble;
        /* Doubles hold integers exactly up to 2^53; reject anything beyond, fractions, inf, nan. */
        /* NaN fails every comparison; infinities fail the range. Inside the range the cast is
         * exact, so a fraction shows as a difference. */
        if (!(d >= (double) min && d <= (double) max && d <= 9007199254740992.0) || d != (double) (uint64_t) d) {
                error_set(err, "%s %s is not an integer from %llu to %llu", join_path(path, key, p, sizeof p),
                         json_value_brief(v, b, sizeof b), (unsigned long long) min, (unsigned long long) max);
                return -ERANGE;
        }
        *ret = (uint64_t) d;
        return 0;
}

cJSON *json_from_route(const struct route *r) {
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
        cJSON_AddStringToObject(o, "type", route_type_to_string(r->type));
        return o;
}


int json_print_free(FILE *f, cJSON *root) {
        char *text = root ? cJSON_Print(root) : NULL;

        cJSON_Delete(root);
        if (!text)
                return -ENOMEM;
        fprintf(f, "%s\n", text);
        free(text);
        return 0;
}
