/*
 * The reflective codec: converts protobuf-c messages of the Kubernetes schema (proto/k8s) to
 * and from JSON, YAML and Kubernetes protobuf, driven only by protobuf-c descriptors. There is
 * no per-type JSON code; the few Kubernetes special types are recognised by message full name:
 *
 *   meta.v1.Time          "2024-01-02T03:04:05Z" (RFC 3339, seconds), null when unset
 *   meta.v1.MicroTime     "2024-01-02T03:04:05.123456Z"
 *   meta.v1.Duration      "1h2m3s" (Go time.Duration)
 *   resource.Quantity     canonical string ("1.5" -> "1500m"); numbers accepted on input
 *   intstr.IntOrString    JSON number or string
 *   runtime.RawExtension, meta.v1.FieldsV1   raw JSON embedded as is
 *   meta.v1.Verbs, *.ExtraValue   (named string slices) JSON arrays of strings
 *   bytes                 base64 (standard alphabet)
 *   map<k, v>             JSON objects (written with sorted keys, as Go does)
 *   int64                 JSON numbers
 *
 * Fields are written in declaration order of the .proto files (upstream's Go struct order),
 * top-level kinds start with "kind" and "apiVersion" as kubectl prints them, and Go's
 * `json:",inline"` embeddings (Volume.volumeSource, Probe.handler, ...) are flattened into
 * their parent object. Every field that is present in the message (has_ flag, non-NULL pointer,
 * non-empty repeated) is written, so JSON -> message -> JSON keeps `"replicas": 0` and `{}`.
 * ObjectMeta.creationTimestamp is written as null when unset, as upstream does.
 *
 * Decoding: JSON null means "absent". Unknown and duplicate fields are not errors: they are
 * collected in struct k8c_codec_diag with upstream's wording (`unknown field "spec.foo"`,
 * `duplicate field "metadata.name"`) so the API server can apply fieldValidation
 * Strict/Warn/Ignore. Type errors fail with the JSON path: `spec.replicas: expected integer,
 * got string`. Inputs are bounded (size, nesting depth 100) and any input is safe to decode.
 *
 * Memory: decoded messages are allocated with the ProtobufCAllocator passed in (NULL = the
 * default malloc allocator: free with protobuf_c_message_free_unpacked(msg, NULL)); pass
 * k8c_arena_protobuf_allocator(arena) to decode with no per-field malloc and release the whole
 * message with the arena.
 *
 * Kubernetes protobuf: "k8s\0" followed by runtime.Unknown {typeMeta {apiVersion, kind},
 * raw = the encoded message, contentEncoding = "", contentType = ""}, byte-compatible with
 * client-go.
 *
 * Thread safety: all functions may be called from any thread; per-descriptor lookup tables are
 * built once, lock-free.
 */
#ifndef K8C_CODEC_H
#define K8C_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "buf.h"
#include "error.h"
#include "json.h"

/* ---- kinds ---------------------------------------------------------------------------------- */

struct k8c_codec_kind {
    const char *api_version; /* "v1", "apps/v1" */
    const char *kind;        /* "Pod", "DeploymentList" */
    const ProtobufCMessageDescriptor *desc;
};

/* The registered top-level kind, or NULL. */
const struct k8c_codec_kind *k8c_codec_lookup_kind(const char *api_version, const char *kind);
/* The kind whose message type is desc (first registered if several), or NULL. */
const struct k8c_codec_kind *k8c_codec_lookup_desc(const ProtobufCMessageDescriptor *desc);
/* All kinds: a static array of *n entries. */
const struct k8c_codec_kind *k8c_codec_kinds(size_t *n);

/* ---- diagnostics ---------------------------------------------------------------------------- */

#define K8C_CODEC_MAX_WARNINGS 100

