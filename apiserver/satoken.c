/*
 * Service account tokens (see satoken.h): RS256 JWTs with kube-apiserver's
 * claims. The key ID in the header is the base64url SHA-256 of the public
 * key's DER (upstream's keyIDFromPublicKey); the payload carries aud, exp,
 * iat, iss, jti, kubernetes.io {namespace, pod|secret|node, serviceaccount},
 * nbf and sub "system:serviceaccount:<ns>:<name>".
 *
 * A token is checked by its signature, issuer, audiences and times (with
 * the minute of leeway upstream's JWT library allows), and its service
 * account must still exist with the UID in the token (the watch cache of
 * serviceaccounts answers, as upstream's informer cache does), and so must
 * the pod, secret or node it is bound to, with the UID in the token.
 */
#include "satoken.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "etcd.h"
#include "json.h"
#include "k8s/api/authentication/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "object.h"
#include "resources.h"
#include "server.h"
#include "validate.h"
#include "watchcache.h"

#define MAX_KEYS            16
#define MAX_AUDIENCES       16
#define MAX_TOKEN_BYTES     16384
#define LEEWAY_S            60
#define DEFAULT_EXPIRY_S    3600
#define MIN_EXPIRY_S        600
#define MAX_EXPIRY_S        (1LL << 32)
#define SA_USER_PREFIX      "system:serviceaccount:"
#define TOKEN_REQUEST_GROUP "authentication.k8s.io"

/* The objects a token can be bound to: their kind in a boundObjectRef, their
 * claim under kubernetes.io, and their resource (whose watch cache says
 * whether one still exists). */
struct bound_kind {
    const char *kind, *claim, *resource;
};
static const struct bound_kind bound_kinds[] = {
    {"Pod", "pod", "pods"}, {"Secret", "secret", "secrets"}, {"Node", "node", "nodes"}};
#define NBOUND_KINDS (sizeof(bound_kinds) / sizeof(bound_kinds[0]))

static const struct bound_kind *bound_kind_of(const char *kind)
{
    for (size_t i = 0; kind != NULL && i < NBOUND_KINDS; i++)
        if (strcmp(bound_kinds[i].kind, kind) == 0)
            return &bound_kinds[i];
    return NULL;
}

struct api_satoken {
    char *issuer;
    EVP_PKEY *sign;
    char kid[64];
    EVP_PKEY *keys[MAX_KEYS];
    size_t nkeys;
    char *aud[MAX_AUDIENCES];
    size_t naud;
    int64_t max_exp;
};

/* ---- base64url (RFC 4648 section 5, no padding) ---- */

static void b64url_encode(struct k8c_sbuf *out, const void *data, size_t len)
{
    size_t start = out->len;
    k8c_base64_encode(out, data, len);
    while (out->len > start && out->data[out->len - 1] == '=')
        out->len--;
    out->data[out->len] = '\0';
    for (size_t i = start; i < out->len; i++) {
        if (out->data[i] == '+')
            out->data[i] = '-';
        else if (out->data[i] == '/')
            out->data[i] = '_';
    }
}

/* Decodes src[0..len) into dst (room for len bytes): its length, or -1. */
static long b64url_decode(uint8_t *dst, const char *src, size_t len)
{
    if (len % 4 == 1 || len > MAX_TOKEN_BYTES)
        return -1;
    char tmp[MAX_TOKEN_BYTES + 4];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r')
            return -1;
        tmp[n++] = c;
    }
    while (n % 4 != 0)
        tmp[n++] = '=';
    return k8c_base64_decode(dst, tmp, n);
}

/* ---- keys ---- */

static int key_error(char *errmsg, size_t size, const char *what, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(errmsg, size, "%s %s%s%s", what, file, r ? ": " : "", r ? r : "");
    ERR_clear_error();
    return K8C_EINVAL;
}

static bool is_rsa(EVP_PKEY *k)
{
    return EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA;
}

/* Every key in a PEM file: public keys, private keys (their public half) and
 * certificates (their key), as upstream's keyutil.ParsePublicKeysPEM. */
