/* Unit tests of the PKI: a CA, a server and a client certificate, checked with OpenSSL. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "error.h"
#include "pki.h"

static char dir[] = "/tmp/k8c-test-pki-XXXXXX";

static X509 *read_cert(const char *name)
{
    char path[256];
    FILE *f;
    X509 *c;
    snprintf(path, sizeof(path), "%s/%s.crt", dir, name);
    f = fopen(path, "r");
    assert_non_null(f);
    c = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(c);
    return c;
}

static int verify(X509 *ca, X509 *leaf, int purpose)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok;
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX_init(ctx, store, leaf, NULL);
    X509_STORE_CTX_set_purpose(ctx, purpose);
    ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

static void test_ca_and_leaves(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE] = "";
    const char *const orgs[] = {"system:masters", NULL};
    const char *const dns[] = {"localhost", "kubernetes.default.svc", NULL};
    const char *const ips[] = {"127.0.0.1", "::1", NULL};
    struct k8c_pki_cert_spec server = {"apiserver", "kube-apiserver", NULL, dns,
                                       ips,         K8C_PKI_SERVER,   0};
    struct k8c_pki_cert_spec admin = {"admin", "kubernetes-admin", orgs, NULL,
                                      NULL,    K8C_PKI_CLIENT,     0};
    struct stat st;
    X509 *ca, *srv, *adm;
    char cn[64], o[64];

    assert_non_null(mkdtemp(dir));
    assert_int_equal(k8c_pki_ensure_ca(dir, "k8c-ca", errmsg), 0);
    assert_int_equal(k8c_pki_issue(dir, &server, errmsg), 0);
    assert_int_equal(k8c_pki_issue(dir, &admin, errmsg), 0);

    ca = read_cert("ca");
    srv = read_cert("apiserver");
    adm = read_cert("admin");
    assert_int_equal(verify(ca, srv, X509_PURPOSE_SSL_SERVER), 1);
    assert_int_equal(verify(ca, adm, X509_PURPOSE_SSL_CLIENT), 1);
    /* A client certificate is not a server certificate. */
    assert_int_not_equal(verify(ca, adm, X509_PURPOSE_SSL_SERVER), 1);
    assert_int_equal(X509_check_host(srv, "kubernetes.default.svc", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
    assert_int_not_equal(X509_check_host(srv, "example.com", 0, 0, NULL), 1);
    X509_NAME_get_text_by_NID(X509_get_subject_name(adm), NID_commonName, cn, sizeof(cn));
    X509_NAME_get_text_by_NID(X509_get_subject_name(adm), NID_organizationName, o, sizeof(o));
    assert_string_equal(cn, "kubernetes-admin");
    assert_string_equal(o, "system:masters");

    /* Keys are private; an existing CA is kept. */
    snprintf(cn, sizeof(cn), "%s/admin.key", dir);
    assert_int_equal(stat(cn, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(k8c_pki_ensure_ca(dir, "other", errmsg), 0);
    X509 *ca2 = read_cert("ca");
    assert_int_equal(X509_cmp(ca, ca2), 0);
    X509_free(ca2);
    X509_free(ca);
    X509_free(srv);
    X509_free(adm);
}

static void test_bad_input(void **state)
{
    char errmsg[K8C_ERRMSG_SIZE] = "";
    const char *const ips[] = {"not-an-ip", NULL};
    struct k8c_pki_cert_spec bad = {"bad", "x", NULL, NULL, ips, K8C_PKI_SERVER, 0};
    struct k8c_pki_cert_spec ok = {"x", "x", NULL, NULL, NULL, K8C_PKI_CLIENT, 0};

    assert_int_equal(k8c_pki_issue(dir, &bad, errmsg), K8C_EINVAL);
    assert_non_null(strstr(errmsg, "not-an-ip"));
    assert_int_equal(k8c_pki_issue("/nonexistent-k8c-dir", &ok, errmsg), K8C_ENOTFOUND);
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca_and_leaves),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
