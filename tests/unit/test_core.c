/* Unit tests of lib core: errors, buffers, the string builder and flags. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "flags.h"

static void test_errors(void **state)
{
    assert_string_equal(k8c_strerror(K8C_EINVAL), "invalid argument");
    assert_string_equal(k8c_errname(K8C_ETOOBIG), "K8C_ETOOBIG");
    assert_string_equal(k8c_errname(-ENOENT), "ENOENT");
    assert_string_equal(k8c_strerror(0), "success");
    assert_true(strlen(k8c_strerror(-ECONNREFUSED)) > 0);
}

static void test_buf_refs(void **state)
{
    struct k8c_buf *b = k8c_buf_copy("hello", 5);
    assert_int_equal(b->len, 5);
    assert_int_equal(b->data[5], 0);
    assert_ptr_equal(k8c_buf_ref(b), b);
    assert_int_equal(b->refs, 2);
    k8c_buf_unref(b);
    assert_int_equal(b->refs, 1);
    assert_memory_equal(b->data, "hello", 5);
    k8c_buf_unref(b);
    k8c_buf_unref(NULL);
}

static void test_sbuf(void **state)
{
    struct k8c_sbuf s;
    struct k8c_buf *b;
    char *d;

    k8c_sbuf_init(&s);
    for (int i = 0; i < 1000; i++)
        k8c_sbuf_printf(&s, "%d,", i);
    assert_int_equal(s.len, strlen(s.data));
    assert_true(strncmp(s.data, "0,1,2,", 6) == 0);
    k8c_sbuf_reset(&s);
    assert_int_equal(s.len, 0);
    k8c_sbuf_puts(&s, "ab");
    k8c_sbuf_putc(&s, 'c');
    k8c_sbuf_printf(&s, "%0300d", 7); /* longer than the first reservation */
    assert_int_equal(s.len, 303);
    b = k8c_sbuf_to_buf(&s);
    assert_int_equal(b->len, 303);
    assert_memory_equal(b->data, "abc000", 6);
    k8c_buf_unref(b);
    d = k8c_sbuf_detach(&s);
    assert_int_equal(strlen(d), 303);
    assert_null(s.data);
    k8c_free(d);
}

static void test_flags(void **state)
{
    bool tls = false;
    int port = 2379;
    int64_t timeout = 1000, limit = 0;
    char *name = "default";
    char errmsg[K8C_ERRMSG_SIZE];
    struct k8c_flag flags[] = {
        {"client-cert-auth", K8C_FLAG_BOOL, &tls, "verify clients"},
        {"port", K8C_FLAG_INT, &port, "port"},
        {"election-timeout", K8C_FLAG_DURATION, &timeout, "timeout"},
        {"max-request-bytes", K8C_FLAG_SIZE, &limit, "limit"},
        {"name", K8C_FLAG_STRING, &name, "member name"},
    };
    char *argv1[] = {"prog",      "--client-cert-auth",
                     "--port=12", "--election-timeout",
                     "1m30s",     "-max-request-bytes=3Mi",
                     "--name",    "s1",
                     "pos",       "--port=9"};
    int first = 0;

    assert_int_equal(k8c_flags_parse(flags, 5, 10, argv1, &first, errmsg), 0);
    assert_true(tls);
    assert_int_equal(port, 12);
    assert_int_equal(timeout, 90000);
    assert_int_equal(limit, 3 << 20);
    assert_string_equal(name, "s1");
    assert_int_equal(first, 8);

    char *argv2[] = {"prog", "--name=s2", "--client-cert-auth=false", "--election-timeout=250"};
    assert_int_equal(k8c_flags_parse(flags, 5, 4, argv2, &first, errmsg), 0);
    assert_string_equal(name, "s2");
    assert_false(tls);
    assert_int_equal(timeout, 250);

    char *argv3[] = {"prog", "--nope=1"};
    assert_int_equal(k8c_flags_parse(flags, 5, 2, argv3, &first, errmsg), K8C_EINVAL);
    assert_string_equal(errmsg, "unknown flag: --nope");
    char *argv4[] = {"prog", "--port=abc"};
    assert_int_equal(k8c_flags_parse(flags, 5, 2, argv4, &first, errmsg), K8C_EINVAL);
    assert_non_null(strstr(errmsg, "\"abc\" for \"--port\""));
    char *argv5[] = {"prog", "--name"};
    assert_int_equal(k8c_flags_parse(flags, 5, 2, argv5, &first, errmsg), K8C_EINVAL);
    char *argv6[] = {"prog", "--election-timeout=5parsecs"};
    assert_int_equal(k8c_flags_parse(flags, 5, 2, argv6, &first, errmsg), K8C_EINVAL);
    k8c_free(name); /* set by a parse: owned by the test now */
}

static void test_durations_sizes(void **state)
{
    int64_t v;
    assert_int_equal(k8c_parse_duration_ms("100ms", &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(k8c_parse_duration_ms("1h2m3s", &v), 0);
    assert_int_equal(v, 3723000);
    assert_int_equal(k8c_parse_duration_ms("1.5s", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(k8c_parse_duration_ms("", &v), K8C_EINVAL);
    assert_int_equal(k8c_parse_duration_ms("-1s", &v), K8C_EINVAL);
    assert_int_equal(k8c_parse_size("2Gi", &v), 0);
    assert_int_equal(v, 2LL << 30);
    assert_int_equal(k8c_parse_size("1572864", &v), 0);
    assert_int_equal(v, 1572864);
    assert_int_equal(k8c_parse_size("1Zi", &v), K8C_EINVAL);
    assert_int_equal(k8c_parse_size("99999999999Ti", &v), K8C_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_buf_refs),
        cmocka_unit_test(test_sbuf),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_durations_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
