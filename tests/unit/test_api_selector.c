/* Unit tests for apiserver/selector: label and field selectors against upstream's behaviour
 * (cases from k8s.io/apimachinery pkg/labels and pkg/fields tests, plus error texts). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "selector.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */

/* Labels written as "k=v;k2=v2" ("" for none); at most 8. */
struct label_set {
    char buf[512];
    struct api_label l[8];
    size_t n;
};

static void label_set_init(struct label_set *ls, const char *spec)
{
    char *save = NULL, *tok;

    ls->n = 0;
    snprintf(ls->buf, sizeof(ls->buf), "%s", spec);
    for (tok = strtok_r(ls->buf, ";", &save); tok != NULL && ls->n < 8;
         tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        ls->l[ls->n].key = tok;
        ls->l[ls->n].value = eq + 1;
        ls->n++;
    }
}

static char *format_labels(const struct api_label_selector *sel)
{
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    api_labels_format(sel, &sb);
    return k8c_sbuf_detach(&sb);
}

static char *format_fields(const struct api_field_selector *sel)
{
    struct k8c_sbuf sb;
    k8c_sbuf_init(&sb);
    api_fields_format(sel, &sb);
    return k8c_sbuf_detach(&sb);
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void parse_labels_ok(const char *s, struct api_label_selector *sel)
{
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = api_labels_parse(s, strlen(s), sel, err);
    if (rc != 0)
        fail_msg("label selector '%s': rc %d: %s", s, rc, err);
}

static bool labels_match(const char *selector, const char *labels)
{
    struct api_label_selector sel;
    struct label_set ls;
    bool m;

    parse_labels_ok(selector, &sel);
    label_set_init(&ls, labels);
    m = api_labels_matches(&sel, ls.l, ls.n);
    api_labels_free(&sel);
    return m;
}

/* Expects a parse error with this code whose message starts with want. */
static void expect_label_error(const char *s, size_t len, int want_rc, const char *want)
{
    struct api_label_selector sel;
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = api_labels_parse(s, len, &sel, err);

    if (rc != want_rc)
        fail_msg("'%s': rc %d (%s), want %d", s, rc, err, want_rc);
    /* messages longer than the buffer arrive cut to K8C_ERRMSG_SIZE - 1 bytes */
    if (strncmp(err, want, strlen(want) < K8C_ERRMSG_SIZE ? strlen(want) : K8C_ERRMSG_SIZE - 1) !=
        0)
        fail_msg("'%s': message\n  %s\nwant prefix\n  %s", s, err, want);
    assert_true(api_labels_empty(&sel)); /* left initialised and empty */
    api_labels_free(&sel);
}

static void parse_fields_ok(const char *s, struct api_field_selector *sel)
{
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = api_fields_parse(s, strlen(s), sel, err);
    if (rc != 0)
        fail_msg("field selector '%s': rc %d: %s", s, rc, err);
}

static void expect_field_error(const char *s, int want_rc, const char *want)
{
    struct api_field_selector sel;
    char err[K8C_ERRMSG_SIZE] = "";
    int rc = api_fields_parse(s, strlen(s), &sel, err);

    if (rc != want_rc)
        fail_msg("'%s': rc %d (%s), want %d", s, rc, err, want_rc);
    if (strcmp(err, want) != 0)
        fail_msg("'%s': message\n  %s\nwant\n  %s", s, err, want);
    api_fields_free(&sel);
}

/* ------------------------------------------------------------------------------------------ */
/* Label selectors                                                                            */

/* upstream TestSelectorParse: good strings restring to themselves without spaces. */
static void test_labels_restring(void **state)
{
    static const char *const good[] = {
        "x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct api_label_selector sel;
        char want[64], *got;
        size_t o = 0;

        parse_labels_ok(good[i], &sel);
        for (const char *p = good[i]; *p; p++)
            if (*p != ' ')
                want[o++] = *p;
        want[o] = '\0';
        got = format_labels(&sel);
        if (strcmp(got, want) != 0)
            fail_msg("'%s' restrings as '%s'", good[i], got);
        k8c_free(got);
        api_labels_free(&sel);
    }
}

/* upstream TestSetSelectorParser and more: input -> canonical String(). */
static void test_labels_canonical(void **state)
{
    static const char *const cases[][2] = {
        {"", ""},
        {"   \t\r\n ", ""},
        {"\rx", "x"},
        {"this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"},
        {"this-is-another-dns.domain.com/key-with-dash in (so,what)",
         "this-is-another-dns.domain.com/key-with-dash in (so,what)"},
        {"0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
         "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"},
        {"foo  in\t (abc)", "foo in (abc)"},
        {"x notin\n (abc)", "x notin (abc)"},
        {"x  notin\t\t\t(abc,def)", "x notin (abc,def)"},
        {"x in (abc,def)", "x in (abc,def)"},
        {"x in (def,abc)", "x in (abc,def)"},
        {"x in (abc,)", "x in (,abc)"},
        {"x in (abc,abc)", "x in (abc)"},
        {"x in ()", "x in ()"},
        {"x in (a,,)", "x in (,a)"},
        {"x in (a,,,)", "x in (,a)"},
        {"x in (a,,,,,,)", "x in (,a)"},
        {"x in (a,,a,,a,,a,,)", "x in (,a)"},
        {"x in (,,a)", "x in (,a)"},
        {"x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"},
        {"x,y in (a)", "x,y in (a)"},
        {"x=a", "x=a"},
        {"x==a", "x==a"},
        {"x>1", "x>1"},
        {"x<7", "x<7"},
        {"x=a,y!=b", "x=a,y!=b"},
        {"x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"},
        {"x notin ( )", "x notin ()"},
        {"x notin (, a)", "x notin (,a)"},
        {"a ", "a"},
        {"a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"},
        {"x=a,a=x", "a=x,x=a"},
        {"a=x,x=a", "a=x,x=a"},
        {"in in (in),notin notin (notin)", "in in (in),notin notin (notin)"},
        {"notin=in", "notin=in"},
        {"in", "in"},
        {"!in", "!in"},
        {"z,a!=b,!m,a", "a!=b,a,!m,z"}, /* stable: equal keys keep their order */
        {"example.com/a=1, k8s.io/b==2", "example.com/a=1,k8s.io/b==2"},
        {"A.b-c_d=Aa_b.c-9", "A.b-c_d=Aa_b.c-9"},
        {"x>-0", NULL}, /* see test_labels_errors */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_label_selector sel, again;
        char *got, *got2;

        if (cases[i][1] == NULL)
            continue;
        parse_labels_ok(cases[i][0], &sel);
        got = format_labels(&sel);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("'%s' -> '%s', want '%s'", cases[i][0], got, cases[i][1]);
        /* the canonical form parses back to itself */
        parse_labels_ok(got, &again);
        got2 = format_labels(&again);
        assert_string_equal(got, got2);
        k8c_free(got2);
        k8c_free(got);
        api_labels_free(&again);
        api_labels_free(&sel);
    }
}

/* upstream TestSelectorMatches, TestRequirementSelectorMatching and more. */
static void test_labels_match(void **state)
{
    static const struct {
        const char *selector, *labels;
        bool match;
    } cases[] = {
        {"", "x=y", true},
        {"", "", true},
        {"x=y", "x=y", true},
        {"x=y,z=w", "x=y;z=w", true},
        {"x!=y,z!=w", "x=z;z=a", true},
        {"notin=in", "notin=in", true},
        {"x", "x=z", true},
        {"!x", "y=z", true},
        {"x>1", "x=2", true},
        {"x<1", "x=0", true},
        {"x=z", "", false},
        {"x=y", "x=z", false},
        {"x=y,z=w", "x=w;z=w", false},
        {"x!=y,z!=w", "x=z;z=w", false},
        {"x", "y=z", false},
        {"!x", "x=z", false},
        {"x>1", "x=0", false},
        {"x<1", "x=2", false},
        {"foo=bar", "foo=bar;baz=blah", true},
        {"baz=blah", "foo=bar;baz=blah", true},
        {"foo=bar,baz=blah", "foo=bar;baz=blah", true},
        {"foo=blah", "foo=bar;baz=blah", false},
        {"baz=bar", "foo=bar;baz=blah", false},
        {"foo=bar,foobar=bar,baz=blah", "foo=bar;baz=blah", false},
        {"x in (foo),y notin (alpha)", "x=foo;y=baz", true},
        {"x in (foo),y in (alpha)", "x=foo;y=baz", false},
        {"x notin (),y", "y=", true},
        {"!x,y", "y=", true},
        {"x notin (),!y", "y=", false},
        {"x in ()", "y=baz", false},
        {"x in ()", "x=", true},
        {"x=", "x=", true},
        {"x=", "", false},
        {"x!=", "", true},
        {"x!=", "x=", false},
        {"x!=a", "", true},
        {"x notin (a,b)", "", true},
        {"x notin (a,b)", "x=b", false},
        {"x notin (a,b)", "x=c", true},
        {"x in (a,b,c)", "x=b", true},
        {"x in (a,b,c)", "x=d", false},
        {"z>1", "z=2", true},
        {"z>1", "z=v2", false},
        {"z>1", "", false},
        {"z<1", "", false},
        {"z<1", "z=-5", true}, /* the object's label is parsed as an integer */
        {"z>9223372036854775806", "z=9223372036854775807", true},
        {"z>1", "z=9223372036854775808", false}, /* out of range: no match */
        {"z<10", "z=+3", true},
        {"z>1", "z=1", false},
        {"z>01", "z=2", true},
        {"x,x!=a", "x=a", false},
        {"x,x!=a", "x=b", true},
        {"a in (in,notin)", "a=notin", true},
        {"k8s.io/app=web", "k8s.io/app=web", true},
        {"k8s.io/app=web", "app=web", false},
        {"App=web", "app=web", false}, /* keys are case-sensitive */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (labels_match(cases[i].selector, cases[i].labels) != cases[i].match)
            fail_msg("'%s' on {%s}: want %s", cases[i].selector, cases[i].labels,
                     cases[i].match ? "match" : "no match");
    }
}

/* A key given twice counts with its last value, as when protobuf map entries decode. */
static void test_labels_duplicate_keys(void **state)
{
    struct api_label_selector sel;
    struct api_label dup[] = {{"x", "a"}, {"y", "b"}, {"x", "c"}};
    struct api_label nulls[] = {{"x", NULL}};
    (void)state;

    parse_labels_ok("x=c", &sel);
    assert_true(api_labels_matches(&sel, dup, 3));
    assert_false(api_labels_matches(&sel, dup, 2));
    api_labels_free(&sel);

    parse_labels_ok("x=", &sel); /* NULL value reads as "" */
    assert_true(api_labels_matches(&sel, nulls, 1));
    assert_false(api_labels_matches(&sel, NULL, 0));
    api_labels_free(&sel);
}

static void test_labels_errors(void **state)
{
    static const struct {
        const char *in;
        int rc;
        const char *msg; /* prefix of the message */
    } cases[] = {
        /* syntax (upstream TestSetSelectorParser / TestSelectorParse bad strings) */
        {"x==a==b", K8C_EPARSE, "found '==', expected: ',' or 'end of string'"},
        {"!x=a", K8C_EPARSE, "found '=', expected: ',' or 'end of string'"},
        {"x,,y", K8C_EPARSE, "found ',', expected: identifier after ','"},
        {",x,y", K8C_EPARSE, "found ',', expected: !, identifier, or 'end of string'"},
        {"x nott in (y)", K8C_EPARSE,
         "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"},
        {"a b", K8C_EPARSE,
         "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"},
        {"a in (xyz),", K8C_EPARSE, "found '', expected: identifier after ','"},
        {"a in (xyz)b notin ()", K8C_EPARSE, "found 'b', expected: ',' or 'end of string'"},
        {"a in (xyz abc)", K8C_EPARSE,
         "unable to parse requirement: found 'abc', expected: ',' or ')'"},
        {"a notin(", K8C_EPARSE,
         "unable to parse requirement: found '', expected: ',', ')' or identifier"},
        {"a in (=)", K8C_EPARSE,
         "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
        {"a in (b,=)", K8C_EPARSE,
         "unable to parse requirement: found '=', expected: ',', or identifier"},
        {"a (", K8C_EPARSE,
         "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"},
        {"a !", K8C_EPARSE,
         "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"},
        {"(", K8C_EPARSE, "found '(', expected: !, identifier, or 'end of string'"},
        {")", K8C_EPARSE, "found ')', expected: !, identifier, or 'end of string'"},
        {"=a", K8C_EPARSE, "found '=', expected: !, identifier, or 'end of string'"},
        {"x in", K8C_EPARSE, "unable to parse requirement: found '' expected: '('"},
        {"x in x", K8C_EPARSE, "unable to parse requirement: found 'x' expected: '('"},
        {"x=(", K8C_EPARSE, "unable to parse requirement: found '(', expected: identifier"},
        {"!", K8C_EPARSE, "unable to parse requirement: found '', expected: identifier"},
        {"!!x", K8C_EPARSE, "unable to parse requirement: found '!', expected: identifier"},
        {"!=x", K8C_EPARSE, "found '!=', expected: !, identifier, or 'end of string'"},
        {"x=a b", K8C_EPARSE, "found 'b', expected: ',' or 'end of string'"},
        /* validation of keys */
        {"x=a||y=b", K8C_EINVAL,
         "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": a valid label must "
         "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
         "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
         "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
        {"A_", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"A_\": name part must consist of "
         "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
         "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
         "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"},
        {"Example.com/a", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a "
         "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
         "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
         "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]"},
        {"/a", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be "
         "non-empty"},
        {"a/", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be "
         "non-empty; name part must consist of alphanumeric characters"},
        {"a/b/c in (x)", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must "
         "consist of alphanumeric characters"},
        {"a..b/c", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"a..b/c\": prefix part a "
         "lowercase RFC 1123 subdomain"},
        {"-a", K8C_EINVAL, "unable to parse requirement: <nil>: Invalid value: \"-a\": name part"},
        {"a\"b", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"a\\\"b\": name part"},
        {"a\x01", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"a\\x01\": name part"},
        {"\xe4\xb8\xad=a", K8C_EINVAL,
         "unable to parse requirement: <nil>: Invalid value: \"\xe4\xb8\xad\": name part"},
        {"\xff", K8C_EINVAL, "unable to parse requirement: <nil>: Invalid value: \"\\xff\""},
        /* validation of values */
        {"x<a", K8C_EINVAL,
         "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
         "operators, the value must be an integer"},
        {"x>99999999999999999999", K8C_EINVAL,
         "unable to parse requirement: values[0]: Invalid value: \"99999999999999999999\": for "
         "'Gt', 'Lt' operators, the value must be an integer"},
        {"x>", K8C_EINVAL,
         "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, "
         "the value must be an integer"},
        {"x>-1", K8C_EINVAL,
         "unable to parse requirement: values[0][x]: Invalid value: \"-1\": a valid label must "
         "be an empty string"},
        {"x>-0", K8C_EINVAL, "unable to parse requirement: values[0][x]: Invalid value: \"-0\""},
        {"x>-a", K8C_EINVAL,
         "unable to parse requirement: [values[0]: Invalid value: \"-a\": for 'Gt', 'Lt' "
         "operators, the value must be an integer, values[0][x]: Invalid value: \"-a\": a valid "
         "label must be"},
        {"x in (a,-b)", K8C_EINVAL,
         "unable to parse requirement: values[0][x]: Invalid value: \"-b\": a valid label"},
        {"x in (b,a_)", K8C_EINVAL,
         "unable to parse requirement: values[0][x]: Invalid value: \"a_\": a valid label"},
        {"x in (a_, b_)", K8C_EINVAL,
         "unable to parse requirement: [values[0][x]: Invalid value: \"a_\": a valid label"},
        {"x=1234567890123456789012345678901234567890123456789012345678901234", K8C_EINVAL,
         "unable to parse requirement: values[0][x]: Invalid value: "
         "\"1234567890123456789012345678901234567890123456789012345678901234\": must be no more "
         "than 63 characters"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_label_error(cases[i].in, strlen(cases[i].in), cases[i].rc, cases[i].msg);
}

static void test_labels_key_lengths(void **state)
{
    char key[400], sel[420];
    (void)state;

    /* a 63-byte name is fine, 64 is not */
    memset(key, 'a', 63);
    key[63] = '\0';
    assert_int_equal(api_labels_validate_key(key, 63, NULL), 0);
    snprintf(sel, sizeof(sel), "%s=%s", key, key); /* a 63-byte value is fine too */
    assert_true(labels_match(sel, "") == false);
    key[63] = 'a';
    key[64] = '\0';
    snprintf(sel, sizeof(sel), "%s", key);
    expect_label_error(sel, strlen(sel), K8C_EINVAL,
                       "unable to parse requirement: <nil>: Invalid value: \"aaaa");
    {
        char err[K8C_ERRMSG_SIZE];
        assert_int_equal(api_labels_validate_key(key, 64, err), K8C_EINVAL);
        assert_string_equal(err, "name part must be no more than 63 characters");
    }
    /* a 253-byte prefix is fine, 254 is not (upstream TestRequirementConstructor) */
    memset(key, 'a', 253);
    memcpy(key + 253, "/x", 3);
    assert_int_equal(api_labels_validate_key(key, strlen(key), NULL), 0);
    memset(key, 'a', 254);
    memcpy(key + 254, "/x", 3);
    {
        char err[K8C_ERRMSG_SIZE];
        assert_int_equal(api_labels_validate_key(key, strlen(key), err), K8C_EINVAL);
        assert_string_equal(err, "prefix part must be no more than 253 characters");
    }
    /* no prefix: a 254-byte name fails on length only */
    memset(key, 'a', 254);
    key[254] = '\0';
    assert_int_equal(api_labels_validate_key(key, 254, NULL), K8C_EINVAL);
    {
        char err[K8C_ERRMSG_SIZE];
        assert_int_equal(api_labels_validate_value("", 0, NULL), 0);
        assert_int_equal(api_labels_validate_value("a.b_c-D", 7, NULL), 0);
        assert_int_equal(api_labels_validate_value("a b", 3, err), K8C_EINVAL);
        assert_true(has_prefix(err, "a valid label must be an empty string"));
        assert_int_equal(api_labels_validate_key("", 0, err), K8C_EINVAL);
        assert_true(has_prefix(err, "name part must be non-empty; name part must consist"));
    }
}

static void test_labels_limits(void **state)
{
    struct api_label_selector sel;
    struct k8c_sbuf sb;
    char err[K8C_ERRMSG_SIZE];
    char *big;
    (void)state;

    /* longer than 64 KiB: refused before lexing */
    big = k8c_malloc(API_SELECTOR_MAX_LEN + 2);
    memset(big, ' ', API_SELECTOR_MAX_LEN + 1);
    big[API_SELECTOR_MAX_LEN + 1] = '\0';
    assert_int_equal(api_labels_parse(big, API_SELECTOR_MAX_LEN + 1, &sel, err), K8C_ETOOBIG);
    assert_true(api_labels_empty(&sel));
    {
        struct api_field_selector fsel;
        assert_int_equal(api_fields_parse(big, API_SELECTOR_MAX_LEN + 1, &fsel, err), K8C_ETOOBIG);
        assert_true(api_fields_empty(&fsel));
    }
    /* exactly 64 KiB of blanks is the empty selector */
    assert_int_equal(api_labels_parse(big, API_SELECTOR_MAX_LEN, &sel, err), 0);
    assert_true(api_labels_empty(&sel));
    api_labels_free(&sel);
    k8c_free(big);

    /* 1024 requirements are fine, 1025 are not */
    k8c_sbuf_init(&sb);
    for (int i = 0; i < API_SELECTOR_MAX_REQUIREMENTS; i++)
        k8c_sbuf_printf(&sb, "%sk%d=v", i ? "," : "", i);
    assert_int_equal(api_labels_parse(sb.data, sb.len, &sel, err), 0);
    assert_int_equal(sel.n_requirements, API_SELECTOR_MAX_REQUIREMENTS);
    api_labels_free(&sel);
    k8c_sbuf_puts(&sb, ",one-more");
    assert_int_equal(api_labels_parse(sb.data, sb.len, &sel, err), K8C_ETOOBIG);
    assert_string_equal(err, "label selector has more than 1024 requirements");
    k8c_sbuf_free(&sb);

    /* 4096 values in a set are fine, 4097 are not */
    k8c_sbuf_init(&sb);
    k8c_sbuf_puts(&sb, "x in (");
    for (int i = 0; i < API_SELECTOR_MAX_VALUES; i++)
        k8c_sbuf_printf(&sb, "%sv%d", i ? "," : "", i);
    k8c_sbuf_puts(&sb, ")");
    assert_int_equal(api_labels_parse(sb.data, sb.len, &sel, err), 0);
    assert_int_equal(sel.requirements[0].n_values, API_SELECTOR_MAX_VALUES);
    {
        struct api_label l = {"x", "v4095"}, l2 = {"x", "v4096"};
        assert_true(api_labels_matches(&sel, &l, 1));
        assert_false(api_labels_matches(&sel, &l2, 1));
    }
    api_labels_free(&sel);
    sb.len--;
    k8c_sbuf_puts(&sb, ",w)");
    assert_int_equal(api_labels_parse(sb.data, sb.len, &sel, err), K8C_ETOOBIG);
    assert_string_equal(err, "unable to parse requirement: more than 4096 values in one set");
    k8c_sbuf_free(&sb);
}

/* NUL bytes behave as in upstream's lexer: one ends an identifier or stands for the end. */
static void test_labels_nul(void **state)
{
    struct api_label_selector sel;
    char *f;
    (void)state;

    assert_int_equal(api_labels_parse(" \0x=y", 5, &sel, NULL), 0);
    assert_true(api_labels_empty(&sel));
    api_labels_free(&sel);
    assert_int_equal(api_labels_parse("x\0", 2, &sel, NULL), 0);
    f = format_labels(&sel);
    assert_string_equal(f, "x");
    k8c_free(f);
    api_labels_free(&sel);
    assert_int_equal(api_labels_parse("x=\0y", 4, &sel, NULL), 0);
    f = format_labels(&sel);
    assert_string_equal(f, "x=y");
    k8c_free(f);
    api_labels_free(&sel);
    expect_label_error("a\0b", 3, K8C_EPARSE,
                       "unable to parse requirement: found 'b', expected: in, notin");
}

static void test_labels_exact_match(void **state)
{
    struct api_label_selector sel;
    const char *v = NULL;
    (void)state;

    parse_labels_ok("a=1,b==2,c in (3),d in (4,5),e!=6,f,a=7", &sel);
    assert_true(api_labels_requires_exact_match(&sel, "a", &v));
    assert_string_equal(v, "1"); /* first requirement on the key */
    assert_true(api_labels_requires_exact_match(&sel, "b", &v));
    assert_string_equal(v, "2");
    assert_true(api_labels_requires_exact_match(&sel, "c", &v));
    assert_string_equal(v, "3");
    assert_false(api_labels_requires_exact_match(&sel, "d", &v));
    assert_false(api_labels_requires_exact_match(&sel, "e", &v));
    assert_false(api_labels_requires_exact_match(&sel, "f", &v));
    assert_false(api_labels_requires_exact_match(&sel, "g", &v));
    assert_false(api_labels_empty(&sel));
    assert_false(api_labels_matches_nothing(&sel));
    api_labels_free(&sel);

    api_labels_init(&sel);
    assert_true(api_labels_empty(&sel));
    assert_true(api_labels_matches(&sel, NULL, 0));
    api_labels_init_nothing(&sel);
    assert_false(api_labels_empty(&sel));
    assert_true(api_labels_matches_nothing(&sel));
    assert_false(api_labels_matches(&sel, NULL, 0));
    assert_false(api_labels_requires_exact_match(&sel, "a", &v));
    api_labels_free(&sel);
    assert_true(api_labels_empty(&sel));
}

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelector__MatchLabelsEntry match_entry_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelectorRequirement expr_t;

static void test_labels_object_meta(void **state)
{
    api_labels_entry_t e1 =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__OBJECT_META__LABELS_ENTRY__INIT;
    api_labels_entry_t e2 =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__OBJECT_META__LABELS_ENTRY__INIT;
    api_labels_entry_t *entries[2] = {&e1, &e2};
    api_object_meta_t meta = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__OBJECT_META__INIT;
    struct api_label_selector sel;
    (void)state;

    e1.key = "app";
    e1.value = "web";
    e2.key = "tier";
    e2.value = "frontend";
    meta.n_labels = 2;
    meta.labels = entries;

    parse_labels_ok("app=web,tier in (frontend,backend),!legacy", &sel);
    assert_true(api_labels_matches_meta(&sel, &meta));
    assert_true(api_labels_matches_entries(&sel, entries, 2));
    assert_false(api_labels_matches_entries(&sel, entries, 1));
    e2.value = "db";
    assert_false(api_labels_matches_meta(&sel, &meta));
    assert_false(api_labels_matches_meta(&sel, NULL));
    api_labels_free(&sel);

    parse_labels_ok("!app", &sel);
    assert_false(api_labels_matches_meta(&sel, &meta));
    assert_true(api_labels_matches_meta(&sel, NULL));
    meta.n_labels = 0;
    meta.labels = NULL;
    assert_true(api_labels_matches_meta(&sel, &meta));
    api_labels_free(&sel);
}

/* metav1.LabelSelector -> selector (LabelSelectorAsSelector). */
static void test_labels_from_label_selector(void **state)
{
    api_label_selector_msg_t msg = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR__INIT;
    match_entry_t ml =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR__MATCH_LABELS_ENTRY__INIT;
    match_entry_t *mls[1] = {&ml};
    expr_t x[4] = {
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR_REQUIREMENT__INIT,
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR_REQUIREMENT__INIT,
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR_REQUIREMENT__INIT,
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR_REQUIREMENT__INIT,
    };
    expr_t *xs[4] = {&x[0], &x[1], &x[2], &x[3]};
    char *tier_values[] = {"fe", "be", "fe"};
    char *env_values[] = {"prod"};
    struct api_label_selector sel;
    char err[K8C_ERRMSG_SIZE];
    struct label_set ls;
    char *f;
    (void)state;

    /* nil matches nothing; empty matches everything */
    assert_int_equal(api_labels_from_label_selector(NULL, &sel, err), 0);
    assert_true(api_labels_matches_nothing(&sel));
    assert_false(api_labels_matches(&sel, NULL, 0));
    f = format_labels(&sel);
    assert_string_equal(f, "");
    k8c_free(f);
    api_labels_free(&sel);
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), 0);
    assert_true(api_labels_empty(&sel));
    label_set_init(&ls, "a=b");
    assert_true(api_labels_matches(&sel, ls.l, ls.n));
    api_labels_free(&sel);

    ml.key = "app";
    ml.value = "web";
    msg.n_matchlabels = 1;
    msg.matchlabels = mls;
    x[0].key = "tier";
    x[0].operator_ = "In";
    x[0].n_values = 3;
    x[0].values = tier_values;
    x[1].key = "env";
    x[1].operator_ = "NotIn";
    x[1].n_values = 1;
    x[1].values = env_values;
    x[2].key = "gpu";
    x[2].operator_ = "Exists";
    x[3].key = "legacy";
    x[3].operator_ = "DoesNotExist";
    msg.n_matchexpressions = 4;
    msg.matchexpressions = xs;
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), 0);
    f = format_labels(&sel);
    assert_string_equal(f, "app=web,env notin (prod),gpu,!legacy,tier in (be,fe,fe)");
    k8c_free(f);
    {
        static const struct {
            const char *labels;
            bool match;
        } cases[] = {
            {"app=web;tier=fe;gpu=", true},
            {"app=web;tier=be;gpu=a100;env=dev", true},
            {"app=web;tier=be;gpu=a100;env=prod", false},
            {"app=web;tier=db;gpu=a100", false},
            {"app=web;tier=fe", false},
            {"app=web;tier=fe;gpu=;legacy=true", false},
            {"app=api;tier=fe;gpu=", false},
            {"", false},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            label_set_init(&ls, cases[i].labels);
            if (api_labels_matches(&sel, ls.l, ls.n) != cases[i].match)
                fail_msg("{%s}: want %s", cases[i].labels, cases[i].match ? "match" : "no match");
        }
    }
    api_labels_free(&sel);

    /* errors, with upstream's messages */
    x[2].operator_ = "Gt";
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), K8C_EINVAL);
    assert_string_equal(err, "\"Gt\" is not a valid label selector operator");
    assert_true(api_labels_empty(&sel));
    x[2].operator_ = "exists";
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), K8C_EINVAL);
    assert_string_equal(err, "\"exists\" is not a valid label selector operator");
    x[2].operator_ = "Exists";
    x[2].n_values = 1;
    x[2].values = env_values;
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), K8C_EINVAL);
    assert_string_equal(err, "values: Invalid value: [\"prod\"]: values set must be empty for "
                             "exists and does not exist");
    x[2].n_values = 0;
    x[2].values = NULL;
    x[0].n_values = 0;
    x[0].values = NULL;
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), K8C_EINVAL);
    assert_string_equal(
        err, "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty");
    x[0].n_values = 3;
    x[0].values = tier_values;
    x[1].key = "";
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), K8C_EINVAL);
    assert_true(has_prefix(err,
                           "key: Invalid value: \"\": name part must be non-empty; name part must "
                           "consist of alphanumeric characters"));
    x[1].key = "env";
    {
        char *bad[] = {"<x>"};
        x[1].values = bad;
        assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), K8C_EINVAL);
        assert_true(has_prefix(err, "values[0][env]: Invalid value: \"<x>\": a valid label must"));
        x[2].n_values = 1;
        x[2].values = bad;
        x[1].values = env_values;
        assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), K8C_EINVAL);
        assert_true(
            has_prefix(err, "[values: Invalid value: [\"\\u003cx\\u003e\"]: values set must be "
                            "empty for exists and does not exist, values[0][gpu]: Invalid value: "
                            "\"<x>\": a valid label"));
        x[2].n_values = 0;
        x[2].values = NULL;
    }
    ml.value = "a b";
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), K8C_EINVAL);
    assert_true(has_prefix(err, "values[0][app]: Invalid value: \"a b\": a valid label"));
    ml.value = "web";
    assert_int_equal(api_labels_from_label_selector(&msg, &sel, err), 0);
    api_labels_free(&sel);
}

