/* SPDX-License-Identifier: MIT */
/* libcurl multi interface on sd-event: curl tells us which sockets and which timer to watch
 * (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION), sd-event tells curl when they fire. */
#include <ctype.h>
#include <curl/curl.h>
#include <strings.h>
#include <time.h>

#include "event.h"
#include "http.h"
#include "log.h"

struct http_transfer {
        struct http_client *client;
        CURL *easy;
        struct curl_slist *headers;
        char *auth_header;
        http_done_fn done;
        void *userdata;
        void (*destroy)(void *userdata);
        struct http_response resp;
        const char *const *want;    /* the request's headers */
        size_t max_size;
        size_t cap;
        bool too_large;
        char curl_err[CURL_ERROR_SIZE];
        struct http_transfer *next;
};

struct http_client {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        struct http_transfer *transfers;
};

int http_global_init(void) {
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_response_done(struct http_response *r) {
        for (size_t i = 0; i < HTTP_HEADERS_MAX; i++) {
                free(r->headers[i]);
                r->headers[i] = NULL;
        }
        free(r->body);
        r->body = NULL;
        r->size = 0;
}

static void transfer_free(struct http_transfer *t) {
        if (!t)
                return;
        if (t->destroy)
                t->destroy(t->userdata);
        if (t->easy) {
                if (t->client)
                        curl_multi_remove_handle(t->client->multi, t->easy);
                curl_easy_cleanup(t->easy);
        }
        curl_slist_free_all(t->headers);
        secret_free(t->auth_header);
        http_response_done(&t->resp);
        free(t);
}

static void transfer_unlink(struct http_transfer *t) {
        struct http_client *c = t->client;
        for (struct http_transfer **p = &c->transfers; *p; p = &(*p)->next)
                if (*p == t) {
                        *p = t->next;
                        return;
                }
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        struct http_transfer *t = userdata;
        size_t n = size * nmemb;

        if (t->resp.size + n > t->max_size) {
                t->too_large = true;
                return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
        }
        if (t->resp.size + n + 1 > t->cap) {
                size_t ncap = t->cap ? t->cap : 16384;
                while (ncap < t->resp.size + n + 1)
                        ncap *= 2;
                if (ncap > t->max_size + 1)
                        ncap = t->max_size + 1;
                char *b = realloc(t->resp.body, ncap);
                if (!b)
                        return 0;
                t->resp.body = b;
                t->cap = ncap;
        }
        memcpy(t->resp.body + t->resp.size, data, n);
        t->resp.size += n;
        t->resp.body[t->resp.size] = '\0';
        return n;
}

int64_t http_header_int(const char *v) {
        uint64_t x;

        if (!v || safe_atou64(v, 0, INT64_MAX, &x) < 0)
                return -1;
        return (int64_t) x;
}

int64_t http_retry_after_parse(const char *v, size_t len, int64_t now_sec) {
        char buf[64];
        const char *s;
        int64_t x;
        time_t t;

        if (!v || len >= sizeof buf)
                return -1;
        memcpy(buf, v, len);
        buf[len] = '\0';
        s = str_strip(buf);
        x = http_header_int(s);
        if (x >= 0 || !*s)
                return x;
        /* RFC 9110 also allows an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT"). */
        t = curl_getdate(s, NULL);
        if (t < 0)
                return -1;
        return (int64_t) t > now_sec ? (int64_t) t - now_sec : 0;
}

/* Keeps the values of the headers the request named; everything else is ignored. */
static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata) {
        struct http_transfer *t = userdata;
        size_t n = size * nmemb;

        for (size_t i = 0; t->want && t->want[i] && i < HTTP_HEADERS_MAX; i++) {
                size_t l = strlen(t->want[i]);
                if (n > l && strncasecmp(data, t->want[i], l) == 0 && data[l] == ':') {
                        char *v = strndup(data + l + 1, n - l - 1);
                        if (!v)
                                return 0; /* out of memory: libcurl ends the transfer */
                        const char *value = str_strip(v);
                        memmove(v, value, strlen(value) + 1);
                        free(t->resp.headers[i]);
                        t->resp.headers[i] = v;
                }
        }
        return n;
}

static int socket_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        struct http_client *c = userp;
        sd_event_source *s = socketp;
        uint32_t events = 0;
        int r;

        (void) easy;
        if (what == CURL_POLL_REMOVE) {
                if (s) {
                        event_source_disable_unref(s);
                        curl_multi_assign(c->multi, fd, NULL);
                }
                return 0;
        }
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;

        if (s) {
                r = sd_event_source_set_io_events(s, events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s, SD_EVENT_ON);
        } else {
                r = sd_event_add_io(c->event, &s, fd, events, socket_io_cb, c);
                if (r >= 0) {
                        (void) sd_event_source_set_description(s, "curl-socket");
                        curl_multi_assign(c->multi, fd, s);
                }
        }
        if (r < 0) {
                log_error_errno(r, "Could not watch an HTTP socket: %m");
                return -1;
        }
        return 0;
}

