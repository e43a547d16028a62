/* SPDX-License-Identifier: MIT */
/* URL schemes and origins, pure: where the API token may go. */
#pragma once

#include "util.h"

enum url_scheme {
        URL_SCHEME_OTHER,
        URL_SCHEME_HTTP,
        URL_SCHEME_HTTPS,
};

/* By its prefix, case-insensitively. */
enum url_scheme url_scheme(const char *url);

/* Same scheme, host and port (default ports filled in)? False when either does not parse. */
bool url_same_origin(const char *a, const char *b);
