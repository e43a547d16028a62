/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes sync` with something done between planning and applying, for the fault
 * tests:
 *   sync-hooked CONFIG pause DIR         creates DIR/planned once the plan is made, waits (at
 *                                        most 20 s) for DIR/go, then applies: the test changes
 *                                        the world in between
 *   sync-hooked CONFIG fail-send N ERRNO the Nth netlink request of the apply fails with ERRNO
 *                                        (e.g. 105, ENOBUFS) instead of leaving
 * and exits with sync's status. */
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "http.h"
#include "log.h"
#include "kernel.h"

struct hook {
        const char *dir;
        unsigned nth;
        int error;
};

static void pause_here(struct kernel_ctx *nl, void *userdata) {
        const struct hook *h = userdata;
        char planned[PATH_MAX], go[PATH_MAX];
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        FILE *f;

        (void) nl;
        snprintf(planned, sizeof planned, "%s/planned", h->dir);
        snprintf(go, sizeof go, "%s/go", h->dir);
        f = fopen(planned, "w");
        if (f)
                fclose(f);
        for (int i = 0; i < 2000 && access(go, F_OK) < 0; i++)
                nanosleep(&ts, NULL);
}

static void fail_send(struct kernel_ctx *nl, void *userdata) {
        const struct hook *h = userdata;
        kernel_ctx_fail_send(nl, h->nth, -h->error);
}

int main(int argc, char *argv[]) {
        struct config *c = NULL;
        struct hook h = {};
        struct command_hooks hooks = { .userdata = &h };
        struct error err = {0};
        uint64_t nth = 0, error = 0;
        int r;

        if (argc == 4 && streq(argv[2], "pause")) {
                h.dir = argv[3];
                hooks.before_apply = pause_here;
        } else if (argc == 5 && streq(argv[2], "fail-send") && safe_atou64(argv[3], 1, 1000000, &nth) >= 0 &&
                   safe_atou64(argv[4], 1, 4095, &error) >= 0) {
                h.nth = (unsigned) nth;
                h.error = (int) error;
                hooks.before_apply = fail_send;
        } else {
                fprintf(stderr, "usage: sync-hooked CONFIG pause DIR | sync-hooked CONFIG fail-send N ERRNO\n");
                return EXIT_USAGE;
        }
        log_setup(LOG_TARGET_STDERR);
        if (config_load_full(argv[1], true, NULL, &c, &err) < 0) {
                log_error("%s", err.msg);
                return EXIT_USAGE;
        }
        if (http_global_init() < 0)
                return EXIT_FAILED;
        r = command_sync(c, &(struct sync_options) {}, &hooks);
        config_free(c);
        return r;
}
