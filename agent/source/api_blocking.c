/* SPDX-License-Identifier: MIT */
/* One API round on a private event loop, for the one-shot commands (sync, doctor). */
#include "api_round.h"

struct blocking_round {
        sd_event *event;
        int error;
        struct error *err;
        struct api_peers *ret;
};

static void blocking_done(int error, const struct error *err, struct api_peers *peers, void *userdata) {
        struct blocking_round *b = userdata;

        b->error = error;
        if (error < 0)
                error_set(b->err, "%s", err->msg);
        else {
                *b->ret = *peers;
                *peers = (struct api_peers) {};
        }
        (void) sd_event_exit(b->event, 0);
}

int api_round_blocking(const struct config *c, const struct api_target *t, const char *known_vpc, struct api_peers *ret,
                       uint64_t *ret_retry_after, struct error *err) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_http_client_ struct http_client *http = NULL;
        struct api_client *a = NULL;
        struct blocking_round b = { .err = err, .ret = ret };
        int r;

        r = sd_event_new(&e);
        if (r >= 0)
                r = http_client_new(e, &http);
        if (r >= 0)
                r = api_client_new(http, &a);
        if (r < 0) {
                error_set(err, "API: %s", strerror(-r));
                return r;
        }
        b.event = e;
        if (known_vpc && *known_vpc)
                api_client_assume_vpc(a, t, known_vpc);
        r = api_round_start(a, c, t, blocking_done, &b);
        if (r >= 0 && api_round_running(a))
                r = sd_event_loop(e);
        if (ret_retry_after)
                *ret_retry_after = api_retry_after_usec(a);
        api_client_free(a);
        if (r < 0 && b.error == 0) {
                error_set(err, "API: %s", strerror(-r));
                return r;
        }
        return b.error;
}
