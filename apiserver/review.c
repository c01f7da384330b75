/*
 * Resources that are answered, not stored: TokenReview (is this bearer token
 * one of ours, and whose is it), SubjectAccessReview and
 * SelfSubjectAccessReview (may this user do that: today the authorizer lets
 * every authenticated user do everything, so the answer is always allowed),
 * SelfSubjectRulesReview (what may this user do: everything, said as the
 * rules "*" on every resource and non-resource URL; kubectl auth can-i
 * --list), and POST .../bindings, the older form of pods/binding.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "k8s/api/authentication/v1/generated.pb-c.h"
#include "k8s/api/authorization/v1/generated.pb-c.h"
#include "k8s/api/core/v1/generated.pb-c.h"
#include "object.h"
#include "server.h"

typedef K8s__Io__Api__Authorization__V1__SubjectAccessReviewStatus sar_status_t;

static sar_status_t *allowed_status(void)
{
    sar_status_t *st = k8c_malloc(sizeof(*st));
    k8s__io__api__authorization__v1__subject_access_review_status__init(st);
    st->has_allowed = true;
    st->allowed = true;
    st->reason = k8c_strdup("k8c allows every authenticated user");
    return st;
}

typedef K8s__Io__Api__Authorization__V1__SubjectRulesReviewStatus rules_status_t;

static char **star_list(size_t *n)
{
    char **v = k8c_calloc(1, sizeof(char *));
    v[0] = k8c_strdup("*");
    *n = 1;
    return v;
}

/* The authorizer's rules for any user: every verb on everything. */
static rules_status_t *all_rules(void)
{
    rules_status_t *st = k8c_malloc(sizeof(*st));
    k8s__io__api__authorization__v1__subject_rules_review_status__init(st);
    K8s__Io__Api__Authorization__V1__ResourceRule *rr = k8c_malloc(sizeof(*rr));
    k8s__io__api__authorization__v1__resource_rule__init(rr);
    rr->verbs = star_list(&rr->n_verbs);
    rr->apigroups = star_list(&rr->n_apigroups);
    rr->resources = star_list(&rr->n_resources);
    st->resourcerules = k8c_calloc(1, sizeof(*st->resourcerules));
    st->resourcerules[st->n_resourcerules++] = rr;
    K8s__Io__Api__Authorization__V1__NonResourceRule *nr = k8c_malloc(sizeof(*nr));
    k8s__io__api__authorization__v1__non_resource_rule__init(nr);
    nr->verbs = star_list(&nr->n_verbs);
    nr->nonresourceurls = star_list(&nr->n_nonresourceurls);
    st->nonresourcerules = k8c_calloc(1, sizeof(*st->nonresourcerules));
    st->nonresourcerules[st->n_nonresourcerules++] = nr;
    st->has_incomplete = true;
    st->incomplete = false;
    return st;
}

typedef K8s__Io__Api__Authentication__V1__UserInfo__ExtraEntry extra_entry_t;

/* The impersonated extra ("key\tvalue\n" lines) into u->extra, the values of a key together. */
static void user_info_extra(K8s__Io__Api__Authentication__V1__UserInfo *u, const char *extra)
{
    for (const char *p = extra; p != NULL && *p != '\0';) {
        const char *tab = strchr(p, '\t'), *nl = tab ? strchr(tab, '\n') : NULL;
        if (tab == NULL || nl == NULL)
            break;
        extra_entry_t *e = NULL;
        for (size_t i = 0; i < u->n_extra && e == NULL; i++)
            if (strlen(u->extra[i]->key) == (size_t)(tab - p) &&
                strncmp(u->extra[i]->key, p, (size_t)(tab - p)) == 0)
                e = u->extra[i];
        if (e == NULL) {
            e = k8c_malloc(sizeof(*e));
            k8s__io__api__authentication__v1__user_info__extra_entry__init(e);
            e->key = k8c_strndup(p, (size_t)(tab - p));
            e->value = k8c_malloc(sizeof(*e->value));
            k8s__io__api__authentication__v1__extra_value__init(e->value);
            u->extra = k8c_realloc(u->extra, (u->n_extra + 1) * sizeof(*u->extra));
            u->extra[u->n_extra++] = e;
        }
        e->value->items =
            k8c_realloc(e->value->items, (e->value->n_items + 1) * sizeof(*e->value->items));
        e->value->items[e->value->n_items++] = k8c_strndup(tab + 1, (size_t)(nl - tab - 1));
        p = nl + 1;
    }
}

