/* SPDX-License-Identifier: MIT */
/* libFuzzer: GET /v2/vpcs/{id}/peerings pages. */
#include "api_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct api_peerings_page page = {};
        char err[API_ERR_MAX];

        if (api_parse_peerings_page((const char *) data, size, &page, err, sizeof err) >= 0) {
                for (size_t i = 0; i < page.n; i++)
                        if (!uuid_valid(page.peerings[i].id) || !uuid_valid(page.peerings[i].vpc_ids[0]) ||
                            !uuid_valid(page.peerings[i].vpc_ids[1]))
                                __builtin_trap();
                api_peerings_page_done(&page);
        }
        return 0;
}
