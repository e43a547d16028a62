/* SPDX-License-Identifier: MIT */
/* libFuzzer: GET /v2/vpcs/{id}/peerings pages. */
#include "api_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct api_peerings_page page = {};
        struct error err = {0};

        if (api_parse_peerings_page((const char *) data, size, &page, &err) >= 0) {
                /* One VPC id or two (godo's answers name one), each a UUID. */
                for (size_t i = 0; i < page.n; i++) {
                        const struct api_peering *p = &page.peerings[i];
                        if (!uuid_valid(p->id) || !uuid_valid(p->vpc_ids[0]) || p->n_vpc_ids < 1 || p->n_vpc_ids > 2 ||
                            (p->n_vpc_ids == 2 ? !uuid_valid(p->vpc_ids[1]) : p->vpc_ids[1][0] != '\0'))
                                __builtin_trap();
                }
                api_peerings_page_done(&page);
        }
        return 0;
}
