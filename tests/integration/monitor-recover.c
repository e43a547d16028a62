/* SPDX-License-Identifier: MIT */
/* The kernel event monitor outlives a failing socket. Run as root inside a network namespace
 * made for it (tests/integration/monitor.sh):
 *   monitor-recover
 * Checks that the event socket got a receive buffer beyond rmem_max, that a read error makes the
 * monitor open a new socket and ask for a full re-read (an OVERFLOW event), and that route
 * events arrive again afterwards. Prints one line per finding; exits 0 when all hold. */
#include <stdlib.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "kernel.h"

struct seen {
        unsigned overflows;
        unsigned routes_after;    /* events for 10.251.0.0/24, added after the failure */
};

static void on_event(const struct kernel_event *ev, void *userdata) {
        struct seen *s = userdata;

        if (ev->kind == KERNEL_EVENT_OVERFLOW)
                s->overflows++;
        if (ev->kind == KERNEL_EVENT_ROUTE && !ev->removed && ev->route.dst == 0x0afb0000u && ev->route.dst_len == 24)
                s->routes_after++;
}

/* Runs the loop until cond holds or about two seconds pass. */
static bool run_until(sd_event *e, const unsigned *counter) {
        for (int i = 0; i < 200 && *counter == 0; i++)
                if (sd_event_run(e, 10 * 1000ULL) < 0)
                        return false;
        return *counter > 0;
}

int main(void) {
        sd_event *e = NULL;
        struct kernel_monitor *m = NULL;
        struct seen s = {};
        int rcvbuf, ok = 1;

        log_setup(LOG_TARGET_STDERR);
        if (sd_event_new(&e) < 0 || kernel_monitor_new(e, NULL, on_event, &s, &m) < 0) {
                fprintf(stderr, "could not set up the monitor\n");
                return 2;
        }

        rcvbuf = kernel_monitor_rcvbuf(m);
        printf("receive buffer: %d bytes\n", rcvbuf);
        if (rcvbuf < 4 * 1024 * 1024) {
                printf("FAIL: the receive buffer is below 4 MiB (capped at rmem_max?)\n");
                ok = 0;
        }

        kernel_monitor_fail_next_recv(m, -EIO);
        if (system("ip route add 10.250.0.0/24 dev lo") != 0) {
                fprintf(stderr, "ip route add failed\n");
                return 2;
        }
        if (run_until(e, &s.overflows))
                printf("after the failure: the socket was opened again and a full re-read asked for\n");
        else {
                printf("FAIL: no re-read was asked for after the socket failed\n");
                ok = 0;
        }
        if (system("ip route add 10.251.0.0/24 dev lo") != 0) {
                fprintf(stderr, "ip route add failed\n");
                return 2;
        }
        if (run_until(e, &s.routes_after))
                printf("after the failure: route events arrive again\n");
        else {
                printf("FAIL: no route event arrived after the failure\n");
                ok = 0;
        }
        kernel_monitor_free(m);
        sd_event_unref(e);
        return ok ? 0 : 1;
}
