/* SPDX-License-Identifier: MIT */
/* HTTP GET over libcurl's multi interface, driven by sd-event, so that a slow server never
 * blocks the daemon's loop (netlink healing and the watchdog keep running during a fetch).
 * Nothing of libcurl leaves http.c. */
#pragma once

#include <systemd/sd-event.h>

#include "util.h"


struct http_request {
        const char *url;
        uint64_t connect_timeout_usec;
        uint64_t timeout_usec;
        size_t max_size;            /* a larger body aborts the transfer */
        const char *bearer_token;   /* sent as "Authorization: Bearer …" when set; never logged */
        const char *ca_file;        /* certificate authorities for https; NULL: the system's */
        /* Response headers the caller reads: names without the colon, NULL-terminated, at most
         * HTTP_HEADERS_MAX; the array must live until the request is done. */
        const char *const *headers;
};

#define HTTP_HEADERS_MAX 8

struct http_response {
        int error;                  /* 0 when an HTTP answer arrived (any status), else -errno */
        struct error err;           /* why, in words, when error != 0 */
        long status;
        char *body;                 /* NUL-terminated for convenience; size excludes the NUL */
        size_t size;
        char *headers[HTTP_HEADERS_MAX]; /* the values of the request's headers, in its order;
                                          * NULL when absent */
        uint64_t duration_usec;
};

struct http_client;

/* A Retry-After value (len bytes, spaces around it ignored): delay-seconds, or an HTTP-date read
 * against now_sec (Unix seconds; a date in the past is 0). -1 when it is neither (or v is NULL). */
int64_t http_retry_after_parse(const char *v, size_t len, int64_t now_sec);
/* A header's value as a whole non-negative decimal number; -1 when it is not one (or NULL). */
int64_t http_header_int(const char *v);

/* Called once per request, from the event loop. The response and its body belong to the client
 * and are freed after the callback returns; take resp->body (TAKE_PTR) to keep it. */
typedef void (*http_done_fn)(struct http_response *resp, void *userdata);

int http_client_new(sd_event *e, struct http_client **ret);
/* Aborts pending transfers without calling their callbacks. */
struct http_client *http_client_free(struct http_client *c);
static inline void http_client_freep(struct http_client **c) {
        if (*c)
                http_client_free(*c);
}
#define _cleanup_http_client_ _cleanup_(http_client_freep)

/* destroy (may be NULL) frees userdata when the transfer is cancelled before done is called;
 * once done runs, userdata is the callback's business. */
int http_get(struct http_client *c, const struct http_request *req, http_done_fn done, void *userdata,
             void (*destroy)(void *userdata));
/* Aborts every pending transfer without callbacks (used when a new round supersedes one). */
void http_cancel_all(struct http_client *c);

/* One GET on a private event loop, for one-shot commands. */
int http_get_blocking(const struct http_request *req, struct http_response *ret);

void http_response_done(struct http_response *r);

/* Global libcurl setup; call once at start. */
int http_global_init(void);
