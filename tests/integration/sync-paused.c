/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes sync` with a pause between planning and applying, for the fault tests:
 *   sync-paused CONFIG DIR
 * creates DIR/planned once the plan is made, waits (at most 20 s) for DIR/go, then applies, and
 * exits with sync's status. The test changes the world in between. */
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "http.h"
#include "log.h"

static void pause_here(void *userdata) {
        const char *dir = userdata;
        char planned[PATH_MAX], go[PATH_MAX];
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        FILE *f;

        snprintf(planned, sizeof planned, "%s/planned", dir);
        snprintf(go, sizeof go, "%s/go", dir);
        f = fopen(planned, "w");
        if (f)
                fclose(f);
        for (int i = 0; i < 2000 && access(go, F_OK) < 0; i++)
                nanosleep(&ts, NULL);
}

int main(int argc, char *argv[]) {
        struct config *c = NULL;
        struct command_hooks hooks = { .before_apply = pause_here };
        char err[CONFIG_ERR_MAX + PATH_MAX];
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: sync-paused CONFIG DIR\n");
                return EXIT_USAGE;
        }
        hooks.userdata = argv[2];
        log_setup(LOG_TARGET_STDERR);
        if (config_load_full(argv[1], true, NULL, &c, err, sizeof err) < 0) {
                log_error("%s", err);
                return EXIT_USAGE;
        }
        if (http_global_init() < 0)
                return EXIT_FAILED;
        r = command_sync(c, false, &hooks);
        config_free(c);
        return r;
}