struct k8c_codec_diag {
    /* in */
    bool ignore_fields; /* skip collecting unknown/duplicate fields (fieldValidation=Ignore) */
    /* How value errors of decoding a tree are worded: K8C_CODEC_ERRORS_OWN (`spec.replicas:
     * expected integer, got string`), or as the API server answers them: as Go's encoding/json
     * decoding into the Go types (K8C_CODEC_ERRORS_GO_JSON: `json: cannot unmarshal string into
     * Go struct field DeploymentSpec.spec.replicas of type int32`, `illegal base64 data at
     * input byte 4`), or as apimachinery's unstructured converter (K8C_CODEC_ERRORS_GO_CONVERTER,
     * a strategic merge patch's result: `unrecognized type: int32`, `cannot restore slice from
     * map`). */
    enum { K8C_CODEC_ERRORS_OWN, K8C_CODEC_ERRORS_GO_JSON, K8C_CODEC_ERRORS_GO_CONVERTER } errors;
    /* out */
    char **warnings; /* "unknown field \"spec.foo\"", "duplicate field \"metadata.name\"" */
    size_t n_warnings;
    char errmsg[K8C_ERRMSG_SIZE]; /* set when a function fails */
    /* The document's top-level "kind" and "apiVersion" (k8c_codec_tree_to_msg), for the caller
     * to compare with the type it asked for: 1 when a string (in kind/api_version, cut at 255
     * bytes), -1 when another JSON type (JSON null counts as absent: 0). */
    int has_kind, has_api_version;
    char kind[256], api_version[256];
    /* k8c_codec_json_decode: the text parsed as JSON (a later failure is the tree's) */
    bool parsed;
};

/* Zeroes d (all defaults). */
void k8c_codec_diag_init(struct k8c_codec_diag *d);
/* Frees the warnings; d is left initialised. */
void k8c_codec_diag_free(struct k8c_codec_diag *d);

/* ---- limits --------------------------------------------------------------------------------- */

#define K8C_CODEC_MAX_INPUT (64u << 20) /* bytes of JSON, YAML or protobuf per object/stream */
#define K8C_CODEC_MAX_DEPTH 100
#define K8C_CODEC_MAX_DOCS  10000 /* YAML documents per stream */

/* ---- trees <-> messages --------------------------------------------------------------------- */

/*
 * Converts a JSON tree into a new message of type desc. "apiVersion" and "kind" are accepted
 * (and not stored) on a registered top-level kind. Returns 0 and *out, or K8C_EINVAL
 * (wrong JSON type, bad value) / K8C_EDEPTH with the path and reason in d->errmsg. d is
 * required.
 */
int k8c_codec_tree_to_msg(const ProtobufCMessageDescriptor *desc, const struct k8c_json *tree,
                          ProtobufCAllocator *alloc, struct k8c_codec_diag *d,
                          ProtobufCMessage **out);

/* Encoder flags. */
#define K8C_CODEC_TYPE_META 1u /* start a registered kind with "kind" and "apiVersion" */

/*
 * Converts msg into a JSON tree in arena a. Returns 0, or K8C_EPROTO when a RawExtension or
 * FieldsV1 holds bytes that are not JSON (errmsg, may be NULL).
 */
int k8c_codec_msg_to_tree(struct k8c_arena *a, const ProtobufCMessage *msg, unsigned flags,
                          struct k8c_json **out, char *errmsg);

/* ---- JSON ----------------------------------------------------------------------------------- */

/*
 * Decodes one JSON object. With desc NULL, the type comes from its "apiVersion" and "kind"
 * (K8C_ENOTFOUND when not registered, K8C_EINVAL when missing). *kind_out (may be NULL)
 * receives the registered kind of the result or NULL. Errors as k8c_json_parse and
 * k8c_codec_tree_to_msg, with the message in d->errmsg. The intermediate JSON tree lives in a
 * scratch arena that each thread keeps (64 KiB, freed when the thread exits).
 */
int k8c_codec_json_decode(const ProtobufCMessageDescriptor *desc, const char *data, size_t len,
                          ProtobufCAllocator *alloc, struct k8c_codec_diag *d,
                          ProtobufCMessage **out);

/* Appends msg as JSON; indent 0 = compact, 4 = kubectl -o json. Errors as msg_to_tree (and
 * then nothing is appended). The text is that of msg_to_tree + k8c_json_write, written
 * directly. */
int k8c_codec_json_encode(struct k8c_sbuf *out, const ProtobufCMessage *msg, unsigned flags,
                          int indent, char *errmsg);

