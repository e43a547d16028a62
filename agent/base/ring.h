/* SPDX-License-Identifier: MIT */
/* The one ring buffer: which slots of an array of cap items (the caller's, of any type) hold
 * the n newest, oldest first. A zeroed struct ring is an empty ring. */
#pragma once

#include <assert.h>
#include <stddef.h>

struct ring {
        size_t head; /* the oldest item's slot */
        size_t n;
};

/* The slot of the i-th oldest item (i < n). */
static inline size_t ring_slot(const struct ring *r, size_t cap, size_t i) {
        assert(cap > 0);
        return (r->head + i) % cap;
}

/* The slot for a new item; when the ring is full, the oldest one's, which it forgets. */
static inline size_t ring_push(struct ring *r, size_t cap) {
        size_t i;

        assert(cap > 0);
        if (r->n < cap)
                return ring_slot(r, cap, r->n++);
        i = r->head;
        r->head = (r->head + 1) % cap;
        return i;
}

/* Forgets the oldest item (n > 0). */
static inline void ring_drop_oldest(struct ring *r, size_t cap) {
        assert(cap > 0);
        r->head = (r->head + 1) % cap;
        r->n--;
}
