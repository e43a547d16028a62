/* SPDX-License-Identifier: MIT */
/* The heal backoff: own routes another program keeps removing. Healing at once is right for a
 * route that someone removed once (a network manager's restart, an admin's typo); against a program that removes it
 * again at every turn it is a fight that burns CPU forever. So each destination gets a pause
 * before its re-add, 10 ms after the second removal and doubling up to 60 s while the removals
 * go on; once a re-added route stays in place long enough, it is healed at once again. Pure:
 * the caller gives the time (CLOCK_MONOTONIC usec) and does the logging. */
#pragma once

#include "route.h"

#define FIGHT_FIRST_PAUSE_USEC (10 * 1000ULL)
#define FIGHT_MAX_PAUSE_USEC (60 * 1000000ULL)
/* A re-added route that stays this long (or twice its pause, if longer) ends the fight. A
 * program that fights reacts to the re-add within milliseconds (an event monitor, a tight loop);
 * one that removes the route later than this only sets the pace of the re-adds, never a hot loop. */
#define FIGHT_QUIET_USEC (50 * 1000ULL)
/* Removals in a row after which the fight is worth a warning. */
#define FIGHT_WARN_REMOVALS 5

struct fight {
        struct route key;           /* destination, prefix length, table */
        unsigned removals;          /* in a row, each soon after the re-add before it */
        uint64_t started;           /* the first of them */
        uint64_t readded;           /* our last re-add */
        uint64_t pause;             /* before the next re-add */
        uint64_t not_before;        /* readded ... removed + pause */
        bool warned;
};

struct heal_backoff {
        struct fight *list;
        size_t n, cap;
};

void heal_backoff_done(struct heal_backoff *f);

enum fight_news {
        FIGHT_NONE,
        FIGHT_STARTS,               /* this removal made it a fight worth a warning */
        FIGHT_ENDED,                /* the route had stayed: healing at once again */
};
/* Another program removed the own route r at now. *ret (may be NULL) is its fight. */
enum fight_news heal_backoff_removed(struct heal_backoff *f, const struct route *r, uint64_t now, const struct fight **ret);
/* Must the re-add of r wait? Then *ret_not_before says until when. */
bool heal_backoff_defer(const struct heal_backoff *f, const struct route *r, uint64_t now, uint64_t *ret_not_before);
/* The agent re-added r at now. */
void heal_backoff_readded(struct heal_backoff *f, const struct route *r, uint64_t now);
/* Is this destination being fought over at now: removed more than once, and not back in place
 * long enough to call it quiet? */
bool heal_fight_ongoing(const struct fight *x, uint64_t now);
