/* Unit tests for lib/json: parser, tree editing, equality, writer, base64. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json.h"

static struct k8c_json *parse_ok(struct k8c_arena *a, const char *text)
{
    struct k8c_json *v = NULL;
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = k8c_json_parse(a, text, strlen(text), NULL, &v, err);

    if (rc != 0)
        fail_msg("parse of %s failed: %s", text, err);
    return v;
}

static char *write_str(const struct k8c_json *v, int indent, unsigned flags)
{
    struct k8c_sbuf sb;

    k8c_sbuf_init(&sb);
    k8c_json_write(&sb, v, indent, flags);
    return k8c_sbuf_detach(&sb);
}

static void test_roundtrip_compact(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    const char *docs[] = {
        "{}",       "[]",
        "null",     "true",
        "false",    "0",
        "-1",       "1.5e-3",
        "\"\"",     "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}",
        "[[[[]]]]", "12345678901234567890",
    };

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        char *out = write_str(parse_ok(a, docs[i]), 0, 0);
        assert_string_equal(out, docs[i]);
        k8c_free(out);
    }
    k8c_arena_del(a);
}

static void test_whitespace_and_indent(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *v = parse_ok(a, " \n\t{ \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\" : [ ] }\r\n");
    char *out = write_str(v, 4, 0);

    assert_string_equal(out, "{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": {},\n"
                             "    \"c\": []\n}");
    k8c_free(out);
    k8c_arena_del(a);
}

static void test_escapes(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *v = parse_ok(a, "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\"");
    char *out;

    assert_int_equal(v->type, K8C_JSON_STRING);
    assert_string_equal(v->u.str, "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac");
    out = write_str(v, 0, 0);
    /* Go escapes control characters as \u00XX except \n \r \t; non-ASCII stays UTF-8 */
    assert_string_equal(out, "\"a\\\"b\\\\c/d\\u0008\\u000c\\n\\r\\tA\xc3\xa9\xe2\x82\xac\"");
    k8c_free(out);
    /* HTML-sensitive characters are escaped like Go's encoder unless disabled */
    v = k8c_json_new_string(a, "<a href='x'>&</a>\xe2\x80\xa8");
    out = write_str(v, 0, 0);
    assert_string_equal(out, "\"\\u003ca href='x'\\u003e\\u0026\\u003c/a\\u003e\\u2028\"");
    k8c_free(out);
    out = write_str(v, 0, K8C_JSON_W_NO_HTML_ESCAPE);
    assert_string_equal(out, "\"<a href='x'>&</a>\\u2028\"");
    k8c_free(out);
    /* a string with an embedded NUL keeps its length */
    v = parse_ok(a, "\"x\\u0000y\"");
    assert_int_equal(v->len, 3);
    k8c_arena_del(a);
}