static int load_verify_keys(struct api_satoken *st, const char *file, char *errmsg, size_t size)
{
    BIO *b = BIO_new_file(file, "r");
    if (b == NULL)
        return key_error(errmsg, size, "cannot read --service-account-key-file", file);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    int rc = 0;
    while (rc == 0 && PEM_read_bio(b, &name, &header, &data, &len) == 1) {
        const unsigned char *p = data;
        EVP_PKEY *k = NULL;
        if (strcmp(name, "PUBLIC KEY") == 0) {
            k = d2i_PUBKEY(NULL, &p, len);
        } else if (strcmp(name, "RSA PUBLIC KEY") == 0) {
            k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
        } else if (strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "RSA PRIVATE KEY") == 0 ||
                   strcmp(name, "EC PRIVATE KEY") == 0) {
            k = d2i_AutoPrivateKey(NULL, &p, len);
        } else if (strcmp(name, "CERTIFICATE") == 0) {
            X509 *x = d2i_X509(NULL, &p, len);
            if (x != NULL) {
                k = X509_get_pubkey(x);
                X509_free(x);
            }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (k == NULL)
            continue; /* a block of another kind (EC PARAMETERS, ...) */
        if (!is_rsa(k)) {
            snprintf(errmsg, size, "--service-account-key-file %s: only RSA keys are supported",
                     file);
            rc = K8C_EINVAL;
        } else if (st->nkeys == MAX_KEYS) {
            snprintf(errmsg, size, "--service-account-key-file %s: more than %d keys", file,
                     MAX_KEYS);
            rc = K8C_EINVAL;
        } else {
            st->keys[st->nkeys++] = k;
            k = NULL;
        }
        EVP_PKEY_free(k);
    }
    ERR_clear_error();
    BIO_free(b);
    if (rc == 0 && st->nkeys == 0) {
        snprintf(errmsg, size, "--service-account-key-file %s: no key found", file);
        rc = K8C_EINVAL;
    }
    return rc;
}

static int key_id(EVP_PKEY *k, char *out, size_t size)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    if (n <= 0)
        return K8C_EINVAL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    if (ok != 1)
        return K8C_EINVAL;
    struct k8c_sbuf s;
    k8c_sbuf_init(&s);
    b64url_encode(&s, md, mdlen);
    snprintf(out, size, "%s", s.data);
    k8c_sbuf_free(&s);
    return 0;
}

int api_satoken_init(struct api_server *srv, const struct api_satoken_config *cfg, char *errmsg,
                     size_t size)
{
    bool have_key = cfg->signing_key_file != NULL && cfg->signing_key_file[0] != '\0';
    bool have_iss = cfg->issuer != NULL && cfg->issuer[0] != '\0';
    if (!have_key && !have_iss)
        return 0;
    if (!have_key || !have_iss) {
        snprintf(errmsg, size,
                 "--service-account-signing-key-file and --service-account-issuer "
                 "are required together");
        return K8C_EINVAL;
    }
    if (cfg->max_expiration_s != 0 && cfg->max_expiration_s < MIN_EXPIRY_S) {
        snprintf(errmsg, size, "--service-account-max-token-expiration must be at least 10m");
        return K8C_EINVAL;
    }
    struct api_satoken *st = K8C_NEW(struct api_satoken);
    srv->satoken = st;
    st->issuer = k8c_strdup(cfg->issuer);
    st->max_exp = cfg->max_expiration_s;
    BIO *b = BIO_new_file(cfg->signing_key_file, "r");
    st->sign = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (st->sign == NULL)
        return key_error(errmsg, size, "cannot load --service-account-signing-key-file",
                         cfg->signing_key_file);
    if (!is_rsa(st->sign)) {
        snprintf(errmsg, size, "--service-account-signing-key-file %s: only RSA keys are supported",
                 cfg->signing_key_file);
        return K8C_EINVAL;
    }
    if (key_id(st->sign, st->kid, sizeof(st->kid)) != 0)
        return key_error(errmsg, size, "cannot encode the public key of", cfg->signing_key_file);
    if (cfg->key_file != NULL && cfg->key_file[0] != '\0') {
        int rc = load_verify_keys(st, cfg->key_file, errmsg, size);
        if (rc != 0)
            return rc;
    } else {
        EVP_PKEY_up_ref(st->sign);
        st->keys[st->nkeys++] = st->sign;
    }
    const char *aud =
        cfg->audiences != NULL && cfg->audiences[0] != '\0' ? cfg->audiences : cfg->issuer;
    for (const char *p = aud; *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (n > 0 && st->naud < MAX_AUDIENCES)
            st->aud[st->naud++] = k8c_strndup(p, n);
        p += n + (p[n] == ',');
    }
    if (st->naud == 0) {
        snprintf(errmsg, size, "--api-audiences: no audience");
        return K8C_EINVAL;
    }
    return 0;
}

