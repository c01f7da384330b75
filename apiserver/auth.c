/*
 * Authentication, as kube-apiserver does it for the two methods k8c
 * supports: x509 client certificates verified against --client-ca-file (the
 * subject's CN is the user, each O a group) and a static token file
 * (--token-auth-file, CSV: token,user,uid[,"group1,group2"]). Requests with
 * neither are anonymous ("system:anonymous"), allowed only with
 * --anonymous-auth. Then impersonation (Impersonate-User, -Group, -Uid:
 * kubectl --as, --as-group, --as-uid), as upstream's WithImpersonation.
 * Authorization is the next seam: today every authenticated user may do
 * everything, impersonating anyone included.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "satoken.h"
#include "server.h"

#define MAX_TOKENS     10000
#define MAX_TOKEN_LINE 4096

/* Splits one CSV line into at most max fields (quotes group commas). */
static size_t csv_split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (*p != '\0' && n < max) {
        char *out = p, *start = p;
        bool quoted = false;
        while (*p != '\0' && (quoted || *p != ',')) {
            if (*p == '"')
                quoted = !quoted;
            else
                *out++ = *p;
            p++;
        }
        bool last = *p == '\0';
        *out = '\0';
        fields[n++] = start;
        if (last)
            break;
        p++;
    }
    return n;
}

int api_load_tokens(struct api_server *srv, const char *file, char *errmsg)
{
    FILE *f = fopen(file, "r");
    char line[MAX_TOKEN_LINE];
    int lineno = 0;
    if (f == NULL) {
        k8c_errmsg_printf(errmsg, "open %s: %s", file, strerror(errno));
        return -errno;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        char *fields[4];
        size_t n = csv_split(line, fields, 4);
        if (n < 3 || fields[0][0] == '\0' || fields[1][0] == '\0') {
            k8c_errmsg_printf(errmsg, "%s:%d: want token,user,uid[,\"groups\"]", file, lineno);
            fclose(f);
            return K8C_EINVAL;
        }
        if (srv->ntokens >= MAX_TOKENS) {
            k8c_errmsg_printf(errmsg, "%s: more than %d tokens", file, MAX_TOKENS);
            fclose(f);
            return K8C_EINVAL;
        }
        srv->tokens = k8c_realloc(srv->tokens, (srv->ntokens + 1) * sizeof(*srv->tokens));
        struct api_token *t = &srv->tokens[srv->ntokens++];
        memset(t, 0, sizeof(*t));
        t->token = k8c_strdup(fields[0]);
        t->user = k8c_strdup(fields[1]);
        t->uid = k8c_strdup(fields[2]);
        if (n == 4) {
            for (char *save = NULL, *g = strtok_r(fields[3], ",", &save); g;
                 g = strtok_r(NULL, ",", &save)) {
                t->groups = k8c_realloc(t->groups, (t->ngroups + 1) * sizeof(char *));
                t->groups[t->ngroups++] = k8c_strdup(g);
            }
        }
    }
    fclose(f);
    return 0;
}

static bool group_listed(const char *groups, const char *g)
{
    size_t n = strlen(g);
    for (const char *p = groups; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, g, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

static void group_add(char *groups, size_t size, const char *g)
{
    size_t len = strlen(groups);
    if (len + strlen(g) + 2 <= size)
        snprintf(groups + len, size - len, "%s%s", len ? "," : "", g);
}

/* Go's url.PathUnescape of an Impersonate-Extra- key (lower case): %XX decoded; a malformed
 * escape keeps the key as it came (unescapeExtraKey). */
static void extra_key(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; *p != '\0' && o + 1 < size; p++) {
        if (*p != '%') {
            out[o++] = (char)tolower((unsigned char)*p);
            continue;
        }
        if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2])) {
            snprintf(out, size, "%s", in);
            for (char *q = out; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            return;
        }
        char hex[3] = {p[1], p[2], '\0'};
        out[o++] = (char)strtol(hex, NULL, 16);
        p += 2;
    }
    out[o] = '\0';
}

