/* SPDX-License-Identifier: MIT */
/* Loading the API token, and keeping its text out of every message and every copy left behind. */
#include <sys/stat.h>

#include "config_token.h"

int config_load_api_token(struct config *c, struct error *err) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *cred = getenv("CREDENTIALS_DIRECTORY");
        /* Root's, or the user's running this (the service's dynamic user owns its credential when
         * systemd cannot give it an ACL), and nobody else may read it. */
        struct file_trust trust = { .forbidden_mode = 077, .other_owner = getuid() };
        struct stat st = {};
        size_t size = 0;
        char *token;
        int r;

        /* Under systemd the credential wins: the service's dynamic user cannot read a root-only
         * file, while one config file still serves "sudo vpc-peer-routes sync" from a shell. */
        if (cred) {
                if (asprintf(&path, "%s/%s", cred, API_CREDENTIAL_NAME) < 0)
                        return -ENOMEM;
                if (access(path, F_OK) < 0 && c->api_token_file) {
                        free(path);
                        path = NULL;
                } else
                        /* systemd made it, in a directory only the service reaches: it may be
                         * group-readable through an ACL for the dynamic user, but never writable. */
                        trust.forbidden_mode = 022;
        }
        if (!path && c->api_token_file) {
                path = strdup(c->api_token_file);
                if (!path)
                        return -ENOMEM;
        }
        if (!path) {
                error_set(err, "source = api needs a read-only API token: set api_token_file, or pass the systemd "
                                      "credential " API_CREDENTIAL_NAME " (LoadCredential=)");
                return -EINVAL;
        }
        r = read_trusted_file(path, API_TOKEN_MAX + 64, &trust, &text, &size, &st);
        if (r == -EPERM && S_ISREG(st.st_mode)) {
                char why[96];
                error_set(err, "API token file %s %s; refusing it (chown root %s; chmod 600 %s)", path,
                         file_trust_failure(&trust, &st, why, sizeof why), path, path);
                return -EPERM;
        }
        if (r == -EACCES && geteuid() != 0 && c->api_token_file && streq(path, c->api_token_file)) {
                /* The service's dynamic user meets a root-only file: say how to hand it over. */
                error_set(err, "API token file %s: %s (as uid %u; hand it to the service with LoadCredential="
                         API_CREDENTIAL_NAME ":%s, or DynamicUser=no before systemd 247)", path, strerror(-r),
                         (unsigned) geteuid(), path);
                return -EINVAL;
        }
        if (r < 0) {
                error_set(err, "API token file %s: %s", path, r == -EFBIG ? "too large to hold a token" : strerror(-r));
                return -EINVAL;
        }
        /* A NUL byte would end the token early: refuse it before stripping writes any. */
        bool ok = !memchr(text, '\0', size);
        token = str_strip(text);
        ok = ok && *token && strlen(token) <= API_TOKEN_MAX;
        for (const char *p = token; ok && *p; p++)
                ok = *p > ' ' && *p < 0x7f;
        if (!ok) {
                explicit_bzero(text, size);
                error_set(err, "API token file %s does not hold a token (one line of printable characters)", path);
                return -EINVAL;
        }
        secret_free(c->api_token);
        c->api_token = strdup(token);
        explicit_bzero(text, size);
        return c->api_token ? 0 : -ENOMEM;
}
