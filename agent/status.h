/* SPDX-License-Identifier: MIT */
/* Presenting a reconcile to humans and scripts: `status`, `status --json`, `sync --dry-run`. */
#pragma once

#include <stdio.h>

#include "config.h"
#include "reconcile.h"
#include "state.h"

/* The per-destination state words used in text and JSON: installed, missing, differs, stale,
 * present, conflict. */
const char *status_state_word(enum plan_kind k);

void status_print_plan(FILE *f, const struct plan *p);
/* daemon: what the running service last published (its state file), or NULL. */
void status_print_text(FILE *f, const struct config *c, const struct reconcile *rc, const struct state_summary *daemon);
int status_print_json(FILE *f, const struct config *c, const struct reconcile *rc, const struct state_summary *daemon);
