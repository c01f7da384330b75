/*
 * Certificate generation with OpenSSL's X509 API; see pki.h.
 *
 * Every certificate gets a random 128-bit serial, the subject key identifier,
 * the CA's authority key identifier, and extended key usages matching its
 * role, which is what Go's crypto/tls (kubectl, etcdctl) checks.
 */
#include "pki.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, char *errmsg)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, key ? 0600 : 0644);
    FILE *f;
    int ok;

    if (fd < 0) {
        k8c_errmsg_printf(errmsg, "cannot write %s: %s", path, strerror(errno));
        return -errno;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return K8C_EIO;
    }
    ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    if (fclose(f) != 0 || !ok) {
        k8c_errmsg_printf(errmsg, "cannot write %s", path);
        return K8C_EIO;
    }
    return 0;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return K8C_EINVAL;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return 0;
}

/* A certificate for `key` with the given subject, valid from a minute ago. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, const char *const *orgs, int days)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char serial[16];
    BIGNUM *bn;

    X509_set_version(cert, 2);
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f; /* positive */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), (long)(days > 0 ? days : 365) * 86400);
    for (size_t i = 0; orgs && orgs[i]; i++)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)orgs[i], -1, -1,
                                   0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(cert, name);
    X509_NAME_free(name);
    X509_set_pubkey(cert, key);
    return cert;
}

static int path_join(char *out, size_t size, const char *dir, const char *name, const char *ext)
{
    int n = snprintf(out, size, "%s/%s%s", dir, name, ext);
    return n > 0 && (size_t)n < size ? 0 : K8C_ETOOBIG;
}

int k8c_pki_ensure_rsa_key(const char *dir, const char *name, unsigned bits, char *errmsg)
{
    char key_path[4096], pub_path[4096];
    int rv;
    if ((rv = path_join(key_path, sizeof(key_path), dir, name, ".key")) != 0 ||
        (rv = path_join(pub_path, sizeof(pub_path), dir, name, ".pub")) != 0) {
        k8c_errmsg_printf(errmsg, "path too long: %s/%s", dir, name);
        return rv;
    }
    if (access(key_path, R_OK) == 0 && access(pub_path, R_OK) == 0)
        return 0;
    EVP_PKEY *key = EVP_RSA_gen(bits);
    if (key == NULL) {
        k8c_errmsg_printf(errmsg, "cannot generate an RSA key");
        return K8C_EIO;
    }
    rv = write_pem(key_path, key, NULL, errmsg);
    FILE *f = rv == 0 ? fopen(pub_path, "w") : NULL;
    if (rv == 0 && (f == NULL || !PEM_write_PUBKEY(f, key) || fclose(f) != 0)) {
        if (f == NULL)
            k8c_errmsg_printf(errmsg, "cannot write %s: %s", pub_path, strerror(errno));
        else
            k8c_errmsg_printf(errmsg, "cannot write %s", pub_path);
        rv = K8C_EIO;
    }
    EVP_PKEY_free(key);
    return rv;
}

int k8c_pki_ensure_ca(const char *dir, const char *common_name, char *errmsg)
{
    char crt[4096], key_path[4096];
    EVP_PKEY *key;
    X509 *cert;
    int rv;

    if (path_join(crt, sizeof(crt), dir, "ca", ".crt") != 0 ||
        path_join(key_path, sizeof(key_path), dir, "ca", ".key") != 0) {
        k8c_errmsg_printf(errmsg, "PKI folder path too long");
        return K8C_ETOOBIG;
    }
    if (access(crt, R_OK) == 0 && access(key_path, R_OK) == 0)
        return 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        k8c_errmsg_printf(errmsg, "cannot create %s: %s", dir, strerror(errno));
        return -errno;
    }
    key = new_key();
    if (key == NULL) {
        k8c_errmsg_printf(errmsg, "cannot generate a key");
        return K8C_ETLS;
    }
    cert = new_cert(key, common_name, NULL, 3650);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    rv = add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
    if (rv == 0)
        rv = add_ext(cert, cert, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign");
    if (rv == 0)
        rv = add_ext(cert, cert, NID_subject_key_identifier, "hash");
    if (rv == 0 && !X509_sign(cert, key, EVP_sha256()))
        rv = K8C_ETLS;
    if (rv == 0)
        rv = write_pem(key_path, key, NULL, errmsg);
    if (rv == 0)
        rv = write_pem(crt, NULL, cert, errmsg);
    if (rv != 0 && errmsg[0] == '\0')
        k8c_errmsg_printf(errmsg, "cannot create the CA certificate");
    X509_free(cert);
    EVP_PKEY_free(key);
    return rv;
}

