/* SPDX-License-Identifier: MIT */
/* The one error convention: a function that fails returns -errno and, when the caller passed a
 * struct error, fills it with the one line the user will read (it names the field and the bad
 * value). Callers that only need the code pass NULL. Nothing else carries messages up. */
#pragma once

#include <limits.h>

/* Room for a path and the words around it. */
#define ERROR_MAX (PATH_MAX + 512)

struct error {
        char msg[ERROR_MAX];
};

/* Sets e's message (e may be NULL). */
void error_set(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
