/* SPDX-License-Identifier: MIT */
/* libFuzzer: the config file and the routes file. finalize runs only where it reads no file. */
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct config *c = NULL;
        struct cidr *list = NULL;
        struct error err = {0};
        size_t n;

        if (config_new_default(&c) < 0)
                return 0;
        if (config_parse_text(c, (const char *) data, size, "fuzz.conf", &err) >= 0 && !c->routes_file &&
            c->source == SOURCE_METADATA)
                (void) config_finalize(c, &err);
        config_free(c);

        if (config_parse_routes_text((const char *) data, size, "fuzz.routes", &list, &n, &err) >= 0)
                for (size_t i = 0; i < n; i++)
                        if ((list[i].addr & ~prefix_to_mask(list[i].len)) != 0 || list[i].len > 32)
                                __builtin_trap();
        free(list);
        return 0;
}