static void token_review(struct api_req *req, ProtobufCMessage *obj)
{
    K8s__Io__Api__Authentication__V1__TokenReview *tr =
        (K8s__Io__Api__Authentication__V1__TokenReview *)obj;
    struct api_server *srv = req->srv;
    if (tr->status != NULL)
        api_obj_free(&tr->status->base);
    tr->status = k8c_malloc(sizeof(*tr->status));
    k8s__io__api__authentication__v1__token_review_status__init(tr->status);
    tr->status->has_authenticated = true;
    const char *tok = tr->spec && tr->spec->token ? tr->spec->token : "";
    for (size_t i = 0; i < srv->ntokens; i++) {
        const struct api_token *t = &srv->tokens[i];
        if (strcmp(t->token, tok) != 0)
            continue;
        K8s__Io__Api__Authentication__V1__UserInfo *u = k8c_malloc(sizeof(*u));
        k8s__io__api__authentication__v1__user_info__init(u);
        u->username = k8c_strdup(t->user);
        u->uid = k8c_strdup(t->uid);
        u->groups = k8c_calloc(t->ngroups + 1, sizeof(char *));
        for (size_t g = 0; g < t->ngroups; g++)
            u->groups[u->n_groups++] = k8c_strdup(t->groups[g]);
        u->groups[u->n_groups++] = k8c_strdup("system:authenticated");
        tr->status->authenticated = true;
        tr->status->user = u;
        break;
    }
}

bool api_review(struct api_req *req)
{
    const char *r = req->res->resource;
    if (strcmp(r, "bindings") == 0) {
        /* POST namespaces/<ns>/bindings {metadata: {name: <pod>}, target} */
        K8s__Io__Api__Core__V1__Binding *b = (K8s__Io__Api__Core__V1__Binding *)api_decode_body(
            req, &k8s__io__api__core__v1__binding__descriptor);
        if (b == NULL)
            return true;
        const char *name = b->metadata && b->metadata->name ? b->metadata->name : "";
        snprintf(req->name, sizeof(req->name), "%s", name);
        api_obj_free(&b->base);
        req->res = api_resource_find("", "v1", "pods");
        snprintf(req->sub, sizeof(req->sub), "binding");
        api_subresource(req);
        return true;
    }
    if (strcmp(r, "selfsubjectreviews") == 0) {
        K8s__Io__Api__Authentication__V1__SelfSubjectReview *sr =
            (K8s__Io__Api__Authentication__V1__SelfSubjectReview *)api_decode_body(
                req, &k8s__io__api__authentication__v1__self_subject_review__descriptor);
        if (sr == NULL)
            return true;
        if (sr->status != NULL)
            api_obj_free(&sr->status->base);
        sr->status = k8c_malloc(sizeof(*sr->status));
        k8s__io__api__authentication__v1__self_subject_review_status__init(sr->status);
        K8s__Io__Api__Authentication__V1__UserInfo *u = k8c_malloc(sizeof(*u));
        k8s__io__api__authentication__v1__user_info__init(u);
        u->username = k8c_strdup(req->user);
        if (req->uid[0] != '\0')
            u->uid = k8c_strdup(req->uid);
        u->groups = k8c_calloc(34, sizeof(char *));
        char groups[sizeof(req->groups)];
        bool all = false; /* impersonation names system:(un)authenticated itself */
        snprintf(groups, sizeof(groups), "%s", req->groups);
        for (char *save = NULL, *g = strtok_r(groups, ",", &save); g && u->n_groups < 32;
             g = strtok_r(NULL, ",", &save)) {
            all |=
                strcmp(g, "system:authenticated") == 0 || strcmp(g, "system:unauthenticated") == 0;
            u->groups[u->n_groups++] = k8c_strdup(g);
        }
        if (!all)
            u->groups[u->n_groups++] =
                k8c_strdup(strcmp(req->user, "system:anonymous") == 0 ? "system:unauthenticated"
                                                                      : "system:authenticated");
        user_info_extra(u, req->extra);
        sr->status->userinfo = u;
        api_respond_object(req, 201, &sr->base);
        api_obj_free(&sr->base);
        return true;
    }
    bool token = strcmp(r, "tokenreviews") == 0;
    bool sar = strcmp(r, "subjectaccessreviews") == 0;
    bool self = strcmp(r, "selfsubjectaccessreviews") == 0;
    bool rules = strcmp(r, "selfsubjectrulesreviews") == 0;
    if (!token && !sar && !self && !rules)
        return false;
    ProtobufCMessage *obj = api_decode_body(req, req->res->desc);
    if (obj == NULL)
        return true;
    if (token) {
        token_review(req, obj);
    } else if (rules) {
        ProtobufCMessage **st = api_obj_field(obj, "status");
        if (st != NULL) {
            api_obj_free(*st);
            *st = &all_rules()->base;
        }
    } else {
        ProtobufCMessage **st = api_obj_field(obj, "status");
        if (st != NULL) {
            api_obj_free(*st);
            *st = &allowed_status()->base;
        }
    }
    api_respond_object(req, 201, obj);
    api_obj_free(obj);
    return true;
}
