/* SPDX-License-Identifier: MIT */
/* sd-event helpers for what libsystemd offers only in versions newer than the oldest the agent
 * supports (systemd 239, RHEL 8). */
#pragma once

#include <systemd/sd-event.h>

/* sd_event_source_disable_unref() exists from systemd 246 on. NULL is fine. */
static inline sd_event_source *event_source_disable_unref(sd_event_source *s) {
        if (s) {
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                sd_event_source_unref(s);
        }
        return NULL;
}
