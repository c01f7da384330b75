/*
 * Label selectors and field selectors, as upstream's k8s.io/apimachinery/pkg/labels and
 * pkg/fields parse and match them (Kubernetes 1.32). A pure module: strings and label sets
 * in, parsed selectors and booleans out; no I/O.
 *
 * Label selectors ("?labelSelector=" and metav1.LabelSelector):
 *   app=web,tier!=db,env in (prod,staging),release notin (canary),critical,!legacy,gen>3
 * are parsed once into a struct api_label_selector (requirements sorted by key, each
 * requirement's values a sorted set) and matched against an object's labels, given either as
 * an array of struct api_label pairs or as protobuf-c ObjectMeta labels entries. Keys and
 * values are validated as upstream (qualified names, label values) and errors carry upstream's
 * wording, e.g. "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt,
 * lt" (truncated to K8C_ERRMSG_SIZE).
 *
 * Field selectors ("?fieldSelector="): spec.nodeName=n1,status.phase!=Running, with
 * backslash escapes \\ \, \= in values, are parsed into requirements and matched against a
 * small name -> value set the caller extracts from the object for its kind (a field absent
 * from the set has the value ""). api_fields_check_supported rejects fields the kind does not
 * support with upstream's "field label not supported: <name>".
 *
 * Both parsers take untrusted input: strings longer than API_SELECTOR_MAX_LEN, more than
 * API_SELECTOR_MAX_REQUIREMENTS requirements or more than API_SELECTOR_MAX_VALUES values in
 * one set are refused with K8C_ETOOBIG. All errors map to HTTP 400 Bad Request.
 *
 * Ownership: a parsed selector owns all its strings (copies of the input); the input string
 * and label sets are only borrowed for the duration of a call. Selectors are immutable after
 * parsing, so one selector may be matched from any number of places.
 */
#ifndef K8C_API_SELECTOR_H
#define K8C_API_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"

/* Longest selector string accepted (bytes). */
#define API_SELECTOR_MAX_LEN (64 * 1024)
/* Most requirements (comma-separated terms) in one selector. */
#define API_SELECTOR_MAX_REQUIREMENTS 1024
/* Most values in one "in"/"notin" set or one LabelSelectorRequirement. */
#define API_SELECTOR_MAX_VALUES 4096

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta api_object_meta_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__ObjectMeta__LabelsEntry api_labels_entry_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelector api_label_selector_msg_t;

/* Operators, as upstream's selection.Operator. Field selectors use only EQUALS and
 * NOT_EQUALS ("==" in a field selector is stored as EQUALS, as upstream does). */
enum api_selector_op {
    API_SELECTOR_IN,             /* key in (a,b)      */
    API_SELECTOR_NOT_IN,         /* key notin (a,b)   */
    API_SELECTOR_EQUALS,         /* key=a             */
    API_SELECTOR_DOUBLE_EQUALS,  /* key==a            */
    API_SELECTOR_NOT_EQUALS,     /* key!=a            */
    API_SELECTOR_EXISTS,         /* key               */
    API_SELECTOR_DOES_NOT_EXIST, /* !key              */
    API_SELECTOR_GREATER_THAN,   /* key>3 (integers)  */
    API_SELECTOR_LESS_THAN,      /* key<3 (integers)  */
};

/* ------------------------------------------------------------------------------------------ */
/* Label selectors                                                                            */

struct api_label_requirement {
    char *key;
    enum api_selector_op op;
    size_t n_values;
    /* Parsed selectors: a sorted set without duplicates (upstream's sets.String). Converted
     * metav1.LabelSelectors: the values as given. Empty for EXISTS and DOES_NOT_EXIST. */
    char **values;
    int64_t number; /* GREATER_THAN / LESS_THAN: the value as an integer */
};

struct api_label_selector {
    /* Matches nothing: a nil metav1.LabelSelector (upstream labels.Nothing()). */
    bool nothing;
    size_t n_requirements;
    struct api_label_requirement *requirements; /* AND of all, sorted by key (stable) */
};

/* One label of an object; both strings borrowed. A NULL value reads as "". */
struct api_label {
    const char *key;
    const char *value;
};

/* An empty selector that matches everything (upstream labels.Everything()). Never fails. */
/* Appends s quoted as Go's %q (strconv.Quote) does: ASCII escapes, valid
 * multi-byte UTF-8 copied, invalid bytes as \xNN. */
void api_go_quote(struct k8c_sbuf *sb, const char *s, size_t len);

void api_labels_init(struct api_label_selector *sel);
/* A selector that matches nothing (upstream labels.Nothing()). */
void api_labels_init_nothing(struct api_label_selector *sel);
/* Frees what sel owns and leaves it an empty (match-everything) selector. */
void api_labels_free(struct api_label_selector *sel);

/*
 * Parses len bytes of s, a label selector in upstream's string syntax, into *sel (which need
 * not be initialised; on return it always is, and must be freed with api_labels_free; on
 * error it is the empty selector). The empty string and all-whitespace strings give the
 * empty selector, which matches everything. Returns 0 or
 *   K8C_EPARSE   syntax error ("unable to parse requirement: found ',', expected: ...",
 *                "found 'x', expected: ',' or 'end of string'", ...)
 *   K8C_EINVAL   a key or value that is not a valid label key or value, or a "<"/">" operand
 *                that is not an integer ("unable to parse requirement: <nil>: Invalid value:
 *                \"A_\": name part must consist of ...")
 *   K8C_ETOOBIG  over the size limits above
 * with a message in errmsg (K8C_ERRMSG_SIZE bytes; may be NULL).
 */
