/* SPDX-License-Identifier: MIT */
/* libFuzzer: GET /v2/droplets/{id} answers. */
#include "api_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char uuid[UUID_STRLEN];
        struct error err = {0};

        /* A UUID, or "" for a droplet in no VPC. */
        if (api_parse_droplet((const char *) data, size, uuid, &err) >= 0 && uuid[0] && !uuid_valid(uuid))
                __builtin_trap();
        return 0;
}
