/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes check-config`: the config parsed and checked as every command loads it (main.c
 * exits 2 with file:line before this runs when it is broken); this prints the effective one. */
#include "commands.h"

int command_check_config(const struct config *c, bool quiet) {
        if (quiet)
                return EXIT_OK;
        printf("# %s is valid; the effective configuration:\n", c->path ? c->path : "no config file: the defaults");
        config_print(stdout, c);
        return EXIT_OK;
}
