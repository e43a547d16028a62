/* SPDX-License-Identifier: MIT */
/* cmocka glue: every table row becomes its own named test, all in one group per binary, so
 * that the TAP output names the failing case. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

struct unit_tests {
        struct CMUnitTest *tests;
        size_t n;
        size_t cap;
};

static inline void unit_add(struct unit_tests *u, const char *name, CMUnitTestFunction fn, void *state) {
        if (u->n == u->cap) {
                u->cap = u->cap ? u->cap * 2 : 64;
                u->tests = realloc(u->tests, u->cap * sizeof *u->tests);
                if (!u->tests)
                        abort();
        }
        u->tests[u->n++] = (struct CMUnitTest) { .name = name, .test_func = fn, .initial_state = state };
}

/* Adds one test per row; rows is an array of structs whose first member is "const char *name". */
#define UNIT_ADD_TABLE(u, fn, rows)                                                           \
        do {                                                                                  \
                for (size_t _i = 0; _i < sizeof(rows) / sizeof((rows)[0]); _i++)              \
                        unit_add((u), (rows)[_i].name, (fn), (void *) &(rows)[_i]);           \
        } while (0)

#define UNIT_ADD(u, fn) unit_add((u), #fn, (fn), NULL)

static inline int unit_run(struct unit_tests *u, const char *group) {
        int r = _cmocka_run_group_tests(group, u->tests, u->n, NULL, NULL);
        free(u->tests);
        return r;
}

/* Asserts that haystack contains needle, printing both when it does not. */
#define assert_contains(haystack, needle)                                                      \
        do {                                                                                   \
                const char *_h = (haystack), *_n = (needle);                                   \
                if (!strstr(_h, _n))                                                           \
                        fail_msg("\"%s\" does not contain \"%s\"", _h, _n);                    \
        } while (0)

/* A fixture of tests/fixtures, NUL-terminated; aborts when it cannot be read. */
static __attribute__((noinline, unused)) char *unit_fixture(const char *name, size_t *ret_size) {
        char path[512], *text = NULL;
        snprintf(path, sizeof path, FIXTURES "/%s", name);
        if (read_full_file(path, 1 << 20, &text, ret_size) < 0) {
                fprintf(stderr, "cannot read %s\n", path);
                abort();
        }
        return text;
}

/* doc with the first occurrence of find replaced; find must occur. */
static __attribute__((noinline, unused)) char *unit_edit(const char *doc, const char *find, const char *replace) {
        const char *at = strstr(doc, find);
        char *out;
        if (!at) {
                fprintf(stderr, "fixture lacks \"%s\"\n", find);
                abort();
        }
        if (asprintf(&out, "%.*s%s%s", (int) (at - doc), doc, replace, at + strlen(find)) < 0)
                abort();
        return out;
}