static void test_surrogates_and_utf8(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *v = parse_ok(a, "\"\\ud83d\\ude00\"");

    assert_string_equal(v->u.str, "\xf0\x9f\x98\x80"); /* U+1F600 */
    v = parse_ok(a, "\"\\ud83d x\"");                  /* lone high surrogate */
    assert_string_equal(v->u.str, "\xef\xbf\xbd x");
    v = parse_ok(a, "\"\\ude00\""); /* lone low surrogate */
    assert_string_equal(v->u.str, "\xef\xbf\xbd");
    v = parse_ok(a, "\"a\xff"
                    "b\""); /* invalid UTF-8 byte */
    assert_string_equal(v->u.str, "a\xef\xbf\xbd"
                                  "b");
    v = parse_ok(a, "\"\xc3\xa9\xf0\x9f\x98\x80\""); /* valid multi-byte kept */
    assert_string_equal(v->u.str, "\xc3\xa9\xf0\x9f\x98\x80");
    v = parse_ok(a, "\"\xed\xa0\x80\""); /* encoded surrogate is invalid */
    assert_string_equal(v->u.str, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    k8c_arena_del(a);
}

static void test_numbers(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    int64_t i;
    uint64_t u;
    double d;

    assert_int_equal(k8c_json_get_int64(parse_ok(a, "-9223372036854775808"), &i), 0);
    assert_true(i == INT64_MIN);
    assert_int_equal(k8c_json_get_int64(parse_ok(a, "9223372036854775808"), &i), K8C_EINVAL);
    assert_int_equal(k8c_json_get_uint64(parse_ok(a, "18446744073709551615"), &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(k8c_json_get_uint64(parse_ok(a, "-1"), &u), K8C_EINVAL);
    assert_int_equal(k8c_json_get_int64(parse_ok(a, "1.0"), &i), K8C_EINVAL);
    assert_int_equal(k8c_json_get_double(parse_ok(a, "2.5E2"), &d), 0);
    assert_true(d == 250.0);
    assert_string_equal(k8c_json_new_double(a, 0.1)->u.str, "0.1");
    assert_string_equal(k8c_json_new_int(a, -42)->u.str, "-42");
    k8c_arena_del(a);
}

static void test_malformed(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    const char *bad[] = {
        "",      " ",   "{",     "}",        "[1,]",      "{\"a\":1,}", "{\"a\" 1}",
        "{a:1}", "01",  "1.",    ".5",       "-",         "1e",         "+1",
        "tru",   "nul", "\"abc", "\"\\x\"",  "\"\\u12\"", "\"a\nb\"",   "[1 2]",
        "{} {}", "NaN", "'a'",   "[\"a\",]", "\"\\",
    };
    char err[K8C_ERRMSG_SIZE];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct k8c_json *v = (struct k8c_json *)1;
        err[0] = '\0';
        int rc = k8c_json_parse(a, bad[i], strlen(bad[i]), NULL, &v, err);
        if (rc != K8C_EPARSE)
            fail_msg("input %zu (%s): rc %d", i, bad[i], rc);
        assert_null(v);
        assert_true(strlen(err) > 0);
    }
    k8c_json_parse(a, "{\"a\": x}", 8, NULL, &(struct k8c_json *){NULL}, err);
    assert_string_equal(err, "invalid character 'x' looking for beginning of value at offset 6");
    k8c_arena_del(a);
}

static void test_limits(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json_limits lim = {0, 10};
    char deep[64], err[K8C_ERRMSG_SIZE];
    struct k8c_json *v;

    memset(deep, '[', 11);
    memset(deep + 11, ']', 11);
    assert_int_equal(k8c_json_parse(a, deep, 22, &lim, &v, err), K8C_EDEPTH);
    assert_int_equal(k8c_json_parse(a, deep + 1, 20, &lim, &v, err), 0);
    /* the default depth limit is 100 */
    {
        char big[402];
        memset(big, '[', 201);
        memset(big + 201, ']', 201);
        assert_int_equal(k8c_json_parse(a, big, sizeof(big), NULL, &v, err), K8C_EDEPTH);
        assert_int_equal(k8c_json_parse(a, big + 101, 200, NULL, &v, err), 0);
    }
    lim.max_size = 4;
    assert_int_equal(k8c_json_parse(a, "12345", 5, &lim, &v, err), K8C_ETOOBIG);
    k8c_arena_del(a);
}

static void test_tree_api(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0), *b = k8c_arena_new(0);
    struct k8c_json *o = k8c_json_new_object(a), *arr = k8c_json_new_array(a), *c;
    char *out;

    k8c_json_set(a, o, "name", k8c_json_new_string(a, "x"));
    k8c_json_set(a, o, "list", arr);
    for (int i = 0; i < 10; i++)
        k8c_json_array_append(a, arr, k8c_json_new_int(a, i));
    k8c_json_array_remove(arr, 0);
    k8c_json_array_insert(a, arr, 1, k8c_json_new_bool(a, true));
    k8c_json_set(a, o, "name", k8c_json_new_string(a, "y")); /* replace keeps position */
    assert_string_equal(k8c_json_get(o, "name")->u.str, "y");
    assert_null(k8c_json_get(o, "missing"));
    out = write_str(o, 0, 0);
    assert_string_equal(out, "{\"name\":\"y\",\"list\":[1,true,2,3,4,5,6,7,8,9]}");
    k8c_free(out);
    c = k8c_json_copy(b, o);
    k8c_arena_del(a); /* the copy must not depend on the original */
    out = write_str(c, 0, 0);
    assert_string_equal(out, "{\"name\":\"y\",\"list\":[1,true,2,3,4,5,6,7,8,9]}");
    k8c_free(out);
    assert_true(k8c_json_remove(c, "name"));
    assert_false(k8c_json_remove(c, "name"));
    assert_int_equal(c->len, 1);
    k8c_arena_del(b);
}

static void test_equal(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);

    assert_true(k8c_json_equal(parse_ok(a, "{\"a\":1,\"b\":[1,{\"c\":null}]}"),
                               parse_ok(a, "{\"b\":[1,{\"c\":null}],\"a\":1.0}")));
    assert_false(k8c_json_equal(parse_ok(a, "{\"a\":1}"), parse_ok(a, "{\"a\":1,\"b\":2}")));
    assert_false(k8c_json_equal(parse_ok(a, "[1,2]"), parse_ok(a, "[2,1]")));
    assert_false(k8c_json_equal(parse_ok(a, "\"1\""), parse_ok(a, "1")));
    assert_true(k8c_json_equal(parse_ok(a, "{\"a\":1,\"a\":2}"), parse_ok(a, "{\"a\":2}")));
    assert_true(k8c_json_equal(parse_ok(a, "100"), parse_ok(a, "1e2")));
    k8c_arena_del(a);
}

