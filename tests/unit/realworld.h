/* SPDX-License-Identifier: MIT */
/* The captures of tests/fixtures/realworld (copied from ../shared/realworld, see its SOURCES.md),
 * of the shared folder itself when it sits beside the checkout, and of $VPR_REALWORLD_DIR: every
 * file a filter wants, so that a capture added later is tested without a code change. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define REALWORLD_COPY SRCDIR "/tests/fixtures/realworld"
#define REALWORLD_SHARED SRCDIR "/../shared/realworld"

struct capture {
        char *name;     /* "x.json", or "shared/x.json" / "extra/x.json" for a differing copy */
        char *file;     /* the file name alone */
        char *text;     /* as wrap made it */
        size_t size;
};

struct captures {
        struct capture *c;
        size_t n, cap;
};

/* want: the file names to load. wrap (may be NULL): the text to test instead of the file's
 * (malloc'd), or NULL to take the file as it is. A file whose name is loaded already is skipped when its
 * text is the same. Aborts on I/O errors: a test must not pass on half its captures. */
void captures_load(struct captures *cs, bool (*want)(const char *name), char *(*wrap)(const char *name, const char *text));
const struct capture *captures_find(const struct captures *cs, const char *name);
void captures_free(struct captures *cs);

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