void api_satoken_free(struct api_server *srv)
{
    struct api_satoken *st = srv->satoken;
    if (st == NULL)
        return;
    EVP_PKEY_free(st->sign);
    for (size_t i = 0; i < st->nkeys; i++)
        EVP_PKEY_free(st->keys[i]);
    for (size_t i = 0; i < st->naud; i++)
        k8c_free(st->aud[i]);
    k8c_free(st->issuer);
    k8c_free(st);
    srv->satoken = NULL;
}

/* ---- issuing ---- */

struct bound {
    const struct bound_kind *bk; /* NULL when the token is not bound */
    const char *name, *uid;
};

/* The signed token for service account ns/name (uid) into out. */
static int sign_token(const struct api_satoken *st, const char *ns, const char *name,
                      const char *uid, char **aud, size_t naud, int64_t now, int64_t exp,
                      const struct bound *bound, struct k8c_sbuf *out)
{
    struct k8c_arena *a = k8c_arena_new(4096);
    struct k8c_json *c = k8c_json_new_object(a), *arr = k8c_json_new_array(a);
    for (size_t i = 0; i < naud; i++)
        k8c_json_array_append(a, arr, k8c_json_new_string(a, aud[i]));
    char jti[37], sub[600];
    api_uuid(jti);
    snprintf(sub, sizeof(sub), SA_USER_PREFIX "%s:%s", ns, name);
    struct k8c_json *k8s = k8c_json_new_object(a), *sa = k8c_json_new_object(a);
    k8c_json_set(a, k8s, "namespace", k8c_json_new_string(a, ns));
    if (bound->bk != NULL) {
        struct k8c_json *o = k8c_json_new_object(a);
        k8c_json_set(a, o, "name", k8c_json_new_string(a, bound->name));
        k8c_json_set(a, o, "uid", k8c_json_new_string(a, bound->uid));
        k8c_json_set(a, k8s, bound->bk->claim, o);
    }
    k8c_json_set(a, sa, "name", k8c_json_new_string(a, name));
    k8c_json_set(a, sa, "uid", k8c_json_new_string(a, uid));
    k8c_json_set(a, k8s, "serviceaccount", sa);
    k8c_json_set(a, c, "aud", arr);
    k8c_json_set(a, c, "exp", k8c_json_new_int(a, exp));
    k8c_json_set(a, c, "iat", k8c_json_new_int(a, now));
    k8c_json_set(a, c, "iss", k8c_json_new_string(a, st->issuer));
    k8c_json_set(a, c, "jti", k8c_json_new_string(a, jti));
    k8c_json_set(a, c, "kubernetes.io", k8s);
    k8c_json_set(a, c, "nbf", k8c_json_new_int(a, now));
    k8c_json_set(a, c, "sub", k8c_json_new_string(a, sub));

    struct k8c_sbuf hdr, claims;
    k8c_sbuf_init(&hdr);
    k8c_sbuf_init(&claims);
    k8c_sbuf_printf(&hdr, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", st->kid);
    k8c_json_write(&claims, c, 0, 0);
    k8c_arena_del(a);
    b64url_encode(out, hdr.data, hdr.len);
    k8c_sbuf_append(out, ".", 1);
    b64url_encode(out, claims.data, claims.len);
    k8c_sbuf_free(&hdr);
    k8c_sbuf_free(&claims);

    unsigned char sig[1024];
    size_t siglen = sizeof(sig);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, st->sign) == 1 &&
             EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)out->data, out->len) == 1 &&
             siglen <= sizeof(sig) &&
             EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)out->data, out->len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return K8C_EIO;
    }
    k8c_sbuf_append(out, ".", 1);
    b64url_encode(out, sig, siglen);
    return 0;
}

