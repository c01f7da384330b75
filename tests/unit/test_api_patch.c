/* Unit tests for apiserver/patch: JSON Patch (RFC 6902 appendix A), JSON merge patch (RFC 7386
 * appendix A) and strategic merge patch with the built-in schema, including the patch kubectl
 * sends for a client-side apply captured in the kubectl contract. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json.h"
#include "patch.h"

enum kind { JSON_PATCH, MERGE_PATCH, SMP };

static struct k8c_json *parse_ok(struct k8c_arena *a, const char *text)
{
    struct k8c_json *v = NULL;
    char err[K8C_ERRMSG_SIZE] = "";

    if (k8c_json_parse(a, text, strlen(text), NULL, &v, err) != 0)
        fail_msg("parse of %s failed: %s", text, err);
    return v;
}

static char *write_str(const struct k8c_json *v)
{
    struct k8c_sbuf sb;

    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, v, 0, K8C_JSON_W_NO_HTML_ESCAPE);
    return k8c_sbuf_detach(&sb);
}

/* Applies a patch of the given kind; the inputs live in their own arena, which is released
 * before the result is inspected, so the result must not point into them. */
static int apply(struct k8c_arena *out_arena, enum kind kind, const char *group,
                 const char *object_kind, const char *original, const char *patch,
                 struct k8c_json **out, char *err)
{
    struct k8c_arena *in = k8c_arena_new(0);
    struct k8c_json *o = parse_ok(in, original), *p = parse_ok(in, patch);
    char *before_o = write_str(o), *before_p = write_str(p);
    char *after_o, *after_p;
    int rc;

    switch (kind) {
    case JSON_PATCH:
        rc = api_patch_json(out_arena, o, p, NULL, out, err);
        break;
    case MERGE_PATCH:
        rc = api_patch_merge(out_arena, o, p, NULL, out, err);
        break;
    default:
        rc = api_patch_strategic(out_arena, o, p, api_patch_schema_for_kind(group, object_kind),
                                 NULL, out, err);
        break;
    }
    /* The inputs are never modified. */
    after_o = write_str(o);
    after_p = write_str(p);
    assert_string_equal(before_o, after_o);
    assert_string_equal(before_p, after_p);
    k8c_free(before_o);
    k8c_free(before_p);
    k8c_free(after_o);
    k8c_free(after_p);
    k8c_arena_del(in);
    return rc;
}

/* Object member order is not compared; array order is. */
static void expect_result(enum kind kind, const char *group, const char *object_kind,
                          const char *original, const char *patch, const char *expected)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *out = NULL, *want;
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = apply(a, kind, group, object_kind, original, patch, &out, err);

    if (rc != 0)
        fail_msg("patch %s on %s failed (%d): %s", patch, original, rc, err);
    want = parse_ok(a, expected);
    if (!k8c_json_equal(out, want)) {
        char *got = write_str(out);
        print_error("patch %s on %s\n  got  %s\n  want %s\n", patch, original, got, expected);
        k8c_free(got);
        fail();
    }
    k8c_arena_del(a);
}

static void expect_error(enum kind kind, const char *group, const char *object_kind,
                         const char *original, const char *patch, int code, const char *msg_part)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *out = NULL;
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = apply(a, kind, group, object_kind, original, patch, &out, err);

    if (rc != code)
        fail_msg("patch %s on %s: rc %d (%s), want %d", patch, original, rc, err, code);
    assert_null(out);
    if (msg_part != NULL && strstr(err, msg_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err, msg_part);
    k8c_arena_del(a);
}

#define JP(o, p, want)                 expect_result(JSON_PATCH, NULL, NULL, o, p, want)
#define JP_ERR(o, p, code, msg)        expect_error(JSON_PATCH, NULL, NULL, o, p, code, msg)
#define MP(o, p, want)                 expect_result(MERGE_PATCH, NULL, NULL, o, p, want)
#define SMP_OK(g, k, o, p, want)       expect_result(SMP, g, k, o, p, want)
#define SMP_ERR(g, k, o, p, code, msg) expect_error(SMP, g, k, o, p, code, msg)

/* ---- RFC 6902 ------------------------------------------------------------------------------- */

