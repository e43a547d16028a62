/* SPDX-License-Identifier: MIT */
/* URL schemes and origins: the checks that decide where the API token may be sent. */
#include <ctype.h>
#include <strings.h>

#include "url.h"

enum url_scheme url_scheme(const char *url) {
        if (strncasecmp(url, "https://", 8) == 0)
                return URL_SCHEME_HTTPS;
        if (strncasecmp(url, "http://", 7) == 0)
                return URL_SCHEME_HTTP;
        return URL_SCHEME_OTHER;
}

/* scheme://host[:port], then the end, '/', '?' or '#'. Strict on purpose: anything a URL parser
 * might read differently (userinfo, backslashes, percent escapes, spaces) is no origin at all, so
 * the token is never sent where a trick of syntax points. libcurl's URL API would do the same
 * work, but only from 7.62 on. */
struct origin {
        bool https;
        char host[256];
        unsigned port;
};

static bool host_char(char c, bool bracketed) {
        if (bracketed)
                return isxdigit((unsigned char) c) || c == ':' || c == '.';
        return isalnum((unsigned char) c) || c == '.' || c == '-';
}

static int origin_of(const char *url, struct origin *ret) {
        struct origin o = {};
        const char *p, *end, *host, *host_end;
        bool bracketed;
        size_t len;

        switch (url_scheme(url)) {
        case URL_SCHEME_HTTPS:
                o.https = true;
                o.port = 443;
                p = url + strlen("https://");
                break;
        case URL_SCHEME_HTTP:
                o.port = 80;
                p = url + strlen("http://");
                break;
        default:
                return -EINVAL;
        }
        end = p + strcspn(p, "/?#");
        bracketed = *p == '[';
        host = p + bracketed;
        host_end = host;
        while (host_end < end && host_char(*host_end, bracketed))
                host_end++;
        len = (size_t) (host_end - host);
        if (len == 0 || len >= sizeof o.host)
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                o.host[i] = (char) tolower((unsigned char) host[i]);
        if (bracketed) {
                if (host_end == end || *host_end != ']')
                        return -EINVAL;
                host_end++;
        }
        if (host_end < end) {
                char digits[6] = "";
                uint64_t port;
                size_t n = (size_t) (end - host_end - 1);

                /* Only ":port" may follow the host: "@", "\\", "%" and the like end up here. */
                if (*host_end != ':' || n == 0 || n >= sizeof digits)
                        return -EINVAL;
                memcpy(digits, host_end + 1, n);
                if (safe_atou64(digits, 1, 65535, &port) < 0)
                        return -EINVAL;
                o.port = (unsigned) port;
        }
        *ret = o;
        return 0;
}

bool url_same_origin(const char *a, const char *b) {
        struct origin x, y;

        return origin_of(a, &x) >= 0 && origin_of(b, &y) >= 0 && x.https == y.https && streq(x.host, y.host) &&
               x.port == y.port;
}
