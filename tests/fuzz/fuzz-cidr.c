/* SPDX-License-Identifier: MIT */
/* libFuzzer: the text parsers for addresses, networks, MACs, durations and numbers, with
 * round trips: what parses prints back to text that parses to the same value. */
#include "metadata_parse.h"
#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1), buf[CIDR_STRLEN], mbuf[MAC_STRLEN];
        struct cidr c, c2;
        uint32_t a, a2;
        uint8_t mac[6], mac2[6];
        uint64_t u;

        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        if (ipv4_parse(s, &a) >= 0) {
                if (ipv4_parse(ipv4_to_string(a, buf), &a2) < 0 || a != a2 || strcmp(buf, s) != 0)
                        __builtin_trap();
        }
        if (cidr_parse(s, &c) >= 0) {
                if (cidr_parse(cidr_to_string(&c, buf), &c2) < 0 || c.addr != c2.addr || c.len != c2.len)
                        __builtin_trap();
                (void) cidr_check(&c, false);
                (void) cidr_check(&c, true);
        }
        if (mac_parse(s, mac) >= 0) {
                if (mac_parse(mac_to_string(mac, mbuf), mac2) < 0 || memcmp(mac, mac2, 6) != 0)
                        __builtin_trap();
        }
        (void) parse_duration_usec(s, &u);
        (void) safe_atou64(s, 0, UINT64_MAX, &u);
        (void) netmask_to_prefix(size >= 4 ? (uint32_t) data[0] << 24 | (uint32_t) data[1] << 16 | (uint32_t) data[2] << 8 | data[3] : 0);
        free(s);
        return 0;
}