static void test_rfc6902_appendix_a(void **state)
{
    (void)state;
    /* A.1 */
    JP("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
       "{\"baz\":\"qux\",\"foo\":\"bar\"}");
    /* A.2 */
    JP("{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
       "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    /* A.3 */
    JP("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
       "{\"foo\":\"bar\"}");
    /* A.4 */
    JP("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
       "{\"foo\":[\"bar\",\"baz\"]}");
    /* A.5 */
    JP("{\"baz\":\"qux\",\"foo\":\"bar\"}",
       "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
       "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    /* A.6 */
    JP("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
       "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
       "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
    /* A.7 */
    JP("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
       "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
       "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    /* A.8 */
    JP("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
       "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
       "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
       "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
    /* A.9 */
    JP_ERR("{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]",
           K8C_EINVAL, "json patch operation 0: testing value /baz failed: test failed");
    /* A.10 */
    JP("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
       "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
    /* A.11 */
    JP("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
       "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    /* A.12 */
    JP_ERR("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]",
           K8C_EINVAL,
           "add operation does not apply: doc is missing path: \"/baz/bat\": missing value");
    /* A.13: duplicate "op"; the last one ("remove") counts and fails here. */
    JP_ERR("{\"foo\":\"bar\"}",
           "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]", K8C_EINVAL,
           "Unable to remove nonexistent key: baz");
    /* A.14 */
    JP("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
       "{\"/\":9,\"~1\":10}");
    /* A.15 */
    JP_ERR("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]",
           K8C_EINVAL, "testing value /~01 failed");
    /* A.16 */
    JP("{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
       "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
}

static void test_json_patch_more(void **state)
{
    (void)state;
    /* Escapes: ~1 is '/', ~0 is '~'. */
    JP("{\"metadata\":{\"annotations\":{}}}",
       "[{\"op\":\"add\",\"path\":\"/metadata/annotations/example.com~1a~0b\",\"value\":\"x\"}]",
       "{\"metadata\":{\"annotations\":{\"example.com/a~b\":\"x\"}}}");
    /* The whole document. */
    JP("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}");
    JP("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"\",\"value\":{\"a\":1.0}}]", "{\"a\":1}");
    /* copy, and move to the end of an array; numbers compare by value. */
    JP("{\"a\":{\"b\":[1,2]},\"c\":[]}",
       "[{\"op\":\"copy\",\"from\":\"/a/b\",\"path\":\"/c/-\"},"
       "{\"op\":\"move\",\"from\":\"/a/b/0\",\"path\":\"/a/b/-\"},"
       "{\"op\":\"test\",\"path\":\"/c/0/1\",\"value\":2e0}]",
       "{\"a\":{\"b\":[2,1]},\"c\":[[1,2]]}");
    /* Upstream's leniencies: replace adds a missing member, null tests a missing member. */
    JP("{\"metadata\":{}}",
       "[{\"op\":\"replace\",\"path\":\"/metadata/labels\",\"value\":{\"a\":\"b\"}},"
       "{\"op\":\"test\",\"path\":\"/metadata/x\",\"value\":null}]",
       "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
    /* Negative index counts from the end. */
    JP("[1,2,3]", "[{\"op\":\"remove\",\"path\":\"/-1\"}]", "[1,2]");
    /* A later operation sees the earlier ones; the failing index is reported. */
    JP_ERR("{\"spec\":{}}",
           "[{\"op\":\"add\",\"path\":\"/spec/a\",\"value\":1},"
           "{\"op\":\"remove\",\"path\":\"/spec/foo/bar\"}]",
           K8C_EINVAL,
           "json patch operation 1: remove operation does not apply: doc is missing path: "
           "\"/spec/foo/bar\": missing value");
    JP_ERR("{\"a\":[1]}", "[{\"op\":\"replace\",\"path\":\"/a/5\",\"value\":0}]", K8C_EINVAL,
           "replace operation does not apply: doc is missing key: /a/5: missing value");
    JP_ERR("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":0}]", K8C_EINVAL,
           "error in add for path: '/a/2': Unable to access invalid index: 2");
    JP_ERR("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/x\",\"value\":0}]", K8C_EINVAL,
           "invalid index");
    JP_ERR("{\"a\":{}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]", K8C_EINVAL,
           "move operation does not apply: doc is missing destination path: /a/b");
    JP_ERR("{\"a\":{}}", "[{\"op\":\"copy\",\"from\":\"/x\",\"path\":\"/a/b\"}]", K8C_EINVAL,
           "copy operation does not apply: doc is missing from path: /x: missing value");
    /* Malformed patches. */
    JP_ERR("{}", "{\"op\":\"add\"}", K8C_EPARSE, "must be a JSON array");
    JP_ERR("{}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", K8C_EINVAL,
           "json patch operation 0: Unexpected kind: frobnicate");
    JP_ERR("{}", "[{\"path\":\"/a\"}]", K8C_EINVAL, "Unexpected kind: unknown");
    JP_ERR("{}", "[{\"op\":\"add\",\"value\":1}]", K8C_EINVAL,
           "add operation failed to decode path: missing value");
    JP_ERR("{}", "[{\"op\":\"add\",\"path\":\"a/b\",\"value\":1}]", K8C_EINVAL,
           "invalid JSON pointer a/b");
    JP_ERR("{}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]", K8C_EINVAL,
           "invalid JSON pointer");
    JP_ERR("{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", K8C_EINVAL, "missing value field");
    JP_ERR("{}", "[1]", K8C_EPARSE, "must be a JSON object");
}

static void test_json_patch_limits(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_sbuf sb;
    struct k8c_json *o, *p, *out = NULL;
    char err[K8C_ERRMSG_SIZE];
    struct api_patch_limits lim = {.max_depth = 8, .max_nodes = 1000, .max_ops = 3};
    int rc;

    (void)state;
    /* Too many operations. */
    o = parse_ok(a, "{}");
    p = parse_ok(a, "[{\"op\":\"test\",\"path\":\"\",\"value\":{}},"
                    "{\"op\":\"test\",\"path\":\"\",\"value\":{}},"
                    "{\"op\":\"test\",\"path\":\"\",\"value\":{}},"
                    "{\"op\":\"test\",\"path\":\"\",\"value\":{}}]");
    rc = api_patch_json(a, o, p, &lim, &out, err);
    assert_int_equal(rc, K8C_ETOOBIG);
    assert_non_null(strstr(err, "The allowed maximum operations in a JSON patch is 3, got 4"));

    /* Doubling the document with copies hits the node budget, not the memory. */
    k8c_sbuf_init(&sb);
    k8c_sbuf_puts(&sb, "[");
    for (int i = 0; i < 40; i++)
        k8c_sbuf_printf(&sb, "%s{\"op\":\"copy\",\"from\":\"\",\"path\":\"/a%d\"}", i ? "," : "",
                        i);
    k8c_sbuf_puts(&sb, "]");
    o = parse_ok(a, "{\"x\":[1,2,3]}");
    p = parse_ok(a, sb.data);
    k8c_sbuf_free(&sb);
    lim.max_ops = 0;
    lim.max_depth = 0;
    rc = api_patch_json(a, o, p, &lim, &out, err);
    assert_int_equal(rc, K8C_ETOOBIG);
    assert_null(out);

    /* Copying a subtree under itself deepens the document: bounded by max_depth. */
    k8c_sbuf_init(&sb);
    k8c_sbuf_puts(&sb, "[");
    for (int i = 0; i < 20; i++)
        k8c_sbuf_printf(&sb, "%s{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/a\"}", i ? "," : "");
    k8c_sbuf_puts(&sb, "]");
    o = parse_ok(a, "{\"a\":{}}");
    p = parse_ok(a, sb.data);
    k8c_sbuf_free(&sb);
    lim.max_depth = 8;
    lim.max_nodes = 0;
    rc = api_patch_json(a, o, p, &lim, &out, err);
    assert_int_equal(rc, K8C_EDEPTH);
    assert_non_null(strstr(err, "deeper than 8"));

    /* An original deeper than the limit. */
    o = parse_ok(a, "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}");
    p = parse_ok(a, "[]");
    rc = api_patch_json(a, o, p, &lim, &out, err);
    assert_int_equal(rc, K8C_EDEPTH);
    k8c_arena_del(a);
}

/* ---- RFC 7386 ------------------------------------------------------------------------------- */

static void test_rfc7386_appendix_a(void **state)
{
    (void)state;
    MP("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    MP("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    MP("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    MP("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    MP("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    MP("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    MP("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}");
    MP("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    MP("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    MP("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    MP("{\"a\":\"foo\"}", "null", "null");
    MP("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    MP("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    MP("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    MP("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
    /* kubectl scale's patch; duplicate keys: the last wins. */
    MP("{\"spec\":{\"replicas\":1,\"selector\":{}}}", "{\"spec\":{\"replicas\":3}}",
       "{\"spec\":{\"replicas\":3,\"selector\":{}}}");
    MP("{}", "{\"a\":1,\"a\":2}", "{\"a\":2}");
}

/* ---- strategic merge patch ------------------------------------------------------------------ */

/* The Deployment kubectl apply patched in the captured session, before the change. */
static const char deployment_before[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
    "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"finalizers\":[\"x\"]},"
    "\"spec\":{\"replicas\":2,"
    "\"strategy\":{\"type\":\"RollingUpdate\","
    "\"rollingUpdate\":{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":["
    "{\"name\":\"a\",\"image\":\"nginx\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
    "{\"name\":\"B\",\"value\":\"2\"}],\"ports\":[{\"containerPort\":80}]},"
    "{\"name\":\"b\",\"image\":\"busybox\",\"args\":[\"sleep\",\"1\"]}],"
    "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}],"
    "\"restartPolicy\":\"Always\"}}}}";

static const char captured_patch[] =
    "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"rollingUpdate\":null,\"type\":"
    "\"Recreate\"},\"template\":{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"}],"
    "\"containers\":[{\"$setElementOrder/env\":[{\"name\":\"B\"}],\"env\":[{\"$patch\":"
    "\"delete\",\"name\":\"A\"}],\"name\":\"a\"},{\"$patch\":\"delete\",\"name\":\"b\"}],"
    "\"volumes\":[{\"$retainKeys\":[\"configMap\",\"name\"],\"configMap\":{\"name\":\"c\"},"
    "\"emptyDir\":null,\"name\":\"v\"}]}}}}";

static void test_smp_captured_kubectl_apply(void **state)
{
    (void)state;
    SMP_OK("apps", "Deployment", deployment_before, captured_patch,
           "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
           "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"finalizers\":[\"x\"]},"
           "\"spec\":{\"replicas\":2,\"strategy\":{\"type\":\"Recreate\"},"
           "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
           "\"spec\":{\"containers\":["
           "{\"name\":\"a\",\"image\":\"nginx\",\"env\":[{\"name\":\"B\",\"value\":\"2\"}],"
           "\"ports\":[{\"containerPort\":80}]}],"
           "\"volumes\":[{\"name\":\"v\",\"configMap\":{\"name\":\"c\"}}],"
           "\"restartPolicy\":\"Always\"}}}}");
}

static void test_smp_set_element_order(void **state)
{
    static const char pod[] =
        "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},"
        "{\"name\":\"b\",\"image\":\"1\"},{\"name\":\"c\",\"image\":\"1\"}]}}";

    (void)state;
    /* $setElementOrder reorders, patch items merge. */
    SMP_OK("", "Pod", pod,
           "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"},"
           "{\"name\":\"b\"}],\"containers\":[{\"name\":\"c\",\"image\":\"2\"}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"2\"},"
           "{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"1\"}]}}");
    /* Only the directive: the list is reordered, contents unchanged. */
    SMP_OK("", "Pod", pod,
           "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":\"a\"},"
           "{\"name\":\"c\"}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"1\"},"
           "{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"c\",\"image\":\"1\"}]}}");
    /* A new item placed by the directive. */
    SMP_OK("", "Pod", pod,
           "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"d\"},"
           "{\"name\":\"b\"},{\"name\":\"c\"}],\"containers\":[{\"name\":\"d\",\"image\":\"9\"}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},"
           "{\"name\":\"d\",\"image\":\"9\"},{\"name\":\"b\",\"image\":\"1\"},"
           "{\"name\":\"c\",\"image\":\"1\"}]}}");
    /* Without the directive, upstream's interleaving: patch items in patch order, server-only
     * items where they were relative to them. */
    SMP_OK("", "Pod", pod,
           "{\"spec\":{\"containers\":[{\"name\":\"d\",\"image\":\"9\"},"
           "{\"name\":\"b\",\"image\":\"2\"}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"d\",\"image\":\"9\"},"
           "{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"2\"},"
           "{\"name\":\"c\",\"image\":\"1\"}]}}");
    /* Primitive lists too (finalizers merge as a set). */
    SMP_OK("", "ConfigMap", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
           "{\"metadata\":{\"$setElementOrder/finalizers\":[\"b\",\"c\",\"a\"],"
           "\"finalizers\":[\"c\"]}}",
           "{\"metadata\":{\"finalizers\":[\"b\",\"c\",\"a\"]}}");
    /* kubectl apply renaming a container next to an injected sidecar it does not manage:
     * upstream (through Go's in-place slice edits) puts the sidecar before the new one. */
    SMP_OK("apps", "Deployment",
           "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\"},"
           "{\"name\":\"old\"},{\"name\":\"sidecar\"}]}}}}",
           "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":[{\"name\":"
           "\"app\"},{\"name\":\"new\"}],\"containers\":[{\"name\":\"new\",\"image\":\"n\"},"
           "{\"$patch\":\"delete\",\"name\":\"old\"}]}}}}",
           "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\"},"
           "{\"name\":\"sidecar\"},{\"name\":\"new\",\"image\":\"n\"}]}}}}");
    /* More additions than deletions: the extra ones are not in upstream's view. */
    SMP_OK("", "Pod",
           "{\"spec\":{\"containers\":[{\"name\":\"1\",\"image\":\"a\"},{\"name\":\"4\"}]}}",
           "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"2\"},{\"name\":\"3\"}],"
           "\"containers\":[{\"name\":\"2\"},{\"name\":\"3\"},{\"name\":\"1\",\"$patch\":"
           "\"delete\"}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"4\"},{\"name\":\"2\"},{\"name\":\"3\"}]}}");
    /* A patch list that contradicts the order is rejected. */
    SMP_ERR("", "Pod", pod,
            "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
            "\"containers\":[{\"name\":\"b\"},{\"name\":\"a\"}]}}",
            K8C_EPARSE, "doesn't match $setElementOrder list");
    SMP_ERR("", "Pod", pod, "{\"spec\":{\"$setElementOrder/containers\":{}}}", K8C_EPARSE,
            "invalid patch format of setElementOrder list");
}

static void test_smp_retain_keys(void **state)
{
    (void)state;
    SMP_OK("apps", "Deployment",
           "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\","
           "\"rollingUpdate\":{\"maxSurge\":1}},\"replicas\":1}}",
           "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
           "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"},\"replicas\":1}}");
    /* Retained keys merge normally. */
    SMP_OK(
        "", "Pod",
        "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"hostPath\":{\"path\":\"/x\",\"type\":\"\"},"
        "\"emptyDir\":{}}]}}",
        "{\"spec\":{\"volumes\":[{\"$retainKeys\":[\"name\",\"hostPath\"],"
        "\"hostPath\":{\"path\":\"/y\"},\"name\":\"v\"}]}}",
        "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"hostPath\":{\"path\":\"/y\",\"type\":\"\"}}]}}");
    /* A patch setting a field it does not retain is malformed. */
    SMP_ERR("apps", "Deployment", "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\"}}}",
            "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"rollingUpdate\":{}}}}",
            K8C_EPARSE, "invalid patch format of retainKeys");
    SMP_ERR("apps", "Deployment", "{\"spec\":{\"strategy\":{}}}",
            "{\"spec\":{\"strategy\":{\"$retainKeys\":\"type\"}}}", K8C_EPARSE, "retainKeys");
}

static void test_smp_delete_from_primitive_list(void **state)
{
    (void)state;
    SMP_OK("", "Pod", "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
           "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\",\"z\"]}}",
           "{\"metadata\":{\"finalizers\":[\"a\",\"c\"]}}");
    /* With an addition in the same patch, as kubectl sends it. */
    SMP_OK("", "Pod", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
           "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"],"
           "\"$setElementOrder/finalizers\":[\"b\",\"c\"],\"finalizers\":[\"c\"]}}",
           "{\"metadata\":{\"finalizers\":[\"b\",\"c\"]}}");
    /* Nothing to delete from. */
    SMP_OK("", "Pod", "{\"metadata\":{}}",
           "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}", "{\"metadata\":{}}");
    SMP_ERR("", "Pod", "{\"metadata\":{\"finalizers\":[\"a\"]}}",
            "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":\"a\"}}", K8C_EPARSE,
            "invalid patch format of primitive list");
    SMP_ERR("", "Pod", "{\"metadata\":{\"finalizers\":[\"a\"]}}",
            "{\"metadata\":{\"$deleteFromPrimitiveListfinalizers\":[\"a\"]}}", K8C_EPARSE,
            "invalid patch format of primitive list");
}

static void test_smp_patch_directive_in_maps(void **state)
{
    (void)state;
    /* $patch: replace on a map (ControllerRevision rollback). */
    SMP_OK(
        "apps", "StatefulSet",
        "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"x\",\"image\":\"old\"}]}},\"replicas\":3}}",
        "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":{\"labels\":{\"a\":\"1\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"y\",\"image\":\"new\"}]}}}}",
        "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"a\":\"1\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"y\",\"image\":\"new\"}]}},\"replicas\":3}}");
    /* $patch: delete empties a map; null deletes a field. */
    SMP_OK("", "ConfigMap", "{\"data\":{\"a\":\"1\"},\"metadata\":{\"labels\":{\"x\":\"y\"}}}",
           "{\"data\":{\"$patch\":\"delete\"},\"metadata\":{\"labels\":null}}",
           "{\"data\":{},\"metadata\":{}}");
    /* New fields come in without nulls and directives. */
    SMP_OK("", "ConfigMap", "{}",
           "{\"data\":{\"a\":\"1\",\"b\":null},\"x\":{\"$patch\":\"delete\"},"
           "\"y\":{\"$retainKeys\":[\"z\"],\"z\":1}}",
           "{\"data\":{\"a\":\"1\"},\"y\":{\"z\":1}}");
    /* $patch: merge is the default. */
    SMP_OK("", "ConfigMap", "{\"data\":{\"a\":\"1\"}}",
           "{\"data\":{\"$patch\":\"merge\",\"b\":\"2\"}}", "{\"data\":{\"a\":\"1\",\"b\":\"2\"}}");
    SMP_ERR("", "ConfigMap", "{\"data\":{}}", "{\"data\":{\"$patch\":\"explode\"}}", K8C_EPARSE,
            "unknown patch type: \"explode\" in map");
    /* The top level: null is an empty patch, other non-objects are malformed. */
    SMP_OK("", "ConfigMap", "{\"a\":1}", "null", "{\"a\":1}");
    SMP_ERR("", "ConfigMap", "{\"a\":1}", "[1]", K8C_EPARSE, "must be a JSON object");
}

static void test_smp_list_merge_keys(void **state)
{
    (void)state;
    /* Container ports by containerPort. */
    SMP_OK("", "Pod",
           "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,"
           "\"protocol\":\"TCP\"},{\"containerPort\":443,\"name\":\"https\"}]}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":443,"
           "\"name\":\"tls\"},{\"containerPort\":8080},{\"$patch\":\"delete\","
           "\"containerPort\":80}]}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":443,"
           "\"name\":\"tls\"},{\"containerPort\":8080}]}]}}");
    /* Service ports by port; status conditions by type. */
    SMP_OK("", "Service",
           "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]},"
           "\"status\":{\"conditions\":[{\"type\":\"A\",\"status\":\"False\"}]}}",
           "{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"http\"},{\"port\":81}]},"
           "\"status\":{\"conditions\":[{\"type\":\"A\",\"status\":\"True\"}]}}",
           "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080,\"name\":\"http\"},"
           "{\"port\":81}]},\"status\":{\"conditions\":[{\"type\":\"A\",\"status\":\"True\"}]}}");
    /* env by name, volumeMounts by mountPath; args are replaced whole. */
    SMP_OK("batch", "CronJob",
           "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{"
           "\"name\":\"c\",\"args\":[\"a\",\"b\"],\"env\":[{\"name\":\"X\",\"value\":\"1\"}],"
           "\"volumeMounts\":[{\"mountPath\":\"/a\",\"name\":\"v\"}]}]}}}}}}",
           "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{"
           "\"name\":\"c\",\"args\":[\"z\"],\"env\":[{\"name\":\"Y\",\"value\":\"2\"}],"
           "\"volumeMounts\":[{\"mountPath\":\"/a\",\"readOnly\":true}]}]}}}}}}",
           "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{"
           "\"name\":\"c\",\"args\":[\"z\"],\"env\":[{\"name\":\"Y\",\"value\":\"2\"},"
           "{\"name\":\"X\",\"value\":\"1\"}],"
           "\"volumeMounts\":[{\"mountPath\":\"/a\",\"name\":\"v\",\"readOnly\":true}]}]}}}}}}");
    /* tolerations are replaced whole; ownerReferences merge by uid on any kind. */
    SMP_OK("", "Pod",
           "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\",\"name\":\"a\"}]},"
           "\"spec\":{\"tolerations\":[{\"key\":\"a\"},{\"key\":\"b\"}]}}",
           "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"2\",\"name\":\"b\"}]},"
           "\"spec\":{\"tolerations\":[{\"key\":\"c\"}]}}",
           "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"2\",\"name\":\"b\"},"
           "{\"uid\":\"1\",\"name\":\"a\"}]},\"spec\":{\"tolerations\":[{\"key\":\"c\"}]}}");
    /* $patch: replace in a merging list. */
    SMP_OK("", "Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
           "{\"spec\":{\"containers\":[{\"$patch\":\"replace\"},{\"name\":\"c\"}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    /* finalizers: a set of primitives. */
    SMP_OK("", "Secret", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
           "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}",
           "{\"metadata\":{\"finalizers\":[\"c\",\"a\",\"b\"]}}");
    /* Unknown kinds: lists are replaced. */
    SMP_OK("example.com", "Widget", "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}",
           "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}");
    /* Errors. */
    SMP_ERR("", "Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
            "{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}", K8C_EINVAL,
            "does not contain declared merge key: name");
    SMP_ERR("", "Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
            "{\"spec\":{\"containers\":[\"a\"]}}", K8C_EINVAL, "list element types");
    SMP_ERR("", "Pod", "{\"metadata\":{\"finalizers\":[[1]]}}",
            "{\"metadata\":{\"finalizers\":[[2]]}}", K8C_EINVAL, "lists of lists");
    SMP_ERR("", "Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
            "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"bogus\"}]}}", K8C_EPARSE,
            "unknown patch type");
}

static void test_smp_limits(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *o, *p, *out = NULL;
    struct api_patch_limits lim = {.max_depth = 3};
    char err[K8C_ERRMSG_SIZE];

    (void)state;
    o = parse_ok(a, "{\"a\":{}}");
    p = parse_ok(a, "{\"a\":{\"b\":{\"c\":{}}}}");
    assert_int_equal(api_patch_strategic(a, o, p, NULL, &lim, &out, err), K8C_EDEPTH);
    assert_int_equal(api_patch_merge(a, o, p, &lim, &out, err), K8C_EDEPTH);
    lim.max_depth = 0;
    lim.max_nodes = 4;
    assert_int_equal(api_patch_strategic(a, o, p, NULL, &lim, &out, err), K8C_ETOOBIG);
    assert_null(out);
    /* The original must be an object. */
    o = parse_ok(a, "[]");
    assert_int_equal(api_patch_strategic(a, o, p, NULL, NULL, &out, err), K8C_EINVAL);
    k8c_arena_del(a);
}

static void test_schema_lookup(void **state)
{
    const struct api_patch_type *t;
    const struct api_patch_field *f;

    (void)state;
    t = api_patch_schema_for_kind("apps", "Deployment");
    f = api_patch_schema_field(t, "spec", 4);
    assert_non_null(f);
    f = api_patch_schema_field(f->type, "strategy", 8);
    assert_non_null(f);
    assert_true(f->strategy & API_PATCH_RETAIN_KEYS);
    /* A Deployment from another group is not ours. */
    t = api_patch_schema_for_kind("example.com", "Deployment");
    assert_null(api_patch_schema_field(t, "spec", 4));
    assert_non_null(api_patch_schema_field(t, "metadata", 8));
    t = api_patch_schema_for_kind(NULL, "Pod");
    f = api_patch_schema_field(api_patch_schema_field(t, "spec", 4)->type, "containers", 10);
    assert_string_equal(f->merge_key, "name");
    f = api_patch_schema_field(f->type, "ports", 5);
    assert_string_equal(f->merge_key, "containerPort");
    assert_null(api_patch_schema_field(NULL, "x", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6902_appendix_a),
        cmocka_unit_test(test_json_patch_more),
        cmocka_unit_test(test_json_patch_limits),
        cmocka_unit_test(test_rfc7386_appendix_a),
        cmocka_unit_test(test_smp_captured_kubectl_apply),
        cmocka_unit_test(test_smp_set_element_order),
        cmocka_unit_test(test_smp_retain_keys),
        cmocka_unit_test(test_smp_delete_from_primitive_list),
        cmocka_unit_test(test_smp_patch_directive_in_maps),
        cmocka_unit_test(test_smp_list_merge_keys),
        cmocka_unit_test(test_smp_limits),
        cmocka_unit_test(test_schema_lookup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