/* ------------------------------------------------------------------------------------------ */
/* Field selectors                                                                            */

static void test_fields_parse(void **state)
{
    /* input -> String(); upstream TestSelectorParse good strings restring to themselves */
    static const char *const cases[][2] = {
        {"x=a,y=b,z=c", "x=a,y=b,z=c"},
        {"", ""},
        {"x!=a,y=b", "x!=a,y=b"},
        {"x=a||y\\=b", "x=a||y\\=b"},
        {"x=a\\=\\=b", "x=a\\=\\=b"},
        {"x=a,a=x", "a=x,x=a"}, /* terms are sorted */
        {"a=x,x=a", "a=x,x=a"},
        {"b==1,a!=2", "a!=2,b=1"},
        {"a=a,", "a=a"},
        {",a=a", "a=a"},
        {",,,", ""},
        {"=", ""}, /* neither field nor value: dropped */
        {"=x", "=x"},
        {"k=", "k="},
        {"k=\\,,k2=v2", "k2=v2,k=\\,"}, /* "k2=v2" < "k=\," as bytes */
        {"k=\\\\,k2=v2", "k2=v2,k=\\\\"},
        {"k=\\\\\\,,k2=v2", "k2=v2,k=\\\\\\,"},
        {"complex=\\=value\\\\\\,\\\\", "complex=\\=value\\\\\\,\\\\"},
        {"\xed\x95\xa8=\xec\x88\x98,\xeb\xaa\xa9=\xeb\xa1\x9d",
         "\xeb\xaa\xa9=\xeb\xa1\x9d,\xed\x95\xa8=\xec\x88\x98"},
        {"a!b=c", "a!b=c"},
        {"a !=b", "a !=b"}, /* no trimming */
        {" a = b ", " a = b "},
        {"metadata.name=web-0,spec.nodeName=", "metadata.name=web-0,spec.nodeName="},
        {"a=!x", "a=!x"},
        {"a==\\=b", "a=\\=b"},
        {"a\\,b=c", "a\\,b=c"},             /* field names are not unescaped */
        {"a=\\\xff\\,", NULL},              /* invalid escape: see test_fields_errors */
        {"a=\xff\\,", "a=\xef\xbf\xbd\\,"}, /* upstream walks runes once unescaping */
        {"a=\xff", "a=\xff"},               /* ... and returns plain values as they are */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_field_selector sel, again;
        char *got, *got2;

        if (cases[i][1] == NULL)
            continue;
        parse_fields_ok(cases[i][0], &sel);
        got = format_fields(&sel);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("'%s' -> '%s', want '%s'", cases[i][0], got, cases[i][1]);
        parse_fields_ok(got, &again);
        got2 = format_fields(&again);
        assert_string_equal(got, got2);
        k8c_free(got2);
        k8c_free(got);
        api_fields_free(&again);
        api_fields_free(&sel);
    }
}

