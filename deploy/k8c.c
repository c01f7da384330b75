/*
 * k8c: the command-line tool. main() dispatches on the first argument through a table of
 * subcommands (each an int f(int argc, char **argv) with argv[0] the subcommand name, returning
 * the exit code), so new subcommands are one table line.
 *
 * k8c convert --from json|yaml|protobuf --to json|yaml|protobuf [--kind K] [--api-version V]
 *             [--strict]
 *   Reads objects from stdin and writes them to stdout in another encoding, through the
 *   reflective codec (lib/codec.h). Input: one protobuf envelope (its kind comes from the
 *   envelope); JSON values separated by whitespace; or YAML documents separated by "---". The
 *   type of a JSON/YAML object comes from its apiVersion/kind, or from --kind/--api-version.
 *   Output: one object is written as is (JSON indented like kubectl -o json, YAML like
 *   kubectl -o yaml, protobuf as a "k8s\0" envelope). Several objects are written as YAML
 *   documents separated by "---", or, for JSON and protobuf, as one v1 List holding them (as
 *   kubectl does). Unknown and duplicate fields are warnings on stderr, errors with --strict.
 *   Errors go to stderr and exit with status 1.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "codec.h"
#include "error.h"
#include "flags.h"
#include "json.h"
#ifdef K8C_HAVE_CLUSTER
#include "cluster.h"
#endif

#include "k8s/apimachinery/pkg/apis/meta/v1/generated.pb-c.h"

enum format { FMT_JSON, FMT_YAML, FMT_PROTOBUF };

static int parse_format(const char *s, enum format *f)
{
    if (s != NULL && strcmp(s, "json") == 0)
        *f = FMT_JSON;
    else if (s != NULL && strcmp(s, "yaml") == 0)
        *f = FMT_YAML;
    else if (s != NULL && strcmp(s, "protobuf") == 0)
        *f = FMT_PROTOBUF;
    else
        return K8C_EINVAL;
    return 0;
}

/* Reads all of a stream, up to max bytes. */
static int read_all(FILE *f, size_t max, struct k8c_sbuf *out)
{
    char buf[65536];
    size_t n;

    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (out->len + n > max)
            return K8C_ETOOBIG;
        k8c_sbuf_append(out, buf, n);
    }
    return ferror(f) ? K8C_EIO : 0;
}

struct convert {
    const char *kind, *api_version;
    bool strict;
    struct k8c_arena *arena; /* owns every decoded message */
    ProtobufCMessage **msgs;
    size_t n_msgs;
};

static void add_msg(struct convert *cv, ProtobufCMessage *m)
{
    cv->msgs = k8c_realloc(cv->msgs, (cv->n_msgs + 1) * sizeof(*cv->msgs));
    cv->msgs[cv->n_msgs++] = m;
}

/* Decodes one JSON/YAML tree (document number doc) and appends the message. */
static int convert_tree(struct convert *cv, const struct k8c_json *tree, size_t doc)
{
    const ProtobufCMessageDescriptor *desc = NULL;
    struct k8c_codec_diag d;
    ProtobufCMessage *m;
    int rc;

    if (cv->kind != NULL) {
        const char *av = cv->api_version;
        const struct k8c_json *tav = k8c_json_get(tree, "apiVersion");
        const struct k8c_codec_kind *k;
        if (av == NULL && tav != NULL && tav->type == K8C_JSON_STRING)
            av = tav->u.str;
        k = k8c_codec_lookup_kind(av ? av : "v1", cv->kind);
        if (k == NULL) {
            fprintf(stderr, "error: no kind \"%s\" is registered for version \"%s\"\n", cv->kind,
                    av ? av : "v1");
            return 1;
        }
        desc = k->desc;
    } else {
        const struct k8c_json *tk = k8c_json_get(tree, "kind");
        const struct k8c_json *tav = k8c_json_get(tree, "apiVersion");
        const struct k8c_codec_kind *k = NULL;
        if (tree->type != K8C_JSON_OBJECT || tk == NULL || tk->type != K8C_JSON_STRING) {
            fprintf(stderr, "error: object %zu: Object 'Kind' is missing (use --kind)\n", doc);
            return 1;
        }
        if (tav == NULL || tav->type != K8C_JSON_STRING) {
            fprintf(stderr, "error: object %zu: Object 'apiVersion' is missing\n", doc);
            return 1;
        }
        k = k8c_codec_lookup_kind(tav->u.str, tk->u.str);
        if (k == NULL) {
            fprintf(stderr, "error: object %zu: no kind \"%s\" is registered for version \"%s\"\n",
                    doc, tk->u.str, tav->u.str);
            return 1;
        }
        desc = k->desc;
    }
    k8c_codec_diag_init(&d);
    rc = k8c_codec_tree_to_msg(desc, tree, k8c_arena_protobuf_allocator(cv->arena), &d, &m);
    for (size_t i = 0; i < d.n_warnings; i++)
        fprintf(stderr, "%s: %s\n", cv->strict ? "error" : "warning", d.warnings[i]);
    if (rc != 0) {
        fprintf(stderr, "error: object %zu: %s\n", doc, d.errmsg);
    } else if (cv->strict && d.n_warnings > 0) {
        rc = K8C_EINVAL;
    } else {
        add_msg(cv, m);
    }
    k8c_codec_diag_free(&d);
    return rc == 0 ? 0 : 1;
}

