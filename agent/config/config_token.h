/* SPDX-License-Identifier: MIT */
/* The DigitalOcean API token of source = api: from the systemd credential or api_token_file. */
#pragma once

#include "config.h"

/* Reads the token into c->api_token. The credential $CREDENTIALS_DIRECTORY/do-api-token wins
 * over api_token_file; a regular file readable or writable by group or others is refused. The
 * token's text never appears in any message: errors speak of the file. */
int config_load_api_token(struct config *c, struct error *err);
