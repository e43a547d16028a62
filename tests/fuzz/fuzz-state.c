/* SPDX-License-Identifier: MIT */
/* libFuzzer: the daemon's state file as `status` reads it. */
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct state_summary s;
        struct error err = {0};

        (void) state_parse((const char *) data, size, &s, &err);
        return 0;
}