static int read_input(struct convert *cv, enum format from, const char *data, size_t len)
{
    char errmsg[K8C_ERRMSG_SIZE] = "";
    int rc;

    if (from == FMT_PROTOBUF) {
        ProtobufCMessage *m;
        rc = k8c_codec_proto_decode(NULL, (const uint8_t *)data, len,
                                    k8c_arena_protobuf_allocator(cv->arena), &m, errmsg);
        if (rc != 0) {
            fprintf(stderr, "error: %s\n", errmsg);
            return 1;
        }
        add_msg(cv, m);
        return 0;
    }
    if (from == FMT_YAML) {
        struct k8c_json **docs;
        size_t n;
        rc = k8c_codec_yaml_parse(cv->arena, data, len, &docs, &n, errmsg);
        if (rc != 0) {
            fprintf(stderr, "error: %s\n", errmsg);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            if (convert_tree(cv, docs[i], i) != 0)
                return 1;
        return 0;
    }
    for (size_t off = 0, doc = 0;; doc++) {
        struct k8c_json *tree;
        size_t used;
        struct k8c_json_limits lim = {K8C_CODEC_MAX_INPUT, K8C_CODEC_MAX_DEPTH};
        rc = k8c_json_parse_prefix(cv->arena, data + off, len - off, &lim, &tree, &used, errmsg);
        if (rc != 0) {
            fprintf(stderr, "error: object %zu: %s\n", doc, errmsg);
            return 1;
        }
        if (tree == NULL)
            return 0;
        if (convert_tree(cv, tree, doc) != 0)
            return 1;
        off += used;
    }
}

/* Wraps several messages into a v1 List whose items hold each object encoded in `to`. */
static int make_list(struct convert *cv, enum format to, ProtobufCMessage **out)
{
    K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__List *list =
        k8c_arena_calloc(cv->arena, sizeof(*list));
    char errmsg[K8C_ERRMSG_SIZE] = "";

    k8s__io__apimachinery__pkg__apis__meta__v1__list__init(list);
    list->metadata = k8c_arena_calloc(cv->arena, sizeof(*list->metadata));
    k8s__io__apimachinery__pkg__apis__meta__v1__list_meta__init(list->metadata);
    list->metadata->resourceversion = "";
    list->n_items = cv->n_msgs;
    list->items = k8c_arena_alloc(cv->arena, cv->n_msgs * sizeof(*list->items));
    for (size_t i = 0; i < cv->n_msgs; i++) {
        K8s__Io__Apimachinery__Pkg__Runtime__RawExtension *raw =
            k8c_arena_calloc(cv->arena, sizeof(*raw));
        struct k8c_sbuf sb;
        int rc;
        k8s__io__apimachinery__pkg__runtime__raw_extension__init(raw);
        k8c_sbuf_init(&sb);
        if (to == FMT_PROTOBUF)
            rc = k8c_codec_proto_encode(&sb, cv->msgs[i], NULL, NULL, errmsg);
        else
            rc = k8c_codec_json_encode(&sb, cv->msgs[i], K8C_CODEC_TYPE_META, 0, errmsg);
        if (rc != 0) {
            fprintf(stderr, "error: %s\n", errmsg);
            k8c_sbuf_free(&sb);
            return 1;
        }
        raw->has_raw = 1;
        raw->raw.len = sb.len;
        raw->raw.data = k8c_arena_alloc(cv->arena, sb.len + 1);
        memcpy(raw->raw.data, sb.data, sb.len);
        k8c_sbuf_free(&sb);
        list->items[i] = raw;
    }
    *out = &list->base;
    return 0;
}

static int write_output(struct convert *cv, enum format to)
{
    struct k8c_sbuf out;
    char errmsg[K8C_ERRMSG_SIZE] = "";
    int rc = 0;

    k8c_sbuf_init(&out);
    if (to == FMT_YAML) {
        for (size_t i = 0; i < cv->n_msgs && rc == 0; i++) {
            if (i > 0)
                k8c_sbuf_puts(&out, "---\n");
            rc = k8c_codec_yaml_encode(&out, cv->msgs[i], K8C_CODEC_TYPE_META, errmsg);
        }
    } else {
        ProtobufCMessage *m = cv->n_msgs == 1 ? cv->msgs[0] : NULL;
        if (m == NULL && make_list(cv, to, &m) != 0) {
            k8c_sbuf_free(&out);
            return 1;
        }
        if (to == FMT_JSON) {
            rc = k8c_codec_json_encode(&out, m, K8C_CODEC_TYPE_META, 4, errmsg);
            k8c_sbuf_putc(&out, '\n');
        } else {
            rc = k8c_codec_proto_encode(&out, m, NULL, NULL, errmsg);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "error: %s\n", errmsg);
    } else if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len) {
        fprintf(stderr, "error: writing output failed\n");
        rc = K8C_EIO;
    }
    k8c_sbuf_free(&out);
    return rc == 0 ? 0 : 1;
}

