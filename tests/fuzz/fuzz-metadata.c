/* SPDX-License-Identifier: MIT */
/* libFuzzer: the metadata document parser. */
#include "metadata_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct metadata m;
        struct error err = {0};

                if (metadata_parse((const char *) data, size, &m, &err) < 0) {
                if (!err.msg[0])
                        __builtin_trap(); /* a failure must always say why */
                return 0;
        }
        if (metadata_resolve_gateway(&m, 0, &err) < 0 && !err.msg[0])
                __builtin_trap();
        return 0;
}
