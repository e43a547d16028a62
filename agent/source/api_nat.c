/* SPDX-License-Identifier: MIT */
/* The API round's last step when nat_gateway is on: does the droplet's VPC have an ACTIVE NAT
 * gateway for egress? GET /v2/vpc_nat_gateways (scope nat_gateway:read), every page. With
 * nat_gateway = vpc any ACTIVE gateway serving the VPC will do (the API does not say which one is
 * the VPC's default); with an address, the ACTIVE one whose gateway_ip in the VPC it is. */
#include "api_round_internal.h"

#define NAT_PER_PAGE 200

void api_nat_start(struct api_client *a) {
        char *url;

        a->step = STEP_NAT;
        a->pages = 0;
        if (asprintf(&url, "%s/v2/vpc_nat_gateways?per_page=%d", a->base, NAT_PER_PAGE) < 0) {
                api_round_fail(a, -ENOMEM, "API: out of memory");
                return;
        }
        api_round_get(a, url);
}

static bool wanted(const struct api_client *a, const struct api_nat_gateway *g) {
        return g->active && g->serves_own_vpc && (a->nat_mode == NAT_VPC || g->gateway_ip == a->nat_address);
}

void api_nat_handle(struct api_client *a, const char *body, size_t size) {
        struct api_nat_page page = {};
        struct error err = {};
        int r;

        r = api_parse_nat_page(body, size, a->own_vpc, &page, &err);
        if (r < 0) {
                api_round_fail(a, r, "API: GET %s: %s", api_round_path(a, a->url), err.msg);
                return;
        }
        for (size_t i = 0; i < page.n && !a->nat_found; i++)
                if (wanted(a, &page.gateways[i])) {
                        a->nat = page.gateways[i];
                        a->nat_found = true;
                }
        if (page.next && !a->nat_found) {
                char *next = TAKE_PTR(page.next);
                api_nat_page_done(&page);
                (void) api_round_follow(a, next, "NAT gateways");
                return;
        }
        api_nat_page_done(&page);
        api_round_succeed(a);
}
