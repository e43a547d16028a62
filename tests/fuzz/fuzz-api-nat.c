/* SPDX-License-Identifier: MIT */
/* libFuzzer: GET /v2/vpc_nat_gateways answers. */
#include "api_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct api_nat_page page = {};
        struct error err = {0};

        if (api_parse_nat_page((const char *) data, size, "5a4981aa-9653-4bd1-bef5-d6bff52042e4", &page, &err) < 0) {
                if (!err.msg[0])
                        __builtin_trap(); /* a failure must always say why */
                return 0;
        }
        for (size_t i = 0; i < page.n; i++)
                if (page.gateways[i].gateway_ip && !page.gateways[i].serves_own_vpc)
                        __builtin_trap(); /* an address is only ever read for the droplet's VPC */
        api_nat_page_done(&page);
        return 0;
}
