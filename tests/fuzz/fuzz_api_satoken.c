/* Fuzz target: service account bearer tokens (apiserver/satoken.c), which
 * every request may carry before it is authenticated. The first byte picks:
 * even: the rest is a token as it comes from the Authorization header; odd:
 * the rest is the claims of a token this target signs with the server's own
 * key, so the checks after the signature (issuer, times, audiences, subject)
 * get the input too. No token may be accepted: the first kind cannot carry a
 * valid signature, and the second names an account no store can confirm.
 * Must never crash, leak or loop. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "satoken.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ISSUER "https://kubernetes.default.svc.cluster.local"

static struct api_server srv;
static EVP_PKEY *key;

static void setup(void)
{
    char path[] = "/tmp/k8c-fuzz-satoken.XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    key = EVP_RSA_gen(1024); /* the size does not matter here; speed does */
    if (f == NULL || key == NULL || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) ||
        fclose(f) != 0)
        abort();
    struct api_satoken_config cfg = {.issuer = ISSUER, .signing_key_file = path};
    char errmsg[256];
    if (api_satoken_init(&srv, &cfg, errmsg, sizeof(errmsg)) != 0)
        abort();
    unlink(path);
}

static void b64url(struct k8c_sbuf *out, const void *p, size_t n)
{
    size_t start = out->len;
    k8c_base64_encode(out, p, n);
    while (out->len > start && out->data[out->len - 1] == '=')
        out->len--;
    for (size_t i = start; i < out->len; i++)
        out->data[i] = out->data[i] == '+' ? '-' : out->data[i] == '/' ? '_' : out->data[i];
    k8c_sbuf_append(out, "", 0);
}

/* header.claims.signature, signed with the server's key. */
static void signed_token(struct k8c_sbuf *tok, const uint8_t *claims, size_t n)
{
    static const char hdr[] = "{\"alg\":\"RS256\",\"kid\":\"fuzz\"}";
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    b64url(tok, hdr, sizeof(hdr) - 1);
    k8c_sbuf_append(tok, ".", 1);
    b64url(tok, claims, n);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)tok->data, tok->len) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
    k8c_sbuf_append(tok, ".", 1);
    b64url(tok, sig, siglen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (key == NULL)
        setup();
    if (size == 0 || size > 8192)
        return 0;
    struct k8c_sbuf tok;
    k8c_sbuf_init(&tok);
    if (data[0] & 1)
        signed_token(&tok, data + 1, size - 1);
    else
        k8c_sbuf_append(&tok, (const char *)data + 1, size - 1);
    k8c_sbuf_append(&tok, "", 0); /* NUL-terminated; an embedded NUL ends the token early */
    char user[256], groups[512];
    int rc = api_satoken_authenticate(&srv, tok.data, user, sizeof(user), groups, sizeof(groups));
    if (rc != 0 && rc != -1)
        abort();
    k8c_sbuf_free(&tok);
    return 0;
}
