/* SPDX-License-Identifier: MIT */
/* What an API round's error code means: its kind (for the metrics) and whether it may pass by
 * itself (for the log's tone and the retry). */
#include "api_round.h"

enum api_error_kind api_error_kind(int error) {
        switch (error) {
        case -EBUSY:
        case -EAGAIN:
                return API_ERROR_RATE_LIMIT;
        case -EACCES:
                return API_ERROR_TOKEN;
        case -EREMOTEIO:
                return API_ERROR_HTTP;
        case -EBADMSG:
        case -EINVAL:
        case -ENOENT:
        case -EADDRNOTAVAIL:
        case -EFBIG:
        case -ENXIO:
        case -E2BIG:
        case -ERANGE:
        case -EMSGSIZE:
        case -ELOOP:
                return API_ERROR_ANSWER;
        default:
                return API_ERROR_NETWORK;
        }
}

const char *api_error_kind_to_string(enum api_error_kind k) {
        static const char *const names[_API_ERROR_KIND_MAX] = {
                [API_ERROR_NETWORK] = "network", [API_ERROR_RATE_LIMIT] = "rate_limit", [API_ERROR_TOKEN] = "token",
                [API_ERROR_HTTP] = "http",       [API_ERROR_ANSWER] = "answer",
        };
        return k < _API_ERROR_KIND_MAX ? names[k] : "network";
}

bool api_error_is_transient(int error) {
        switch (error) {
        case -ETIMEDOUT:
        case -ECONNREFUSED:
        case -EHOSTUNREACH:
        case -EPROTO:     /* the connection broke */
        case -EBUSY:      /* 429 */
        case -EAGAIN:     /* our own request budget */
        case -EREMOTEIO:  /* 5xx, 404 of a VPC deleted meanwhile */
        case -EBADMSG:    /* meta.total changed between pages */
        case -EIO:
                return true;
        default:
                return false;
        }
}
