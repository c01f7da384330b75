/*
 * Service account tokens: the TokenRequest API (POST
 * /api/v1/namespaces/<ns>/serviceaccounts/<name>/token, what `kubectl create
 * token` calls) signs a JWT as kube-apiserver does, and requests that carry
 * one as a bearer token are authenticated as the service account.
 *
 * Configured as upstream: --service-account-issuer,
 * --service-account-signing-key-file (an RSA private key, PEM),
 * --service-account-key-file (PEM public keys, private keys or certificates
 * that verify tokens; default: the signing key), --api-audiences (default:
 * the issuer), --service-account-max-token-expiration (0: none).
 */
#ifndef K8C_APISERVER_SATOKEN_H
#define K8C_APISERVER_SATOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api_server;
struct api_req;

struct api_satoken_config {
    const char *issuer;
    const char *signing_key_file;
    const char *key_file;
    const char *audiences; /* comma-separated */
    int64_t max_expiration_s;
};

/* Loads the keys (srv->satoken); nothing to do without a signing key and an
 * issuer (the TokenRequest API then answers 404, as upstream without them).
 * Nonzero with errmsg on a bad file or flag. */
int api_satoken_init(struct api_server *srv, const struct api_satoken_config *cfg, char *errmsg,
                     size_t size);
void api_satoken_free(struct api_server *srv);

/* Starts the watch caches that tokens are checked against (service
 * accounts, and the pods, secrets and nodes tokens may be bound to), once
 * the store client exists; nothing without tokens. */
void api_satoken_prime(struct api_server *srv);

/* serviceaccounts/<name>/token. */
void api_token_request(struct api_req *req);

/* A bearer token: 1 when it is one of our service account tokens and valid
 * (user and groups set: "system:serviceaccount:<ns>:<name>",
 * "system:serviceaccounts,system:serviceaccounts:<ns>"), 0 when it is not a
 * JWT of our issuer (other authenticators may know it), -1 when it is ours
 * and not valid (expired, bad signature, wrong audience, or its service
 * account, or the object it is bound to, is gone or was made anew: looked
 * up in the watch caches api_satoken_prime started). */
int api_satoken_authenticate(struct api_server *srv, const char *token, char *user,
                             size_t user_size, char *groups, size_t groups_size);

#endif
