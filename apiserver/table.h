/*
 * Server-side Table output (meta.k8s.io/v1 Table): the columns and the cells kube-apiserver
 * 1.32 prints for each resource, so `kubectl get` shows what it shows against upstream.
 *
 * Column sets, column types, priorities and cell logic follow upstream's internal printers
 * (pkg/printers/internalversion) as the API server runs them, that is always with the wide
 * columns (priority 1) included; kubectl hides those unless -o wide. Resources without a
 * printer of their own (roles, clusterroles, limitranges, ...) get upstream's default table:
 * Name and "Created At" (RFC 3339). Cells are JSON values of the Go types upstream appends:
 * strings, integers, booleans. Column descriptions are our own short texts.
 *
 * The module is pure: objects in (protobuf-c messages of the resource's type), JSON cells out,
 * with the current time injected for the AGE-like cells.
 */
#ifndef API_TABLE_H
#define API_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "json.h"
#include "resources.h"

/* One column definition, as meta.k8s.io/v1 TableColumnDefinition names its fields. */
struct api_table_column {
    const char *name;        /* "Name", "Ready", "Port(s)" */
    const char *type;        /* "string", "integer", "boolean", "date" */
    const char *format;      /* "name" for the object-name column, else "" */
    const char *description; /* a short text of our own */
    int priority;            /* 0 = always shown, 1 = shown by kubectl -o wide */
};

/*
 * The columns for resource r: a static array of *n entries, valid for the program's life.
 * Every set but the events' starts with Name (events start with Last Seen, as upstream's).
 */
const struct api_table_column *api_table_columns(const struct api_resource *r, size_t *n);

/*
 * The same for objects of type desc served under r: a subresource's own kind has its own
 * columns (autoscaling/v1 Scale, for .../deployments/x/scale: Name, Desired, Available, Age,
 * as upstream's printScale). api_table_prints tells whether r's Tables can show such an object
 * (r's own type or a kind with columns of its own).
 */
const struct api_table_column *api_table_columns_of(const struct api_resource *r,
                                                    const ProtobufCMessageDescriptor *desc,
                                                    size_t *n);
bool api_table_prints(const struct api_resource *r, const ProtobufCMessageDescriptor *desc);

/*
 * Appends one JSON cell per column of r (api_table_columns order) to the array `cells`, for
 * obj, which must be a message of r's object type. now is the current time in Unix seconds
 * (AGE, restarts "ago", job durations, event times are relative to it). Everything appended is
 * allocated in arena a. Returns 0, or K8C_EINVAL (nothing appended) when obj is not of r's type.
 */
int api_table_cells(struct k8c_arena *a, const struct api_resource *r, const ProtobufCMessage *obj,
                    int64_t now, struct k8c_json *cells);

/*
 * The row's "conditions" (TableRowCondition) for obj, or NULL when it has none (upstream omits
 * the field then): a finished pod gets {type Completed, status True, reason Succeeded|Failed}.
 * Allocated in arena a.
 */
struct k8c_json *api_table_row_conditions(struct k8c_arena *a, const struct api_resource *r,
                                          const ProtobufCMessage *obj);

/*
 * The columnDefinitions array of r's Table as JSON (objects with name, type, format,
 * description and priority, all present as upstream writes them), in arena a.
 */
struct k8c_json *api_table_column_definitions(struct k8c_arena *a, const struct api_resource *r);

/* Bytes enough for any api_table_human_duration text plus NUL. */
#define API_TABLE_DURATION_MAX 32

/*
 * Upstream's duration.HumanDuration of ns nanoseconds ("45s", "3m20s", "150m", "5h3m", "2d4h",
 * "400d", "3y12d"; "0s" for up to 2 s in the future, "<invalid>" beyond). Writes into buf
 * (API_TABLE_DURATION_MAX bytes) and returns buf.
 */
const char *api_table_human_duration(int64_t ns, char *buf);

#endif
