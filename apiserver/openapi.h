/*
 * OpenAPI documents of the API server, generated from the protobuf-c descriptors of the schema
 * (proto/k8s) and the resource table (resources.h):
 *
 *   GET /openapi/v3          the index: {"paths":{"api/v1":{"serverRelativeURL":
 *                            "/openapi/v3/api/v1?hash=<HASH>"},"apis/apps/v1":{...},...}}
 *   GET /openapi/v3/<gv>     one OpenAPI 3.0 document per group-version ("api/v1",
 *                            "apis/apps/v1"): the REST paths of its resources and every schema
 *                            they reference, under upstream's names
 *                            ("io.k8s.api.core.v1.Pod")
 *   GET /openapi/v2          one Swagger 2.0 document of everything: JSON, or protobuf when
 *                            asked for (client-go asks only for that)
 *
 * What kubectl needs from them (see the kubectl contract): every PATCH operation carries
 * "x-kubernetes-group-version-kind" and a "fieldValidation" query parameter, so kubectl leaves
 * validation to the server; schemas carry "x-kubernetes-group-version-kind" lists, properties,
 * types and short descriptions for `kubectl explain`. PATCH operations have no requestBody and
 * schemas no "x-kubernetes-patch-merge-key": kubectl then computes strategic merge patches
 * from its compiled-in types, which know the merge keys. (kubectl apply then asks /openapi/v2
 * which patch types a PATCH operation consumes: the "consumes" of v2 PATCH operations must
 * stay the wildcard alone, or kubectl would build strategic merge patches from v2 schemas
 * without merge keys.)
 *
 * Schemas follow the JSON the codec (lib/codec.c) reads and writes: field names are the proto
 * field names (with upstream's JSON spelling where the proto differs), Go `json:",inline"`
 * embeddings are flattened, and the special types are described as upstream does (Time:
 * string date-time; Quantity: oneOf string/number; IntOrString: format int-or-string, oneOf
 * integer/string; RawExtension and FieldsV1: object).
 *
 * The documents are generated once, on the first call of any function here (from any thread;
 * it calls api_resources_init() itself if nobody did), and then served from static memory.
 * Each document's hash is a stable hex digest of its text, so it changes only when the
 * document does.
 */
#ifndef API_OPENAPI_H
#define API_OPENAPI_H

#include <stddef.h>

#include "buf.h"

/* Appends the /openapi/v3 index (JSON). Returns 0, or the error of api_resources_init. */
int api_openapi_v3_index(struct k8c_sbuf *out);

/*
 * Appends the OpenAPI v3 document of one group-version. path is "api/v1" or "apis/<g>/<v>"
 * (a leading "/" and a "?query" are ignored). Returns 0, K8C_ENOTFOUND for a group-version
 * the server does not serve, or the error of api_resources_init.
 */
int api_openapi_v3_doc(const char *path, struct k8c_sbuf *out);

/*
 * The hash of the document api_openapi_v3_doc would return for path (the value in the
 * index's serverRelativeURL; usable as an ETag), or NULL for an unknown path. Static storage.
 */
const char *api_openapi_v3_hash(const char *path);

/* Appends the Swagger 2.0 JSON document of every served group-version. 0 or as above. */
int api_openapi_v2(struct k8c_sbuf *out);

/* The same document as client-go asks for it (Accept API_OPENAPI_V2_PROTOBUF): a gnostic
 * openapi.v2.Document in protobuf (github.com/google/gnostic-models, OpenAPIv2.proto), served
 * with Content-Type API_OPENAPI_V2_PROTOBUF_TYPE. 0 or as above. */
#define API_OPENAPI_V2_PROTOBUF      "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
#define API_OPENAPI_V2_PROTOBUF_TYPE "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
int api_openapi_v2_proto(struct k8c_sbuf *out);

#endif