int api_labels_parse(const char *s, size_t len, struct api_label_selector *sel, char *errmsg);

/*
 * Converts a metav1.LabelSelector message into *sel, as upstream LabelSelectorAsSelector:
 * NULL gives a selector that matches nothing, a selector without matchLabels and
 * matchExpressions one that matches everything. matchLabels become "key=value"
 * requirements; matchExpressions operators In, NotIn, Exists and DoesNotExist are accepted.
 * Returns 0, K8C_EINVAL (invalid key or value, empty values for In/NotIn, values for
 * Exists/DoesNotExist, unknown operator: "\"Gt\" is not a valid label selector operator") or
 * K8C_ETOOBIG, with upstream's message in errmsg. *sel is always initialised on return.
 */
int api_labels_from_label_selector(const api_label_selector_msg_t *msg,
                                   struct api_label_selector *sel, char *errmsg);

/* True for a selector without requirements (matches everything); false for "nothing". */
bool api_labels_empty(const struct api_label_selector *sel);
/* True only for a selector made by api_labels_init_nothing or from a NULL LabelSelector. */
bool api_labels_matches_nothing(const struct api_label_selector *sel);

/* Whether the labels (n pairs; a key given twice counts with its last value) satisfy every
 * requirement. */
bool api_labels_matches(const struct api_label_selector *sel, const struct api_label *labels,
                        size_t n);
/* The same over protobuf-c map entries (ObjectMeta.labels, LabelSelector.matchLabels...). */
bool api_labels_matches_entries(const struct api_label_selector *sel,
                                api_labels_entry_t *const *entries, size_t n);
/* The same over an object's metadata; NULL metadata has no labels. */
bool api_labels_matches_meta(const struct api_label_selector *sel, const api_object_meta_t *meta);

/* If the selector requires key to have exactly one value (key=v, key==v or key in (v)) as the
 * first requirement on that key, stores it in *value (borrowed from sel) and returns true. */
bool api_labels_requires_exact_match(const struct api_label_selector *sel, const char *key,
                                     const char **value);

/* Appends upstream's String() form ("a in (x,y),b!=c,!d"): canonical for parsed selectors,
 * and parsing it gives an equal selector. Nothing is appended for "nothing". */
void api_labels_format(const struct api_label_selector *sel, struct k8c_sbuf *out);

/* Validates a label key (qualified name: optional DNS-1123 subdomain prefix of at most 253
 * bytes and '/', then a name of at most 63 bytes of [A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]) or a
 * label value (empty, or at most 63 bytes of the same form). Returns 0 or K8C_EINVAL with
 * upstream's reasons joined by "; " in errmsg (may be NULL). */
int api_labels_validate_key(const char *key, size_t len, char *errmsg);
int api_labels_validate_value(const char *value, size_t len, char *errmsg);

/* ------------------------------------------------------------------------------------------ */
/* Field selectors                                                                            */

struct api_field_requirement {
    char *field;
    enum api_selector_op op; /* API_SELECTOR_EQUALS or API_SELECTOR_NOT_EQUALS */
    char *value;             /* unescaped */
};

struct api_field_selector {
    bool nothing; /* matches nothing (upstream fields.Nothing()) */
    size_t n_requirements;
    /* AND of all, in the byte order of their terms in the selector string, as upstream. */
    struct api_field_requirement *requirements;
};

/* One field of an object as the caller extracted it ("metadata.name" -> "web-0"); both
 * strings borrowed. A NULL value reads as "". */
struct api_field {
    const char *name;
    const char *value;
};

void api_fields_init(struct api_field_selector *sel);
void api_fields_init_nothing(struct api_field_selector *sel);
void api_fields_free(struct api_field_selector *sel);

/*
 * Parses len bytes of s, a field selector in upstream's syntax, into *sel (always initialised
 * on return; the empty selector on error). Returns 0 or
 *   K8C_EPARSE   a term without an operator ("invalid selector: 'a'; can't understand 'a'"),
 *                a bad escape ("invalid field selector: invalid escape sequence: \\x") or an
 *                unescaped '=' in a value ("invalid field selector: unescaped character in
 *                value: 61"), or a NUL byte (which upstream would keep but C strings cannot)
 *   K8C_ETOOBIG  over the size limits
 * with a message in errmsg (may be NULL).
 */
int api_fields_parse(const char *s, size_t len, struct api_field_selector *sel, char *errmsg);

bool api_fields_empty(const struct api_field_selector *sel);
/* The value of the field called name, "" if it is not in the set (or NULL). */
const char *api_fields_value(const struct api_field *fields, size_t n, const char *name);
/* Whether the fields satisfy every requirement; a field not in the set has the value "". */
bool api_fields_matches(const struct api_field_selector *sel, const struct api_field *fields,
                        size_t n);
/* Returns 0 if every field named in sel is one of the n supported names, else K8C_EINVAL
 * with "field label not supported: <name>" for the first one that is not. */
int api_fields_check_supported(const struct api_field_selector *sel, const char *const *supported,
                               size_t n, char *errmsg);
/* If a requirement field=value exists for this field, stores its value (borrowed) and returns
 * true (upstream RequiresExactMatch). */
bool api_fields_requires_exact_match(const struct api_field_selector *sel, const char *field,
                                     const char **value);
/* Appends upstream's String() form, values escaped ("a=b\,c,d!=e"). */
void api_fields_format(const struct api_field_selector *sel, struct k8c_sbuf *out);

#endif
