/* SPDX-License-Identifier: MIT */
#include "api_memory.h"

struct vpc_cache_entry *vpc_cache_find(struct vpc_cache *c, const char *id) {
        for (size_t i = 0; i < c->n; i++)
                if (streq(c->entries[i].id, id))
                        return &c->entries[i];
        return NULL;
}

int vpc_cache_add(struct vpc_cache *c, const struct api_vpc *vpc) {
        struct vpc_cache_entry *e;

        if (GREEDY_REALLOC(c->entries, c->cap, c->n + 1) < 0)
                return -ENOMEM;
        e = &c->entries[c->n++];
        *e = (struct vpc_cache_entry) { .range = vpc->ip_range };
        snprintf(e->id, sizeof e->id, "%s", vpc->id);
        snprintf(e->name, sizeof e->name, "%s", vpc->name);
        return 0;
}

bool notes_first(struct notes *n, const char *id, const char *what) {
        for (size_t i = 0; i < n->n; i++)
                if (streq(n->entries[i].id, id) && streq(n->entries[i].what, what)) {
                        n->entries[i].used = true;
                        return false;
                }
        if (GREEDY_REALLOC(n->entries, n->cap, n->n + 1) >= 0) {
                struct noted *e = &n->entries[n->n++];
                snprintf(e->id, sizeof e->id, "%s", id);
                snprintf(e->what, sizeof e->what, "%s", what);
                e->used = true;
        }
        return true;
}

/* Keeps the items of an array whose "used" flag (at used_offset) is set, clearing it; returns
 * how many are left. */
static size_t sweep(void *array, size_t n, size_t size, size_t used_offset) {
        char *a = array;
        size_t kept = 0;

        for (size_t i = 0; i < n; i++) {
                bool *used = (bool *) (a + i * size + used_offset);
                if (!*used)
                        continue;
                *used = false;
                if (kept != i)
                        memcpy(a + kept * size, a + i * size, size);
                kept++;
        }
        return kept;
}

void api_memory_sweep(struct vpc_cache *c, struct notes *n) {
        c->n = sweep(c->entries, c->n, sizeof *c->entries, offsetof(struct vpc_cache_entry, used));
        n->n = sweep(n->entries, n->n, sizeof *n->entries, offsetof(struct noted, used));
}

void api_memory_free(struct vpc_cache *c, struct notes *n) {
        free(c->entries);
        free(n->entries);
        *c = (struct vpc_cache) {};
        *n = (struct notes) {};
}
