/* SPDX-License-Identifier: MIT */
/* The metadata request: plain HTTP to the link-local service, short timeouts, capped body. */
#include "metadata_fetch.h"

void metadata_fetch_request(const struct config *c, struct http_request *ret) {
        *ret = (struct http_request) {
                .url = c->metadata_url,
                .connect_timeout_usec = c->connect_timeout_usec,
                .timeout_usec = c->timeout_usec,
                .max_size = (size_t) c->metadata_max_size,
        };
}

int metadata_fetch_check(const struct config *c, const struct http_response *resp, struct error *err) {
        if (resp->error < 0) {
                error_set(err, "could not fetch %s: %s", c->metadata_url, resp->err.msg);
                return resp->error;
        }
        if (resp->status != 200) {
                error_set(err, "%s answered HTTP %ld, expected 200", c->metadata_url, resp->status);
                return -EREMOTEIO;
        }
        return 0;
}

int metadata_fetch_blocking(const struct config *c, char **ret_body, size_t *ret_size, uint64_t *ret_duration_usec,
                            struct error *err) {
        struct http_request req;
        struct http_response resp;
        int r;

        metadata_fetch_request(c, &req);
        r = http_get_blocking(&req, &resp);
        if (r < 0) {
                error_set(err, "could not fetch %s: %s", c->metadata_url, strerror(-r));
                return r;
        }
        if (ret_duration_usec)
                *ret_duration_usec = resp.duration_usec;
        r = metadata_fetch_check(c, &resp, err);
        if (r < 0) {
                http_response_done(&resp);
                return r;
        }
        *ret_body = TAKE_PTR(resp.body);
        *ret_size = resp.size;
        return 0;
}