static int cmd_convert(int argc, char **argv)
{
    char *from = NULL, *to = NULL, *kind = NULL, *api_version = NULL;
    bool strict = false;
    const struct k8c_flag flags[] = {
        {"from", K8C_FLAG_STRING, &from, "input encoding: json, yaml or protobuf"},
        {"to", K8C_FLAG_STRING, &to, "output encoding: json, yaml or protobuf"},
        {"kind", K8C_FLAG_STRING, &kind, "kind of JSON/YAML input without a kind field"},
        {"api-version", K8C_FLAG_STRING, &api_version, "apiVersion to go with --kind"},
        {"strict", K8C_FLAG_BOOL, &strict, "unknown or duplicate fields are errors"},
    };
    char errmsg[K8C_ERRMSG_SIZE] = "";
    struct k8c_sbuf in;
    struct convert cv = {0};
    enum format f_from, f_to;
    int first, rc;

    rc = k8c_flags_parse(flags, sizeof(flags) / sizeof(flags[0]), argc, argv, &first, errmsg);
    if (rc == 1)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "error: %s\n", errmsg);
        return 1;
    }
    if (first < argc) {
        fprintf(stderr, "error: unexpected argument \"%s\"; input is read from stdin\n",
                argv[first]);
        return 1;
    }
    if (parse_format(from, &f_from) != 0 || parse_format(to, &f_to) != 0) {
        fprintf(stderr, "error: --from and --to must be json, yaml or protobuf\n");
        return 1;
    }
    k8c_sbuf_init(&in);
    rc = read_all(stdin, K8C_CODEC_MAX_INPUT, &in);
    if (rc != 0) {
        fprintf(stderr, "error: reading stdin: %s\n", k8c_strerror(rc));
        k8c_sbuf_free(&in);
        return 1;
    }
    cv.kind = kind;
    cv.api_version = api_version;
    cv.strict = strict;
    cv.arena = k8c_arena_new(0);
    rc = read_input(&cv, f_from, in.data ? in.data : "", in.len);
    if (rc == 0 && cv.n_msgs == 0) {
        fprintf(stderr, "error: no objects in input\n");
        rc = 1;
    }
    if (rc == 0)
        rc = write_output(&cv, f_to);
    k8c_free(cv.msgs);
    k8c_arena_del(cv.arena);
    k8c_sbuf_free(&in);
    k8c_free(from);
    k8c_free(to);
    k8c_free(kind);
    k8c_free(api_version);
    return rc;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"convert", cmd_convert, "convert objects between JSON, YAML and Kubernetes protobuf"},
#ifdef K8C_HAVE_CLUSTER
    {"up", cluster_cmd_up, "start the local control plane"},
    {"status", cluster_cmd_status, "show the local control plane's processes"},
    {"down", cluster_cmd_down, "stop the local control plane"},
#endif
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: k8c <command> [flags]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'k8c <command> --help' for a command's flags.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "error: unknown command \"%s\" for \"k8c\"\n", argv[1]);
    usage(stderr);
    return 1;
}