static void finish(struct http_transfer *t, CURLcode code) {
        struct http_response *resp = &t->resp;
        curl_off_t total = 0;

        (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &resp->status);
        if (curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total) == CURLE_OK && total > 0)
                resp->duration_usec = (uint64_t) total;

        if (code == CURLE_OK)
                resp->error = 0;
        else if (t->too_large || code == CURLE_FILESIZE_EXCEEDED) {
                resp->error = -EFBIG;
                snprintf(resp->err.msg, sizeof resp->err.msg, "response is larger than %zu bytes", t->max_size);
        } else {
                const char *why = t->curl_err[0] ? t->curl_err : curl_easy_strerror(code);
                switch (code) {
                case CURLE_OPERATION_TIMEDOUT:
                        resp->error = -ETIMEDOUT;
                        break;
                case CURLE_COULDNT_CONNECT:
                        resp->error = -ECONNREFUSED;
                        break;
                case CURLE_COULDNT_RESOLVE_HOST:
                        resp->error = -EHOSTUNREACH;
                        break;
                case CURLE_PEER_FAILED_VERIFICATION:
                case CURLE_SSL_CONNECT_ERROR:
                case CURLE_SSL_CACERT_BADFILE:
                        resp->error = -EKEYREJECTED;
                        break;
                case CURLE_OUT_OF_MEMORY:
                        resp->error = -ENOMEM;
                        break;
                default:
                        resp->error = -EPROTO;
                        break;
                }
                snprintf(resp->err.msg, sizeof resp->err.msg, "%s%s", code == CURLE_OPERATION_TIMEDOUT ? "timed out: " : "",
                         why);
                /* curl's messages sometimes end in a newline */
                size_t l = strlen(resp->err.msg);
                while (l > 0 && (resp->err.msg[l - 1] == '\n' || resp->err.msg[l - 1] == '\r'))
                        resp->err.msg[--l] = '\0';
        }
        if (resp->error != 0)
                http_response_done(resp);
        else if (!resp->body) {
                resp->body = strdup("");
                if (!resp->body) {
                        resp->error = -ENOMEM;
                        snprintf(resp->err.msg, sizeof resp->err.msg, "out of memory");
                }
        }

        transfer_unlink(t);
        t->destroy = NULL; /* the callback owns userdata now */
        t->done(resp, t->userdata);
        transfer_free(t);
}

static void check_done(struct http_client *c) {
        CURLMsg *m;
        int left;

        while ((m = curl_multi_info_read(c->multi, &left))) {
                struct http_transfer *t = NULL;
                if (m->msg != CURLMSG_DONE)
                        continue;
                if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &t) != CURLE_OK || !t)
                        continue;
                finish(t, m->data.result);
        }
}

static int socket_io_cb(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct http_client *c = userdata;
        int action = 0, running;

        (void) s;
        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        (void) curl_multi_socket_action(c->multi, fd, action, &running);
        check_done(c);
        return 0;
}

static int timer_fire_cb(sd_event_source *s, uint64_t usec, void *userdata) {
        struct http_client *c = userdata;
        int running;

        (void) s;
        (void) usec;
        (void) curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        check_done(c);
        return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        struct http_client *c = userp;
        uint64_t now, when;
        int r;

        (void) multi;
        if (timeout_ms < 0) {
                if (c->timer)
                        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return 0;
        }
        r = sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                now = now_usec_monotonic();
        when = now + (uint64_t) timeout_ms * 1000ULL;

        if (c->timer) {
                r = sd_event_source_set_time(c->timer, when);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
        } else {
                /* Exact: curl asks for "now" (0 ms) at every step of a transfer, and sd-event would
                 * otherwise coalesce that with its default accuracy (250 ms; even 1 ms adds a
                 * millisecond to every fetch). */
                r = sd_event_add_time(c->event, &c->timer, CLOCK_MONOTONIC, when, 1, timer_fire_cb, c);
                if (r >= 0)
                        (void) sd_event_source_set_description(c->timer, "curl-timer");
        }
        if (r < 0) {
                log_error_errno(r, "Could not arm the HTTP timer: %m");
                return -1;
        }
        return 0;
}

int http_client_new(sd_event *e, struct http_client **ret) {
        struct http_client *c;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        c->multi = curl_multi_init();
        if (!c->multi) {
                http_client_free(c);
                return -ENOMEM;
        }
        if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK) {
                http_client_free(c);
                return -EIO;
        }
        *ret = c;
        return 0;
}

