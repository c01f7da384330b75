/*
 * Authentication, as kube-apiserver does it for the two methods k8c
 * supports: x509 client certificates verified against --client-ca-file (the
 * subject's CN is the user, each O a group) and a static token file
 * (--token-auth-file, CSV: token,user,uid[,"group1,group2"]). Requests with
 * neither are anonymous ("system:anonymous"), allowed only with
 * --anonymous-auth. Authorization is the next seam: today every
 * authenticated user may do everything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
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

bool api_authenticate(struct api_req *req)
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