/* ---- YAML ----------------------------------------------------------------------------------- */

/*
 * Parses a YAML stream (libyaml; documents separated by "---") into JSON trees in arena a:
 * *docs is an arena array of *n_docs trees (empty documents are skipped). Plain scalars are
 * resolved as YAML 1.1 (null ~ true false yes no on off, integers, floats) and keep their
 * source text (K8C_JSON_F_PLAIN), so a string field still accepts `name: yes`. Anchors and
 * aliases are rejected. Returns 0, K8C_EPARSE (errmsg with line and column), K8C_EDEPTH or
 * K8C_ETOOBIG.
 */
int k8c_codec_yaml_parse(struct k8c_arena *a, const char *data, size_t len, struct k8c_json ***docs,
                         size_t *n_docs, char *errmsg);

/* Appends tree as one block-style YAML document like kubectl -o yaml: keys sorted, 2-space
 * indent, sequences not indented inside mappings, strings quoted only where needed. */
int k8c_codec_yaml_write(struct k8c_sbuf *out, const struct k8c_json *tree, char *errmsg);

/* msg -> tree -> YAML document. */
int k8c_codec_yaml_encode(struct k8c_sbuf *out, const ProtobufCMessage *msg, unsigned flags,
                          char *errmsg);

/* ---- Kubernetes protobuf -------------------------------------------------------------------- */

/*
 * Appends "k8s\0" + runtime.Unknown wrapping msg. api_version/kind NULL = from the kind
 * registry (K8C_ENOTFOUND if msg's type is not registered).
 */
int k8c_codec_proto_encode(struct k8c_sbuf *out, const ProtobufCMessage *msg,
                           const char *api_version, const char *kind, char *errmsg);

/*
 * Reads the envelope only: the apiVersion/kind (pointers into data, with lengths) and the
 * raw message bytes. 0, or K8C_EPROTO (bad magic or envelope), K8C_ETOOBIG.
 */
struct k8c_codec_envelope {
    const char *api_version, *kind;
    size_t api_version_len, kind_len;
    const uint8_t *raw;
    size_t raw_len;
};
int k8c_codec_proto_unwrap(const uint8_t *data, size_t len, struct k8c_codec_envelope *env,
                           char *errmsg);

/*
 * Decodes an envelope into a message. With desc NULL the type comes from the envelope's
 * apiVersion/kind (K8C_ENOTFOUND when not registered). The raw bytes must be well-formed and
 * nested at most K8C_CODEC_MAX_DEPTH deep; the result is what k8c_codec_proto_check followed by
 * protobuf_c_message_unpack and k8c_codec_clear_go_zeros gives (Kubernetes types are decoded
 * in one pass that does all three). 0 or K8C_EPROTO / K8C_ENOTFOUND / K8C_ETOOBIG / K8C_EDEPTH
 * with errmsg. Decoding into an arena (k8c_arena_protobuf_allocator) is about twice as fast as
 * with malloc.
 */
int k8c_codec_proto_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                           ProtobufCAllocator *alloc, ProtobufCMessage **out, char *errmsg);

/* Checks that len bytes are a well-formed encoding of desc nested at most max_depth deep. */
int k8c_codec_proto_check(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                          unsigned max_depth, char *errmsg);

/*
 * Strings are C strings here: a NUL in one would cut it short, and the rest
 * of it would be lost without a word. Decoding a tree (JSON, YAML) refuses
 * such a string; input in protobuf is checked by k8c_codec_proto_check_strings
 * (the raw message, as k8c_codec_proto_check; K8C_EINVAL and errmsg
 * "Type.field: " K8C_CODEC_NUL_STRING when a string field holds a NUL).
 * Stored objects are not checked: what the store holds is read as it can be.
 */
#define K8C_CODEC_NUL_STRING "a NUL character (\\u0000) in a string is not supported"
int k8c_codec_proto_check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                  size_t len, char *errmsg);

