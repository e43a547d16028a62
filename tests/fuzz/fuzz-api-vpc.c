/* SPDX-License-Identifier: MIT */
/* libFuzzer: GET /v2/vpcs/{id} answers. */
#include "api_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct api_vpc vpc;
        struct error err = {0};

        if (api_parse_vpc((const char *) data, size, &vpc, &err) >= 0 &&
            (vpc.ip_range.addr & ~prefix_to_mask(vpc.ip_range.len)) != 0)
                __builtin_trap(); /* a range with host bits set must never come out */
        return 0;
}
