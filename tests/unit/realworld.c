/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realworld.h"
#include "util.h"

bool str_starts_with(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_ends_with(const char *s, const char *suffix) {
        size_t l = strlen(s), k = strlen(suffix);
        return l >= k && streq(s + l - k, suffix);
}

const struct capture *captures_find(const struct captures *cs, const char *name) {
        for (size_t i = 0; i < cs->n; i++)
                if (streq(cs->c[i].name, name))
                        return &cs->c[i];
        return NULL;
}

static void load_dir(struct captures *cs, const char *dir, const char *prefix, bool (*want)(const char *name),
                     char *(*wrap)(const char *name, const char *text)) {
        struct dirent **list = NULL;
        int n = scandir(dir, &list, NULL, alphasort);

        for (int i = 0; i < n; i++) {
                const char *file = list[i]->d_name;
                char path[1024], *text = NULL, *name = NULL, *wrapped;
                const struct capture *same;
                size_t size = 0;

                if (!want(file))
                        goto next;
                snprintf(path, sizeof path, "%s/%s", dir, file);
                if (read_full_file(path, 64 << 20, &text, &size) < 0)
                        abort();
                if (wrap && (wrapped = wrap(file, text))) {
                        free(text);
                        text = wrapped;
                        size = strlen(text);
                }
                same = captures_find(cs, file);
                if (same && same->size == size && memcmp(same->text, text, size) == 0) {
                        free(text);
                        goto next;
                }
                if ((same ? asprintf(&name, "%s/%s", prefix, file) : asprintf(&name, "%s", file)) < 0)
                        abort();
                if (GREEDY_REALLOC(cs->c, cs->cap, cs->n + 1) < 0)
                        abort();
                cs->c[cs->n++] = (struct capture) { .name = name, .file = strdup(file), .text = text, .size = size };
                if (!cs->c[cs->n - 1].file)
                        abort();
        next:
                free(list[i]);
        }
        free(list);
}

void captures_load(struct captures *cs, bool (*want)(const char *name), char *(*wrap)(const char *name, const char *text)) {
        const char *extra = getenv("VPR_REALWORLD_DIR");

        load_dir(cs, REALWORLD_COPY, "fixtures", want, wrap);
        load_dir(cs, REALWORLD_SHARED, "shared", want, wrap);
        if (extra && *extra)
                load_dir(cs, extra, "extra", want, wrap);
}

void captures_free(struct captures *cs) {
        for (size_t i = 0; i < cs->n; i++) {
                free(cs->c[i].name);
                free(cs->c[i].file);
                free(cs->c[i].text);
        }
        free(cs->c);
        *cs = (struct captures) {};
}