static void test_fields_errors(void **state)
{
    (void)state;
    expect_field_error("x=a||y=b", K8C_EPARSE,
                       "invalid field selector: unescaped character in value: 61");
    expect_field_error("x==a==b", K8C_EPARSE,
                       "invalid field selector: unescaped character in value: 61");
    expect_field_error("x=a,b", K8C_EPARSE, "invalid selector: 'x=a,b'; can't understand 'b'");
    expect_field_error("x in (a)", K8C_EPARSE,
                       "invalid selector: 'x in (a)'; can't understand 'x in (a)'");
    expect_field_error("x in (a,b,c)", K8C_EPARSE,
                       "invalid selector: 'x in (a,b,c)'; can't understand 'b'");
    expect_field_error("x", K8C_EPARSE, "invalid selector: 'x'; can't understand 'x'");
    expect_field_error("!x", K8C_EPARSE, "invalid selector: '!x'; can't understand '!x'");
    expect_field_error("k=\\", K8C_EPARSE, "invalid field selector: invalid escape sequence: \\");
    expect_field_error("k=\\\\\\", K8C_EPARSE,
                       "invalid field selector: invalid escape sequence: \\");
    expect_field_error("k=\\a", K8C_EPARSE, "invalid field selector: invalid escape sequence: \\a");
    expect_field_error("k=\\!", K8C_EPARSE, "invalid field selector: invalid escape sequence: \\!");
    expect_field_error("k=\\\xec\x88\x98", K8C_EPARSE,
                       "invalid field selector: invalid escape sequence: \\\xec\x88\x98");
    expect_field_error("a=\\\xff\\,", K8C_EPARSE,
                       "invalid field selector: invalid escape sequence: \\\xef\xbf\xbd");
    {
        struct api_field_selector sel;
        char err[K8C_ERRMSG_SIZE];
        assert_int_equal(api_fields_parse("a=b\0c", 5, &sel, err), K8C_EPARSE);
        assert_true(api_fields_empty(&sel));
        api_fields_free(&sel);
    }
}