void http_cancel_all(struct http_client *c) {
        struct http_transfer *t = c->transfers;

        c->transfers = NULL;
        while (t) {
                struct http_transfer *next = t->next;
                transfer_free(t);
                t = next;
        }
}

struct http_client *http_client_free(struct http_client *c) {
        if (!c)
                return NULL;
        http_cancel_all(c);
        if (c->multi)
                curl_multi_cleanup(c->multi);
        event_source_disable_unref(c->timer);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

#define SETOPT(easy, opt, val)                                   \
        do {                                                     \
                if (curl_easy_setopt((easy), (opt), (val)) != CURLE_OK) \
                        goto fail;                               \
        } while (0)

int http_get(struct http_client *c, const struct http_request *req, http_done_fn done, void *userdata,
             void (*destroy)(void *userdata)) {
        struct http_transfer *t;
        long low_speed_time;

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->client = NULL; /* not yet in the multi handle */
        t->done = done;
        t->userdata = userdata;
        t->destroy = destroy;
        t->max_size = req->max_size;
        t->want = req->headers;

        t->easy = curl_easy_init();
        if (!t->easy)
                goto fail;

        SETOPT(t->easy, CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
        SETOPT(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
        /* Before 7.85 only the bitmask exists; since 7.85 it is deprecated (a warning). */
        SETOPT(t->easy, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        SETOPT(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
        /* Never through a proxy: http_proxy and friends must not divert requests for the
         * metadata service (or the API token) anywhere. */
        SETOPT(t->easy, CURLOPT_PROXY, "");
        SETOPT(t->easy, CURLOPT_NOPROXY, "*");
        SETOPT(t->easy, CURLOPT_NOSIGNAL, 1L);
        SETOPT(t->easy, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
        SETOPT(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long) (req->connect_timeout_usec / 1000));
        SETOPT(t->easy, CURLOPT_TIMEOUT_MS, (long) (req->timeout_usec / 1000));
        /* A server that trickles is given up on well inside the whole-transfer timeout. */
        low_speed_time = (long) (req->timeout_usec / 2000000ULL);
        SETOPT(t->easy, CURLOPT_LOW_SPEED_LIMIT, 64L);
        SETOPT(t->easy, CURLOPT_LOW_SPEED_TIME, low_speed_time < 1 ? 1L : low_speed_time);
        SETOPT(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) req->max_size);
        SETOPT(t->easy, CURLOPT_WRITEFUNCTION, write_cb);
        SETOPT(t->easy, CURLOPT_WRITEDATA, t);
        SETOPT(t->easy, CURLOPT_HEADERFUNCTION, header_cb);
        SETOPT(t->easy, CURLOPT_HEADERDATA, t);
        SETOPT(t->easy, CURLOPT_ERRORBUFFER, t->curl_err);
        SETOPT(t->easy, CURLOPT_PRIVATE, t);
        SETOPT(t->easy, CURLOPT_SSL_VERIFYPEER, 1L);
        SETOPT(t->easy, CURLOPT_SSL_VERIFYHOST, 2L);
        if (req->ca_file)
                SETOPT(t->easy, CURLOPT_CAINFO, req->ca_file);
        if (req->bearer_token) {
                if (asprintf(&t->auth_header, "Authorization: Bearer %s", req->bearer_token) < 0) {
                        t->auth_header = NULL;
                        goto fail;
                }
                t->headers = curl_slist_append(NULL, t->auth_header);
                if (!t->headers)
                        goto fail;
        }
        t->headers = curl_slist_append(t->headers, "Accept: application/json");
        if (!t->headers)
                goto fail;
        SETOPT(t->easy, CURLOPT_HTTPHEADER, t->headers);

        if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK)
                goto fail;
        t->client = c;
        t->next = c->transfers;
        c->transfers = t;
        return 0;

fail:
        t->destroy = NULL; /* on failure the caller keeps userdata */
        transfer_free(t);
        return -EIO;
}

struct blocking_state {
        sd_event *event;
        struct http_response *ret;
};

static void blocking_done(struct http_response *resp, void *userdata) {
        struct blocking_state *st = userdata;

        *st->ret = *resp;
        *resp = (struct http_response) {}; /* the body and headers are the caller's now */
        (void) sd_event_exit(st->event, 0);
}

int http_get_blocking(const struct http_request *req, struct http_response *ret) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_http_client_ struct http_client *c = NULL;
        struct blocking_state st = { .ret = ret };
        int r;

        *ret = (struct http_response) {};
        r = sd_event_new(&e);
        if (r < 0)
                return r;
        st.event = e;
        r = http_client_new(e, &c);
        if (r < 0)
                return r;
        r = http_get(c, req, blocking_done, &st, NULL);
        if (r < 0)
                return r;
        r = sd_event_loop(e);
        return r < 0 ? r : 0;
}