/* "system:serviceaccount:<ns>:<name>" into ns and name (serviceaccount.SplitUsername). */
static bool split_sa_username(const char *user, char *ns, size_t ns_size, const char **name)
{
    static const char prefix[] = "system:serviceaccount:";
    if (strncmp(user, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *rest = user + sizeof(prefix) - 1, *colon = strchr(rest, ':');
    if (colon == NULL || colon == rest || colon[1] == '\0' || strchr(colon + 1, ':') != NULL ||
        (size_t)(colon - rest) >= ns_size)
        return false;
    memcpy(ns, rest, (size_t)(colon - rest));
    ns[colon - rest] = '\0';
    *name = colon + 1;
    return true;
}

/*
 * Impersonation: the request acts as Impersonate-User (a service account when the name is one,
 * with its groups unless Impersonate-Group names others), in the Impersonate-Group groups, with
 * Impersonate-Uid; system:authenticated is added (system:unauthenticated for system:anonymous)
 * as upstream does. The authorizer lets every authenticated user impersonate; anonymous
 * requests may not. Returns false after answering.
 */
static bool impersonate(struct api_req *req)
{
    size_t n;
    const struct k8c_http_header *h = k8c_http_stream_headers(req->s, &n);
    const char *user = NULL, *uid = NULL;
    size_t ngroups = 0, nextra = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(h[i].name, "impersonate-user") == 0 && user == NULL)
            user = h[i].value;
        else if (strcasecmp(h[i].name, "impersonate-group") == 0)
            ngroups++;
        else if (strcasecmp(h[i].name, "impersonate-uid") == 0 && uid == NULL)
            uid = h[i].value;
        else if (strncasecmp(h[i].name, "impersonate-extra-", 18) == 0)
            nextra++;
    }
    if (user != NULL && user[0] == '\0')
        user = NULL;
    if (uid != NULL && uid[0] == '\0')
        uid = NULL;
    if (user == NULL && ngroups == 0 && uid == NULL && nextra == 0)
        return true;
    if (user == NULL) {
        /* upstream: the requests as ObjectReferences, in a plain 500 */
        struct k8c_sbuf msg;
        k8c_sbuf_init(&msg);
        k8c_sbuf_printf(&msg, "Internal Server Error: \"%s\": requested [",
                        k8c_http_stream_path(req->s));
        bool first = true;
        for (size_t i = 0; i < n; i++) {
            if (strcasecmp(h[i].name, "impersonate-group") == 0)
                k8c_sbuf_printf(&msg, "%s{Group  %s    }", first ? "" : " ", h[i].value);
            else if (strncasecmp(h[i].name, "impersonate-extra-", 18) == 0)
                k8c_sbuf_printf(&msg, "%s{UserExtra  %s  authentication.k8s.io/v1  %s}",
                                first ? "" : " ", h[i].value, h[i].name + 18);
            else
                continue;
            first = false;
        }
        if (uid != NULL)
            k8c_sbuf_printf(&msg, "%s{UID  %s  authentication.k8s.io/v1  }", first ? "" : " ", uid);
        k8c_sbuf_puts(&msg, "] without impersonating a user\n");
        api_respond_raw(req, 500, "text/plain; charset=utf-8", msg.data, msg.len);
        k8c_sbuf_free(&msg);
        return false;
    }
    char ns[256];
    const char *sa_name = NULL;
    bool sa = split_sa_username(user, ns, sizeof(ns), &sa_name);
    if (strcmp(req->user, "system:anonymous") == 0) {
        char msg[1024];
        if (sa)
            snprintf(msg, sizeof(msg),
                     "serviceaccounts \"%s\" is forbidden: User \"%s\" cannot impersonate "
                     "resource \"serviceaccounts\" in API group \"\" in the namespace \"%s\"",
                     sa_name, req->user, ns);
        else
            snprintf(msg, sizeof(msg),
                     "users \"%s\" is forbidden: User \"%s\" cannot impersonate resource "
                     "\"users\" in API group \"\" at the cluster scope",
                     user, req->user);
        api_respond_status(req, 403, "Forbidden", msg);
        return false;
    }
    snprintf(req->user, sizeof(req->user), "%s", user);
    req->groups[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, "impersonate-group") == 0)
            group_add(req->groups, sizeof(req->groups), h[i].value);
    if (sa && ngroups == 0) {
        char g[300];
        group_add(req->groups, sizeof(req->groups), "system:serviceaccounts");
        snprintf(g, sizeof(g), "system:serviceaccounts:%s", ns);
        group_add(req->groups, sizeof(req->groups), g);
    }
    if (strcmp(user, "system:anonymous") != 0) {
        if (!group_listed(req->groups, "system:authenticated") &&
            !group_listed(req->groups, "system:unauthenticated"))
            group_add(req->groups, sizeof(req->groups), "system:authenticated");
    } else if (!group_listed(req->groups, "system:unauthenticated")) {
        group_add(req->groups, sizeof(req->groups), "system:unauthenticated");
    }
    snprintf(req->uid, sizeof(req->uid), "%s", uid != NULL ? uid : "");
    struct k8c_sbuf extra;
    k8c_sbuf_init(&extra);
    for (size_t i = 0; i < n && extra.len < 8192; i++) {
        char key[256];
        if (strncasecmp(h[i].name, "impersonate-extra-", 18) != 0)
            continue;
        extra_key(h[i].name + 18, key, sizeof(key));
        if (strpbrk(key, "\t\n") == NULL && strpbrk(h[i].value, "\t\n") == NULL)
            k8c_sbuf_printf(&extra, "%s\t%s\n", key, h[i].value);
    }
    k8c_free(req->extra);
    req->extra = extra.len > 0 ? k8c_sbuf_detach(&extra) : NULL;
    k8c_sbuf_free(&extra);
    return true;
}

