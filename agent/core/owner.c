/* SPDX-License-Identifier: MIT */
/* The owner record: a two-line text file, rewritten atomically. */
#include "owner.h"
#include "route.h"

int owner_parse(const char *text, struct owner *ret) {
        unsigned protocol, table;
        char tail;

        if (sscanf(text, "protocol = %u table = %u %c", &protocol, &table, &tail) != 2 || protocol == 0 || protocol > 255 ||
            table == 0 || table == ROUTE_TABLE_LOCAL)
                return -EBADMSG;
        /* The same rule as the protocol key: a record naming the kernel's or another program's
         * number would make every route of theirs "ours from before" (static, boot, ...). */
        if (route_protocol_name((uint8_t) protocol))
                return -EPROTO;
        *ret = (struct owner) { .protocol = (uint8_t) protocol, .table = table };
        return 0;
}

int owner_read(const char *path, struct owner *ret) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file(path, 4096, &text, NULL);
        if (r < 0)
                return r;
        return owner_parse(text, ret);
}

int owner_write(const char *path, const struct owner *o) {
        char text[64];
        int n, r;

        r = mkdir_parent(path);
        if (r < 0)
                return r;
        n = snprintf(text, sizeof text, "protocol = %u\ntable = %u\n", o->protocol, o->table);
        return write_file_atomic(path, text, (size_t) n, 0644);
}
