/*
 * The API server's resource table: every REST resource it serves, with the
 * names discovery reports (plural, singular, kind, short names, categories,
 * verbs), whether it is namespaced, which subresources it has, where its
 * objects live in the store (upstream's keys: /registry/<storage>/<ns>/<name>)
 * and the protobuf-c descriptors of its object and list types.
 *
 * The table is static data; api_resources_init() resolves the descriptors
 * from the codec's kind registry once at start.
 */
#ifndef API_RESOURCES_H
#define API_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* Verbs, as discovery names them. */
enum {
    API_VERB_CREATE = 1u << 0,
    API_VERB_DELETE = 1u << 1,
    API_VERB_DELETECOLLECTION = 1u << 2,
    API_VERB_GET = 1u << 3,
    API_VERB_LIST = 1u << 4,
    API_VERB_PATCH = 1u << 5,
    API_VERB_UPDATE = 1u << 6,
    API_VERB_WATCH = 1u << 7,
};
#define API_VERBS_ALL 0xffu
#define API_VERBS_N   8
/* "create", "delete", ... in bit order. */
extern const char *const api_verb_names[API_VERBS_N];

/* Subresources. */
enum {
    API_SUB_STATUS = 1u << 0,
    API_SUB_SCALE = 1u << 1,       /* autoscaling/v1 Scale */
    API_SUB_BINDING = 1u << 2,     /* pods/binding */
    API_SUB_EVICTION = 1u << 3,    /* pods/eviction */
    API_SUB_LOG = 1u << 4,         /* pods/log */
    API_SUB_EXEC = 1u << 5,        /* pods/exec */
    API_SUB_ATTACH = 1u << 6,      /* pods/attach */
    API_SUB_PORTFORWARD = 1u << 7, /* pods/portforward */
    API_SUB_PROXY = 1u << 8,       /* pods/proxy, nodes/proxy, services/proxy */
    API_SUB_EPHEMERAL = 1u << 9,   /* pods/ephemeralcontainers */
    API_SUB_TOKEN = 1u << 10,      /* serviceaccounts/token (TokenRequest) */
    API_SUB_FINALIZE = 1u << 11,   /* namespaces/finalize: spec.finalizers */
};

struct api_resource {
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1" */
    const char *resource; /* plural: "pods" */
    const char *singular; /* "pod" */
    const char *kind;     /* "Pod" */
    bool namespaced;
    const char *storage; /* key segment under --etcd-prefix: "pods", "minions", "services/specs" */
    const char *short_names; /* comma-separated, "" for none: "po" */
    const char *categories;  /* comma-separated, "" for none: "all" */
    unsigned verbs;          /* API_VERB_* */
    unsigned subresources;   /* API_SUB_* */
    /* The version the objects are stored at when not this one (apiserver/convert.h): "v2" in
     * the same group, "<group>/<version>" in another ("/v1": core); or NULL */
    const char *storage_version;
    /* filled by api_resources_init */
    const struct api_resource *stored_as; /* the entry of storage_version, or NULL */
    const char *api_version;              /* "v1", "apps/v1" */
    const char *list_kind;                /* "PodList" */
    const ProtobufCMessageDescriptor *desc, *list_desc;
};

/* Resolves descriptors. Returns 0, or K8C_ENOTFOUND naming the first kind the
 * codec does not know in errmsg (a build error, not a runtime condition). */
int api_resources_init(char *errmsg);

/* The table (*n entries), in discovery order. */
const struct api_resource *api_resources(size_t *n);
/* By group ("" core), version and plural, or NULL. */
const struct api_resource *api_resource_find(const char *group, const char *version,
                                             const char *resource);
/* By apiVersion ("apps/v1") and kind, or NULL. */
const struct api_resource *api_resource_by_kind(const char *api_version, const char *kind);

/* Group/versions served, in discovery order: "v1" first, then "apps/v1", ...
 * (each once). *n entries; static storage. */
const char *const *api_group_versions(size_t *n);

#endif