typedef K8s__Io__Api__Authentication__V1__TokenRequest token_request_t;

struct token_op {
    token_request_t *tr;
    const struct bound_kind *bk; /* of spec.boundObjectRef, or NULL */
    char sa_uid[64];
    char bound_uid[64];
};

static void token_op_free(void *arg)
{
    struct token_op *op = arg;
    if (op->tr != NULL)
        api_obj_free(&op->tr->base);
    k8c_free(op);
}

static void issue(struct api_req *req)
{
    const struct api_satoken *st = req->srv->satoken;
    struct token_op *op = req->op;
    K8s__Io__Api__Authentication__V1__TokenRequestSpec *spec = op->tr->spec;
    K8s__Io__Api__Authentication__V1__BoundObjectReference *ref = spec->boundobjectref;
    struct bound bound = {NULL, "", ""};
    if (ref != NULL) {
        bound.bk = op->bk;
        bound.name = ref->name;
        bound.uid = op->bound_uid;
        if (ref->uid == NULL || ref->uid[0] == '\0') {
            k8c_free(ref->uid);
            ref->uid = k8c_strdup(op->bound_uid);
        }
    }
    int64_t now = api_now();
    int64_t exp = now + spec->expirationseconds;
    struct k8c_sbuf tok;
    k8c_sbuf_init(&tok);
    if (sign_token(st, req->ns, req->name, op->sa_uid, spec->audiences, spec->n_audiences, now, exp,
                   &bound, &tok) != 0) {
        k8c_sbuf_free(&tok);
        api_respond_status(req, 500, "InternalError",
                           "Internal error occurred: failed to sign the token");
        return;
    }
    token_request_t *tr = op->tr;
    api_meta_t *m = api_obj_meta_ensure(&tr->base);
    k8c_free(m->name);
    m->name = k8c_strdup(req->name);
    k8c_free(m->namespace_);
    m->namespace_ = k8c_strdup(req->ns);
    if (m->creationtimestamp == NULL)
        m->creationtimestamp = api_time_new(now);
    if (tr->status != NULL)
        api_obj_free(&tr->status->base);
    tr->status = k8c_malloc(sizeof(*tr->status));
    k8s__io__api__authentication__v1__token_request_status__init(tr->status);
    tr->status->token = k8c_strdup(tok.data);
    tr->status->expirationtimestamp = api_time_new(exp);
    k8c_sbuf_free(&tok);
    api_respond_object(req, 201, &tr->base);
}

/* The object the token is bound to: it must exist (and have the UID asked). */
static void bound_read(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct token_op *op = req->op;
    K8s__Io__Api__Authentication__V1__BoundObjectReference *ref = op->tr->spec->boundobjectref;
    bool pod = strcmp(op->bk->kind, "Pod") == 0;
    const struct api_resource *r = api_resource_find("", "v1", op->bk->resource);
    char errmsg[K8C_ERRMSG_SIZE];
    ProtobufCMessage *obj = NULL;
    if (api_req_gone(req))
        goto out;
    if (res->err != 0 || res->n == 0) {
        if (res->err != 0)
            api_respond_store_error(req, res->err, res->errmsg);
        else
            api_respond_statusf(req, 404, "NotFound", "%s \"%s\" not found", r->resource,
                                ref->name);
        goto out;
    }
    if (api_obj_decode_storage(r, res->kv->value, res->kv->value_len, res->kv->mod_revision, &obj,
                               errmsg) != 0) {
        api_respond_statusf(req, 500, "InternalError", "Internal error occurred: %s", errmsg);
        goto out;
    }
    api_meta_t *m = api_obj_meta(obj);
    snprintf(op->bound_uid, sizeof(op->bound_uid), "%s", m && m->uid ? m->uid : "");
    if (pod) {
        const K8s__Io__Api__Core__V1__Pod *p = (const K8s__Io__Api__Core__V1__Pod *)obj;
        const char *sa = p->spec && p->spec->serviceaccountname ? p->spec->serviceaccountname : "";
        if (strcmp(sa, req->name) != 0) {
            api_respond_statusf(req, 400, "BadRequest",
                                "cannot bind token for serviceaccount \"%s\" to pod running with "
                                "different serviceaccount name.",
                                req->name);
            goto out;
        }
    }
    if (ref->uid != NULL && ref->uid[0] != '\0' && strcmp(ref->uid, op->bound_uid) != 0) {
        api_respond_statusf(req, 409, "Conflict",
                            "Operation cannot be fulfilled on %s \"%s\": the UID in the bound "
                            "object reference (%s) does not match the UID in record. The object "
                            "might have been deleted and then recreated",
                            ref->kind, ref->name, ref->uid);
        goto out;
    }
    issue(req);
out:
    if (obj != NULL)
        api_obj_free(obj);
    api_req_unref(req);
}