static void test_fields_match(void **state)
{
    static const struct api_field set[] = {
        {"foo", "bar"}, {"baz", "blah"}, {"complex", "=value\\,\\"}, {"null", NULL}};
    static const struct {
        const char *selector;
        bool match;
    } cases[] = {
        {"", true},
        {"foo=bar", true},
        {"baz=blah", true},
        {"foo=bar,baz=blah", true},
        {"foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\", true},
        {"foo==bar", true},
        {"foo=blah", false},
        {"baz=bar", false},
        {"foo=bar,foobar=bar,baz=blah", false},
        {"foo!=bar", false},
        {"foo!=baz", true},
        {"missing=", true}, /* absent fields read as "" */
        {"missing!=", false},
        {"missing!=x", true},
        {"null=", true},
        {"=x", false},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct api_field_selector sel;
        parse_fields_ok(cases[i].selector, &sel);
        if (api_fields_matches(&sel, set, 4) != cases[i].match)
            fail_msg("'%s': want %s", cases[i].selector, cases[i].match ? "match" : "no match");
        api_fields_free(&sel);
    }
    {
        struct api_field_selector sel;
        struct api_field x = {"x", "y"}, x2 = {"x", "z"};
        parse_fields_ok("x=y,z=w", &sel);
        assert_false(api_fields_matches(&sel, &x, 1));
        api_fields_free(&sel);
        parse_fields_ok("x!=y,z!=w", &sel);
        assert_false(api_fields_matches(&sel, &x, 1));
        assert_true(api_fields_matches(&sel, &x2, 1));
        assert_true(api_fields_matches(&sel, NULL, 0));
        api_fields_free(&sel);
        api_fields_init_nothing(&sel);
        assert_false(api_fields_matches(&sel, &x, 1));
        assert_false(api_fields_empty(&sel));
        api_fields_free(&sel);
        api_fields_init(&sel);
        assert_true(api_fields_empty(&sel));
        assert_true(api_fields_matches(&sel, &x, 1));
    }
}

static void test_fields_supported_and_exact(void **state)
{
    static const char *const pod_fields[] = {"metadata.name", "metadata.namespace", "spec.nodeName",
                                             "status.phase"};
    struct api_field_selector sel;
    char err[K8C_ERRMSG_SIZE];
    const char *v = NULL;
    (void)state;

    parse_fields_ok("spec.nodeName=n1,status.phase!=Running", &sel);
    assert_int_equal(api_fields_check_supported(&sel, pod_fields, 4, err), 0);
    assert_true(api_fields_requires_exact_match(&sel, "spec.nodeName", &v));
    assert_string_equal(v, "n1");
    assert_false(api_fields_requires_exact_match(&sel, "status.phase", &v));
    assert_false(api_fields_requires_exact_match(&sel, "metadata.name", &v));
    assert_false(api_fields_empty(&sel));
    api_fields_free(&sel);

    parse_fields_ok("spec.nodeName=n1,spec.restartPolicy=Always,zzz=1", &sel);
    assert_int_equal(api_fields_check_supported(&sel, pod_fields, 4, err), K8C_EINVAL);
    assert_string_equal(err, "field label not supported: spec.restartPolicy");
    api_fields_free(&sel);

    parse_fields_ok("metadata.name=", &sel);
    assert_true(api_fields_requires_exact_match(&sel, "metadata.name", &v));
    assert_string_equal(v, "");
    assert_int_equal(api_fields_check_supported(&sel, pod_fields, 4, err), 0);
    assert_int_equal(api_fields_check_supported(&sel, NULL, 0, err), K8C_EINVAL);
    assert_string_equal(err, "field label not supported: metadata.name");
    api_fields_free(&sel);

    /* the empty selector uses no fields */
    parse_fields_ok("", &sel);
    assert_int_equal(api_fields_check_supported(&sel, NULL, 0, err), 0);
    api_fields_free(&sel);
}

static void test_fields_limits(void **state)
{
    struct api_field_selector sel;
    struct k8c_sbuf sb;
    char err[K8C_ERRMSG_SIZE];
    (void)state;

    k8c_sbuf_init(&sb);
    for (int i = 0; i < API_SELECTOR_MAX_REQUIREMENTS; i++)
        k8c_sbuf_printf(&sb, "%sf%d=v", i ? ",," : "", i); /* empty terms do not count */
    assert_int_equal(api_fields_parse(sb.data, sb.len, &sel, err), 0);
    assert_int_equal(sel.n_requirements, API_SELECTOR_MAX_REQUIREMENTS);
    api_fields_free(&sel);
    k8c_sbuf_puts(&sb, ",x=y");
    assert_int_equal(api_fields_parse(sb.data, sb.len, &sel, err), K8C_ETOOBIG);
    assert_string_equal(err, "field selector has more than 1024 requirements");
    assert_true(api_fields_empty(&sel));
    k8c_sbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_restring),
        cmocka_unit_test(test_labels_canonical),
        cmocka_unit_test(test_labels_match),
        cmocka_unit_test(test_labels_duplicate_keys),
        cmocka_unit_test(test_labels_errors),
        cmocka_unit_test(test_labels_key_lengths),
        cmocka_unit_test(test_labels_limits),
        cmocka_unit_test(test_labels_nul),
        cmocka_unit_test(test_labels_exact_match),
        cmocka_unit_test(test_labels_object_meta),
        cmocka_unit_test(test_labels_from_label_selector),
        cmocka_unit_test(test_fields_parse),
        cmocka_unit_test(test_fields_errors),
        cmocka_unit_test(test_fields_match),
        cmocka_unit_test(test_fields_supported_and_exact),
        cmocka_unit_test(test_fields_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
