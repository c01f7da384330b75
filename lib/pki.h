/*
 * The local cluster's PKI: one CA and the certificates every component
 * needs (store peers and clients, the apiserver's serving certificate, the
 * admin client certificate), as PEM files in a folder. Keys are ECDSA P-256,
 * written mode 0600. Used by `k8c up` and by tests that need real
 * certificates; nothing here talks to the network.
 */
#ifndef K8C_PKI_H
#define K8C_PKI_H

#include <stdbool.h>
#include <stddef.h>

enum k8c_pki_usage {
    K8C_PKI_SERVER = 1, /* serverAuth */
    K8C_PKI_CLIENT = 2, /* clientAuth */
};

struct k8c_pki_cert_spec {
    const char *name;        /* files <dir>/<name>.crt and <dir>/<name>.key */
    const char *common_name; /* subject CN: the user name for client certificates */
    const char *const *orgs; /* subject O values (groups), NULL-terminated, may be NULL */
    const char *const *dns;  /* DNS SANs, NULL-terminated, may be NULL */
    const char *const *ips;  /* IP SANs (v4 or v6 text), NULL-terminated, may be NULL */
    int usage;               /* K8C_PKI_SERVER | K8C_PKI_CLIENT */
    int days;                /* validity; 0 means 365 */
};

/*
 * Creates <dir>/ca.crt and <dir>/ca.key unless both exist already (an
 * existing CA is kept, so re-running `k8c up` keeps client trust).
 * Returns 0, or a negative code with a message in errmsg (K8C_ERRMSG_SIZE).
 */
int k8c_pki_ensure_ca(const char *dir, const char *common_name, char *errmsg);

/*
 * Issues a certificate signed by <dir>/ca.{crt,key}. Existing files of the
 * same name are replaced. Returns 0 or a negative code with errmsg set
 * (unreadable CA, unwritable folder, an IP SAN that does not parse).
 */
int k8c_pki_issue(const char *dir, const struct k8c_pki_cert_spec *spec, char *errmsg);

/*
 * Creates <dir>/<name>.key (an RSA private key of bits) and <dir>/<name>.pub
 * (its public key) unless the key exists already: the service account token
 * keys, which kube-apiserver wants RSA (or ECDSA) and kubeadm makes RSA 2048.
 */
int k8c_pki_ensure_rsa_key(const char *dir, const char *name, unsigned bits, char *errmsg);

#endif