static void sa_read(void *arg, const struct api_etcd_result *res)
{
    struct api_req *req = arg;
    struct token_op *op = req->op;
    char key[1024];
    ProtobufCMessage *obj = NULL;
    if (api_req_gone(req) || (obj = api_read_found(req, res)) == NULL)
        goto out;
    api_meta_t *m = api_obj_meta(obj);
    snprintf(op->sa_uid, sizeof(op->sa_uid), "%s", m && m->uid ? m->uid : "");
    K8s__Io__Api__Authentication__V1__BoundObjectReference *ref = op->tr->spec->boundobjectref;
    if (ref == NULL) {
        issue(req);
        goto out;
    }
    const struct api_resource *r = api_resource_find("", "v1", op->bk->resource);
    api_key(req->srv, r, r->namespaced ? req->ns : NULL, ref->name, key, sizeof(key));
    api_req_ref(req);
    if (api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, bound_read, req) != 0) {
        api_req_unref(req);
        api_respond_status(req, 503, "ServiceUnavailable", "the store is not reachable");
    }
out:
    if (obj != NULL)
        api_obj_free(obj);
    api_req_unref(req);
}

void api_token_request(struct api_req *req)
{
    const struct api_satoken *st = req->srv->satoken;
    if (st == NULL) {
        api_respond_status(req, 404, "NotFound",
                           "the server could not find the requested resource");
        return;
    }
    token_request_t *tr = (token_request_t *)api_decode_body(
        req, &k8s__io__api__authentication__v1__token_request__descriptor);
    if (tr == NULL)
        return;
    if (tr->spec == NULL) {
        tr->spec = k8c_malloc(sizeof(*tr->spec));
        k8s__io__api__authentication__v1__token_request_spec__init(tr->spec);
    }
    K8s__Io__Api__Authentication__V1__TokenRequestSpec *spec = tr->spec;
    if (!spec->has_expirationseconds) {
        spec->has_expirationseconds = true;
        spec->expirationseconds = DEFAULT_EXPIRY_S;
    }
    struct api_field_errors errs;
    api_field_errors_init(&errs);
    char msg[200];
    if (spec->expirationseconds < MIN_EXPIRY_S) {
        snprintf(msg, sizeof(msg),
                 "Invalid value: %lld: may not specify a duration less than 10 minutes",
                 (long long)spec->expirationseconds);
        api_field_errors_add(&errs, "FieldValueInvalid", "spec.expirationSeconds", msg);
    } else if (spec->expirationseconds > MAX_EXPIRY_S) {
        snprintf(msg, sizeof(msg),
                 "Invalid value: %lld: may not specify a duration larger than 2^32 seconds",
                 (long long)spec->expirationseconds);
        api_field_errors_add(&errs, "FieldValueInvalid", "spec.expirationSeconds", msg);
    }
    if (errs.n > 0) {
        api_respond_invalid(req, "TokenRequest", TOKEN_REQUEST_GROUP, req->name, &errs);
        api_field_errors_free(&errs);
        api_obj_free(&tr->base);
        return;
    }
    api_field_errors_free(&errs);
    K8s__Io__Api__Authentication__V1__BoundObjectReference *ref = spec->boundobjectref;
    const struct bound_kind *bk = NULL;
    if (ref != NULL) {
        const char *kind = ref->kind ? ref->kind : "", *av = ref->apiversion ? ref->apiversion : "";
        bk = strcmp(av, "v1") == 0 ? bound_kind_of(kind) : NULL;
        if (bk == NULL || ref->name == NULL || ref->name[0] == '\0') {
            const char *slash = strchr(av, '/');
            if (bk == NULL)
                api_respond_statusf(
                    req, 400, "BadRequest", "cannot bind token to object of type %.*s/%s, Kind=%s",
                    slash ? (int)(slash - av) : 0, av, slash ? slash + 1 : av, kind);
            else
                api_respond_status(req, 400, "BadRequest",
                                   "cannot bind token to an object without a name");
            api_obj_free(&tr->base);
            return;
        }
    }
    if (spec->n_audiences == 0) {
        spec->audiences = k8c_calloc(st->naud, sizeof(char *));
        for (size_t i = 0; i < st->naud; i++)
            spec->audiences[spec->n_audiences++] = k8c_strdup(st->aud[i]);
    }
    if (st->max_exp > 0 && spec->expirationseconds > st->max_exp)
        spec->expirationseconds = st->max_exp;
    struct token_op *op = K8C_NEW(struct token_op);
    op->tr = tr;
    op->bk = bk;
    req->op = op;
    req->op_free = token_op_free;
    char key[1024];
    api_key(req->srv, req->res, req->ns, req->name, key, sizeof(key));
    api_req_ref(req);
    if (api_etcd_range(req->srv->etcd, key, NULL, 0, 0, false, sa_read, req) != 0) {
        api_req_unref(req);
        api_respond_status(req, 503, "ServiceUnavailable", "the store is not reachable");
    }
}

