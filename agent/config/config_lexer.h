/* SPDX-License-Identifier: MIT */
/* The text of the config file and of a routes file: lines, '#' comments, "key = value". Pure. */
#pragma once

#include "util.h"

/* Calls fn for each line of text that is not blank once its '#' comment is cut, with the line
 * stripped of surrounding blanks and its 1-based number. Text holding a NUL byte is refused
 * (err names path). fn's negative return stops the walk and is returned. */
int config_lexer_lines(const char *text, size_t size, const char *path, int (*fn)(char *line, unsigned lineno, void *userdata),
                       void *userdata, struct error *err);

/* Splits "key = value" in place at the first '='; both sides stripped. -EINVAL without '='. */
int config_lexer_key_value(char *line, char **ret_key, char **ret_value);