static void test_duplicates_and_prefix(void **state)
{
    struct k8c_arena *a = k8c_arena_new(0);
    struct k8c_json *v = parse_ok(a, "{\"k\":1,\"k\":2}"), *w;
    const char *stream = "{\"a\":1}\n[2]  3 ";
    size_t used, off = 0;
    int n = 0;

    assert_int_equal(v->len, 2); /* duplicates are kept in the tree */
    assert_string_equal(k8c_json_get(v, "k")->u.str, "2");
    for (;;) {
        assert_int_equal(
            k8c_json_parse_prefix(a, stream + off, strlen(stream) - off, NULL, &w, &used, NULL), 0);
        if (w == NULL)
            break;
        off += used;
        n++;
    }
    assert_int_equal(n, 3);
    k8c_arena_del(a);
}

static void test_base64(void **state)
{
    struct k8c_sbuf sb;
    uint8_t out[16];
    const char *cases[][2] = {{"", ""},        {"f", "Zg=="},        {"fo", "Zm8="},
                              {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}};

    for (size_t i = 0; i < 6; i++) {
        k8c_sbuf_init(&sb);
        k8c_base64_encode(&sb, (const uint8_t *)cases[i][0], strlen(cases[i][0]));
        assert_string_equal(sb.len ? sb.data : "", cases[i][1]);
        k8c_sbuf_free(&sb);
        assert_int_equal(k8c_base64_decode(out, cases[i][1], strlen(cases[i][1])),
                         (long)strlen(cases[i][0]));
        assert_memory_equal(out, cases[i][0], strlen(cases[i][0]));
    }
    assert_int_equal(k8c_base64_decode(out, "Zm9", 3), -1);
    assert_int_equal(k8c_base64_decode(out, "Z=9v", 4), -1);
    assert_int_equal(k8c_base64_decode(out, "Zm9*", 4), -1);
    /* Go's StdEncoding: line breaks are skipped, errors at the offsets Go reports */
    assert_int_equal(k8c_base64_decode(out, "Zm9v\r\nYg==\n", 11), 4);
    assert_memory_equal(out, "foob", 4);
    const struct {
        const char *in;
        size_t at;
    } bad[] = {{"secret1", 4}, {"hello world", 5}, {"Zg=", 3}, {"Zg=x", 2},
               {"Z===", 1},    {"Zg==Zg==", 4},    {"Zm9", 0}, {"Zg==\nx", 5}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t at = 999;
        assert_int_equal(k8c_base64_decode_at(out, bad[i].in, strlen(bad[i].in), &at), -1);
        if (at != bad[i].at)
            fail_msg("%s: error at %zu, want %zu", bad[i].in, at, bad[i].at);
    }
}

static void test_arena(void **state)
{
    struct k8c_arena *a = k8c_arena_new(64);
    char *big;

    for (int i = 0; i < 100; i++)
        memset(k8c_arena_alloc(a, 24), 0xab, 24);
    big = k8c_arena_alloc(a, 100000); /* larger than a block */
    memset(big, 1, 100000);
    assert_true(k8c_arena_used(a) >= 100000 + 2400);
    k8c_arena_reset(a);
    assert_int_equal(k8c_arena_used(a), 0);
    assert_string_equal(k8c_arena_strndup(a, "hello", 3), "hel");
    k8c_arena_del(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_compact),
        cmocka_unit_test(test_whitespace_and_indent),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_surrogates_and_utf8),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_tree_api),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_duplicates_and_prefix),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