/*
 * Go zero values. Go's protobuf marshaller writes every non-pointer scalar field of a Go struct
 * (string, integer, bool), zero or not, and a pointer field (*int32, *bool, *string) only when
 * it is non-nil; protobuf-c then marks all of them present. Upstream's JSON omits a zero value
 * field tagged omitempty (`paused: false`, `nodeName: ""`, `generation: 0`) but shows an
 * explicit zero of a pointer field (`replicas: 0`, `automountServiceAccountToken: false`) and
 * any value of a field without omitempty (Container.name, ContainerPort.containerPort).
 *
 * k8c_codec_clear_go_zeros clears, in msg and every message below it, the presence of each
 * singular scalar field that holds its zero value ("", 0, false, empty bytes) unless upstream's
 * JSON shows that zero; message fields, repeated fields, map entries and the special types are
 * left as they are, and so is every message that is not an upstream Go struct. alloc is the
 * allocator msg was unpacked with (NULL = the default one of k8c_codec_proto_decode); cleared
 * empty strings are freed with it. k8c_codec_proto_decode calls it on every message it returns.
 *
 * k8c_codec_go_zero_kept (generated from the upstream Go types: lib/codec_presence.c) returns,
 * for a message full name, the NULL-terminated list of its scalar fields whose zero value is
 * kept, or NULL when the message is not an upstream Go struct with scalar fields. The list is
 * static.
 */
void k8c_codec_clear_go_zeros(ProtobufCMessage *msg, ProtobufCAllocator *alloc);
const char *const *k8c_codec_go_zero_kept(const char *message);

/*
 * Fields Go always writes. A message field whose Go type is a struct value (not a pointer), such
 * as Container.resources, Deployment.status or PodTemplateSpec.metadata, is always in upstream's
 * JSON: encoding/json does not omit structs. So is a scalar value field without omitempty
 * (PodDisruptionBudgetStatus.currentHealthy, core/v1 Event.reportingComponent). The JSON
 * encoders (k8c_codec_json_encode, k8c_codec_msg_to_tree) write such a field when it is unset
 * as an empty message or the zero value (`resources: {}`, `status: {loadBalancer: {}}`,
 * `metadata: {creationTimestamp: null}`, `reportingComponent: ""`), so clients, JSON patches and
 * field sets see what upstream's do. A slice without omitempty (ClusterRole.rules,
 * EndpointSlice.endpoints, HorizontalPodAutoscalerStatus.currentMetrics) is nil in Go after
 * protobuf decoding, so an empty one is written as null (`rules: null`); lists and discovery
 * documents, which the API server builds with non-nil slices, are not in the table. Protobuf
 * output is unchanged: an absent field decodes to the same zero value in Go.
 *
 * k8c_codec_go_value_fields (generated with k8c_codec_go_zero_kept) returns the NULL-terminated
 * list of such fields of a message full name, or NULL when it has none.
 */
const char *const *k8c_codec_go_value_fields(const char *message);

/*
 * Go `json:",inline"` embeddings (other than TypeMeta/ObjectMeta, which are not in the proto
 * schema): whether field `field` of the message with full name `message` (both proto names,
 * e.g. "k8s.io.api.core.v1.Volume", "volumeSource") is a message whose fields the codec writes
 * and reads directly in the parent JSON object. One table for the codec and the OpenAPI
 * schemas.
 */
bool k8c_codec_is_inline_field(const char *message, const char *field);

/* Whether d is a protobuf map entry (a Go map field: message "...Entry" with key = 1 and
 * value = 2). */
bool k8c_codec_is_map_entry(const ProtobufCMessageDescriptor *d);

/* Go's RFC 3339 UTC time as upstream writes meta/v1 Time ("2006-01-02T15:04:05Z") or, with
 * micro, MicroTime ("2006-01-02T15:04:05.000000Z"), into buf; returns the length, as snprintf. */
int k8c_codec_format_time(char *buf, size_t size, int64_t secs, int32_t nanos, bool micro);

/* Protobuf base-128 varints: the bytes v takes (1..10), and v written at p
 * (room for k8c_codec_varint_len(v) bytes), returning the end. */
size_t k8c_codec_varint_len(uint64_t v);
uint8_t *k8c_codec_varint_put(uint8_t *p, uint64_t v);
/* Reads a varint at *p (< end), moving *p past it; -1 on truncation or overlong. */
int k8c_codec_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);

#endif