/* ---- authenticating ---- */

void api_satoken_prime(struct api_server *srv)
{
    if (srv->satoken == NULL)
        return;
    api_watchcache_prime(srv, api_resource_find("", "v1", "serviceaccounts"));
    for (size_t i = 0; i < NBOUND_KINDS; i++)
        api_watchcache_prime(srv, api_resource_find("", "v1", bound_kinds[i].resource));
}

static const char *json_str(const struct k8c_json *o, const char *key)
{
    const struct k8c_json *v = o != NULL ? k8c_json_get(o, key) : NULL;
    return v != NULL && v->type == K8C_JSON_STRING ? v->u.str : NULL;
}

static bool json_time(const struct k8c_json *o, const char *key, int64_t *out)
{
    const struct k8c_json *v = k8c_json_get(o, key);
    return v != NULL && v->type == K8C_JSON_NUMBER && k8c_json_get_int64(v, out) == 0;
}

/* Decodes a base64url JSON part of a token into a tree in a (NULL if it is not one). */
static struct k8c_json *json_part(struct k8c_arena *a, const char *p, size_t len)
{
    uint8_t *raw = k8c_arena_alloc(a, len + 4);
    long n = b64url_decode(raw, p, len);
    struct k8c_json *v = NULL;
    char errmsg[K8C_ERRMSG_SIZE];
    if (n <= 0 || k8c_json_parse(a, (const char *)raw, (size_t)n, NULL, &v, errmsg) != 0 ||
        v->type != K8C_JSON_OBJECT)
        return NULL;
    return v;
}

static bool audience_ok(const struct api_satoken *st, const struct k8c_json *aud)
{
    if (aud == NULL)
        return false;
    size_t n = aud->type == K8C_JSON_ARRAY ? aud->len : 1;
    for (size_t i = 0; i < n; i++) {
        const struct k8c_json *v = aud->type == K8C_JSON_ARRAY ? k8c_json_array_get(aud, i) : aud;
        for (size_t j = 0; v->type == K8C_JSON_STRING && j < st->naud; j++)
            if (strcmp(v->u.str, st->aud[j]) == 0)
                return true;
    }
    return false;
}

