/* SPDX-License-Identifier: MIT */
/* Fetching the metadata document: the request the config describes, and what counts as an answer. */
#pragma once

#include "config.h"
#include "http.h"

void metadata_fetch_request(const struct config *c, struct http_request *ret);

/* Turns a finished HTTP exchange into the body or a one-line reason (no "metadata: " prefix):
 * transport errors, a status other than 200. */
int metadata_fetch_check(const struct config *c, const struct http_response *resp, struct error *err);

/* One blocking fetch for one-shot commands. On success *ret_body (NUL-terminated) is the caller's. */
int metadata_fetch_blocking(const struct config *c, char **ret_body, size_t *ret_size, uint64_t *ret_duration_usec,
                            struct error *err);