static bool authenticate(struct api_req *req);

bool api_authenticate(struct api_req *req)
{
    return authenticate(req) && impersonate(req);
}

static bool authenticate(struct api_req *req)
{
    struct api_server *srv = req->srv;
    const char *cn = k8c_http_stream_peer_cn(req->s);
    if (cn != NULL && cn[0] != '\0') {
        size_t n, len = 0;
        const char *const *orgs = k8c_http_stream_peer_orgs(req->s, &n);
        snprintf(req->user, sizeof(req->user), "%s", cn);
        for (size_t i = 0; i < n && len < sizeof(req->groups); i++)
            len += (size_t)snprintf(req->groups + len, sizeof(req->groups) - len, "%s%s",
                                    i ? "," : "", orgs[i]);
        return true;
    }
    const char *auth = k8c_http_stream_header(req->s, "authorization");
    if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *tok = auth + 7;
        while (*tok == ' ')
            tok++;
        for (size_t i = 0; i < srv->ntokens; i++) {
            if (strcmp(srv->tokens[i].token, tok) == 0) {
                size_t len = 0;
                snprintf(req->user, sizeof(req->user), "%s", srv->tokens[i].user);
                snprintf(req->uid, sizeof(req->uid), "%s", srv->tokens[i].uid);
                for (size_t g = 0; g < srv->tokens[i].ngroups && len < sizeof(req->groups); g++)
                    len += (size_t)snprintf(req->groups + len, sizeof(req->groups) - len, "%s%s",
                                            g ? "," : "", srv->tokens[i].groups[g]);
                return true;
            }
        }
        if (api_satoken_authenticate(srv, tok, req->user, sizeof(req->user), req->groups,
                                     sizeof(req->groups)) == 1)
            return true;
        api_respond_status(req, 401, "Unauthorized", "Unauthorized");
        return false;
    }
    if (srv->anonymous) {
        snprintf(req->user, sizeof(req->user), "system:anonymous");
        return true;
    }
    api_respond_status(req, 401, "Unauthorized", "Unauthorized");
    return false;
}