static bool signature_ok(const struct api_satoken *st, const char *signed_part, size_t len,
                         const char *sig64, size_t siglen64)
{
    uint8_t sig[MAX_TOKEN_BYTES];
    long n = b64url_decode(sig, sig64, siglen64);
    if (n <= 0)
        return false;
    for (size_t i = 0; i < st->nkeys; i++) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok =
            ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, st->keys[i]) == 1 &&
            EVP_DigestVerify(ctx, sig, (size_t)n, (const unsigned char *)signed_part, len) == 1;
        EVP_MD_CTX_free(ctx);
        ERR_clear_error();
        if (ok)
            return true;
    }
    return false;
}

int api_satoken_authenticate(struct api_server *srv, const char *token, char *user,
                             size_t user_size, char *groups, size_t groups_size)
{
    const struct api_satoken *st = srv->satoken;
    size_t len = strlen(token);
    if (st == NULL || len > MAX_TOKEN_BYTES)
        return 0;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        return 0;
    struct k8c_arena *a = k8c_arena_new(4096);
    int rc = 0;
    struct k8c_json *claims = json_part(a, d1 + 1, (size_t)(d2 - d1 - 1));
    const char *iss = json_str(claims, "iss");
    if (iss == NULL || strcmp(iss, st->issuer) != 0)
        goto out; /* not ours */
    rc = -1;
    struct k8c_json *hdr = json_part(a, token, (size_t)(d1 - token));
    const char *alg = json_str(hdr, "alg");
    if (alg == NULL || strcmp(alg, "RS256") != 0 ||
        !signature_ok(st, token, (size_t)(d2 - token), d2 + 1, len - (size_t)(d2 + 1 - token)))
        goto out;
    int64_t now = api_now(), exp, nbf;
    if (!json_time(claims, "exp", &exp) || exp + LEEWAY_S < now)
        goto out;
    if (json_time(claims, "nbf", &nbf) && nbf - LEEWAY_S > now)
        goto out;
    if (!audience_ok(st, k8c_json_get(claims, "aud")))
        goto out;
    const struct k8c_json *k8s = k8c_json_get(claims, "kubernetes.io");
    const char *ns = json_str(k8s, "namespace");
    const struct k8c_json *sa = k8s != NULL ? k8c_json_get(k8s, "serviceaccount") : NULL;
    const char *name = json_str(sa, "name"), *sa_uid = json_str(sa, "uid");
    const char *sub = json_str(claims, "sub");
    char want[600];
    if (ns == NULL || name == NULL || sub == NULL ||
        (size_t)snprintf(want, sizeof(want), SA_USER_PREFIX "%s:%s", ns, name) >= sizeof(want) ||
        strcmp(sub, want) != 0 || sa_uid == NULL)
        goto out;
    const struct api_resource *r = api_resource_find("", "v1", "serviceaccounts");
    char key[1024], uid[64];
    api_key(srv, r, ns, name, key, sizeof(key));
    if (api_watchcache_lookup_uid(srv, r, key, uid, sizeof(uid)) != 1 || strcmp(uid, sa_uid) != 0)
        goto out; /* gone, made anew, or not known yet */
    for (size_t i = 0; i < NBOUND_KINDS; i++) {
        const struct k8c_json *b = k8c_json_get(k8s, bound_kinds[i].claim);
        if (b == NULL)
            continue;
        const char *bname = json_str(b, "name"), *buid = json_str(b, "uid");
        const struct api_resource *br = api_resource_find("", "v1", bound_kinds[i].resource);
        if (bname == NULL || buid == NULL)
            goto out;
        api_key(srv, br, br->namespaced ? ns : NULL, bname, key, sizeof(key));
        if (api_watchcache_lookup_uid(srv, br, key, uid, sizeof(uid)) != 1 ||
            strcmp(uid, buid) != 0)
            goto out; /* the object it was bound to is gone */
    }
    snprintf(user, user_size, "%s", want);
    snprintf(groups, groups_size, "system:serviceaccounts,system:serviceaccounts:%s", ns);
    rc = 1;
out:
    k8c_arena_del(a);
    return rc;
}