static int load_ca(const char *dir, X509 **cert, EVP_PKEY **key, char *errmsg)
{
    char path[4096];
    FILE *f;

    *cert = NULL;
    *key = NULL;
    path_join(path, sizeof(path), dir, "ca", ".crt");
    if ((f = fopen(path, "r")) != NULL) {
        *cert = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    path_join(path, sizeof(path), dir, "ca", ".key");
    if ((f = fopen(path, "r")) != NULL) {
        *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (*cert == NULL || *key == NULL) {
        X509_free(*cert);
        EVP_PKEY_free(*key);
        k8c_errmsg_printf(errmsg, "cannot read the CA in %s (create it first)", dir);
        return K8C_ENOTFOUND;
    }
    return 0;
}

/* "DNS:a,DNS:b,IP:1.2.3.4": the subjectAltName value for a spec. */
static int san_value(const struct k8c_pki_cert_spec *spec, char *out, size_t size, char *errmsg)
{
    size_t len = 0;
    out[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        const char *const *list = pass == 0 ? spec->dns : spec->ips;
        for (size_t i = 0; list && list[i]; i++) {
            unsigned char addr[16];
            int n;
            if (pass == 1 && inet_pton(AF_INET, list[i], addr) != 1 &&
                inet_pton(AF_INET6, list[i], addr) != 1) {
                k8c_errmsg_printf(errmsg, "invalid IP address for a certificate: %.64s", list[i]);
                return K8C_EINVAL;
            }
            n = snprintf(out + len, size - len, "%s%s:%s", len ? "," : "", pass == 0 ? "DNS" : "IP",
                         list[i]);
            if (n < 0 || (size_t)n >= size - len) {
                k8c_errmsg_printf(errmsg, "too many subject alternative names");
                return K8C_ETOOBIG;
            }
            len += (size_t)n;
        }
    }
    return 0;
}

int k8c_pki_issue(const char *dir, const struct k8c_pki_cert_spec *spec, char *errmsg)
{
    char crt[4096], key_path[4096], san[4096], eku[64];
    X509 *ca_cert, *cert;
    EVP_PKEY *ca_key, *key;
    int rv;

    errmsg[0] = '\0';
    if (path_join(crt, sizeof(crt), dir, spec->name, ".crt") != 0 ||
        path_join(key_path, sizeof(key_path), dir, spec->name, ".key") != 0) {
        k8c_errmsg_printf(errmsg, "certificate path too long");
        return K8C_ETOOBIG;
    }
    if ((rv = san_value(spec, san, sizeof(san), errmsg)) != 0)
        return rv;
    if ((rv = load_ca(dir, &ca_cert, &ca_key, errmsg)) != 0)
        return rv;
    key = new_key();
    cert = new_cert(key, spec->common_name, spec->orgs, spec->days);
    X509_set_issuer_name(cert, X509_get_subject_name(ca_cert));
    snprintf(eku, sizeof(eku), "%s%s%s", (spec->usage & K8C_PKI_SERVER) ? "serverAuth" : "",
             (spec->usage & K8C_PKI_SERVER) && (spec->usage & K8C_PKI_CLIENT) ? "," : "",
             (spec->usage & K8C_PKI_CLIENT) ? "clientAuth" : "");
    rv = add_ext(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE");
    if (rv == 0)
        rv = add_ext(cert, ca_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    if (rv == 0 && eku[0])
        rv = add_ext(cert, ca_cert, NID_ext_key_usage, eku);
    if (rv == 0)
        rv = add_ext(cert, ca_cert, NID_subject_key_identifier, "hash");
    if (rv == 0)
        rv = add_ext(cert, ca_cert, NID_authority_key_identifier, "keyid:always");
    if (rv == 0 && san[0])
        rv = add_ext(cert, ca_cert, NID_subject_alt_name, san);
    if (rv == 0 && !X509_sign(cert, ca_key, EVP_sha256()))
        rv = K8C_ETLS;
    if (rv == 0)
        rv = write_pem(key_path, key, NULL, errmsg);
    if (rv == 0)
        rv = write_pem(crt, NULL, cert, errmsg);
    if (rv != 0 && errmsg[0] == '\0')
        k8c_errmsg_printf(errmsg, "cannot issue certificate %s", spec->name);
    X509_free(cert);
    EVP_PKEY_free(key);
    X509_free(ca_cert);
    EVP_PKEY_free(ca_key);
    return rv;
}
