/* SPDX-License-Identifier: MIT */
/* Lines, comments and "key = value" pairs of the config and routes files. */
#include "config_lexer.h"

int config_lexer_lines(const char *text, size_t size, const char *path, int (*fn)(char *line, unsigned lineno, void *userdata),
                       void *userdata, struct error *err) {
        unsigned lineno = 0;
        size_t pos = 0;

        if (memchr(text, '\0', size)) {
                error_set(err, "%s: contains a NUL byte; not a text file", path);
                return -EINVAL;
        }
        while (pos < size) {
                const char *nl = memchr(text + pos, '\n', size - pos);
                size_t len = nl ? (size_t) (nl - (text + pos)) : size - pos;
                _cleanup_free_ char *line = strndup(text + pos, len);
                char *s, *hash;
                int r;

                if (!line)
                        return -ENOMEM;
                lineno++;
                pos += len + 1;
                hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                s = str_strip(line);
                if (!*s)
                        continue;
                r = fn(s, lineno, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_lexer_key_value(char *line, char **ret_key, char **ret_value) {
        char *eq = strchr(line, '=');

        if (!eq)
                return -EINVAL;
        *eq = '\0';
        *ret_key = str_strip(line);
        *ret_value = str_strip(eq + 1);
        return 0;
}
