/* Unit tests of lib/grpc_frame: message framing, grpc-timeout, status names,
 * grpc-message percent-encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "grpc_frame.h"

/* Collects decoded messages as "len:bytes" records in one string. */
struct collect {
    char out[4096];
    size_t n;
    int stop_after; /* return 1 from the callback after this many messages (0 = never) */
};

static int collect_cb(void *arg, const uint8_t *data, size_t len)
{
    struct collect *c = arg;
    size_t used = strlen(c->out);
    snprintf(c->out + used, sizeof(c->out) - used, "[%zu:%.*s]", len, (int)len, (const char *)data);
    c->n++;
    if (c->stop_after && c->n == (size_t)c->stop_after)
        return 1;
    return 0;
}

/* Builds the wire form of the given NUL-terminated messages into out. */
static size_t build(uint8_t *out, const char *const *msgs)
{
    size_t n = 0;
    for (; *msgs; msgs++) {
        size_t len = strlen(*msgs);
        k8c_grpc_frame_prefix(out + n, len);
        memcpy(out + n + 5, *msgs, len);
        n += 5 + len;
    }
    return n;
}

static void test_prefix_and_encode(void **state)
{
    uint8_t p[5];
    k8c_grpc_frame_prefix(p, 0x01020304);
    assert_memory_equal(p, "\x00\x01\x02\x03\x04", 5);
    struct k8c_buf *b = k8c_grpc_frame_encode("hi", 2);
    assert_int_equal(b->len, 7);
    assert_memory_equal(b->data, "\x00\x00\x00\x00\x02hi", 7);
    k8c_buf_unref(b);
}

static void test_multiple_messages_one_chunk(void **state)
{
    static const char *const msgs[] = {"hello", "", "world!", NULL};
    uint8_t wire[64];
    size_t n = build(wire, msgs);
    struct k8c_grpc_decoder d;
    struct collect c = {0};

    k8c_grpc_decoder_init(&d, 0);
    assert_int_equal(d.max_message, 4 * 1024 * 1024);
    assert_int_equal(k8c_grpc_decoder_feed(&d, wire, n, collect_cb, &c), 0);
    assert_string_equal(c.out, "[5:hello][0:][6:world!]");
    assert_int_equal(d.messages, 3);
    assert_int_equal(k8c_grpc_decoder_finish(&d), 0);
    k8c_grpc_decoder_free(&d);
}

/* Every way of cutting the stream into two or three chunks gives the same messages. */
static void test_split_every_position(void **state)
{
    static const char *const msgs[] = {"abc", "", "0123456789", "z", NULL};
    uint8_t wire[128];
    size_t n = build(wire, msgs);

    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            struct k8c_grpc_decoder d;
            struct collect c = {0};
            k8c_grpc_decoder_init(&d, 0);
            assert_int_equal(k8c_grpc_decoder_feed(&d, wire, i, collect_cb, &c), 0);
            assert_int_equal(k8c_grpc_decoder_feed(&d, wire + i, j - i, collect_cb, &c), 0);
            assert_int_equal(k8c_grpc_decoder_feed(&d, wire + j, n - j, collect_cb, &c), 0);
            assert_string_equal(c.out, "[3:abc][0:][10:0123456789][1:z]");
            assert_int_equal(k8c_grpc_decoder_finish(&d), 0);
            k8c_grpc_decoder_free(&d);
        }
    }
}

static void test_byte_at_a_time(void **state)
{
    static const char *const msgs[] = {"one", "two", NULL};
    uint8_t wire[64];
    size_t n = build(wire, msgs);
    struct k8c_grpc_decoder d;
    struct collect c = {0};

    k8c_grpc_decoder_init(&d, 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(k8c_grpc_decoder_feed(&d, wire + i, 1, collect_cb, &c), 0);
        assert_int_equal(k8c_grpc_decoder_partial(&d), i + 1 != 8 && i + 1 != n);
    }
    assert_string_equal(c.out, "[3:one][3:two]");
    k8c_grpc_decoder_free(&d);
}

static void test_lying_length(void **state)
{
    /* The prefix promises 100 bytes, the stream ends after 4. */
    uint8_t wire[] = {0, 0, 0, 0, 100, 'a', 'b', 'c', 'd'};
    struct k8c_grpc_decoder d;
    struct collect c = {0};

    k8c_grpc_decoder_init(&d, 0);
    assert_int_equal(k8c_grpc_decoder_feed(&d, wire, sizeof(wire), collect_cb, &c), 0);
    assert_int_equal(c.n, 0);
    assert_true(k8c_grpc_decoder_partial(&d));
    assert_int_equal(k8c_grpc_decoder_finish(&d), K8C_EPROTO);
    assert_int_equal(d.status, K8C_GRPC_INTERNAL);
    assert_string_equal(d.errmsg, "grpc: stream ended mid-message: got 4 of 100 bytes");
    /* The buffer holds what arrived, not what was promised. */
    assert_true(d.msg_cap <= 256);
    k8c_grpc_decoder_free(&d);

    /* Stream ends inside the prefix. */
    k8c_grpc_decoder_init(&d, 0);
    assert_int_equal(k8c_grpc_decoder_feed(&d, wire, 3, collect_cb, &c), 0);
    assert_int_equal(k8c_grpc_decoder_finish(&d), K8C_EPROTO);
    assert_int_equal(d.status, K8C_GRPC_INTERNAL);
    k8c_grpc_decoder_free(&d);
}

static void test_oversize(void **state)
{
    uint8_t wire[] = {0, 0, 0, 0x10, 0x01, 'x'}; /* 4097 bytes promised */
    uint8_t huge[] = {0, 0xff, 0xff, 0xff, 0xff};
    struct k8c_grpc_decoder d;
    struct collect c = {0};

    k8c_grpc_decoder_init(&d, 4096);
    assert_int_equal(k8c_grpc_decoder_feed(&d, wire, sizeof(wire), collect_cb, &c), K8C_EPROTO);
    assert_int_equal(d.status, K8C_GRPC_RESOURCE_EXHAUSTED);
    assert_string_equal(d.errmsg, "grpc: received message larger than max (4097 vs. 4096)");
    /* Poisoned: further input is refused. */
    assert_int_equal(k8c_grpc_decoder_feed(&d, wire, 1, collect_cb, &c), K8C_EPROTO);
    assert_int_equal(k8c_grpc_decoder_finish(&d), K8C_EPROTO);
    k8c_grpc_decoder_free(&d);

    k8c_grpc_decoder_init(&d, 0);
    assert_int_equal(k8c_grpc_decoder_feed(&d, huge, sizeof(huge), collect_cb, &c), K8C_EPROTO);
    assert_string_equal(d.errmsg,
                        "grpc: received message larger than max (4294967295 vs. 4194304)");
    assert_int_equal(c.n, 0);
    k8c_grpc_decoder_free(&d);

    /* Exactly the limit is accepted. */
    uint8_t *big = k8c_calloc(1, 5 + 4096);
    k8c_grpc_frame_prefix(big, 4096);
    k8c_grpc_decoder_init(&d, 4096);
    assert_int_equal(k8c_grpc_decoder_feed(&d, big, 5 + 100, collect_cb, &c), 0);
    assert_int_equal(k8c_grpc_decoder_feed(&d, big + 105, 4096 - 100, collect_cb, &c), 0);
    assert_int_equal(d.messages, 1);
    k8c_grpc_decoder_free(&d);
    k8c_free(big);
}

static void test_compressed_flag(void **state)
{
    uint8_t wire[] = {1, 0, 0, 0, 1, 'x'};
    uint8_t bad[] = {7, 0, 0, 0, 1, 'x'};
    struct k8c_grpc_decoder d;
    struct collect c = {0};

    k8c_grpc_decoder_init(&d, 0);
    assert_int_equal(k8c_grpc_decoder_feed(&d, wire, sizeof(wire), collect_cb, &c), K8C_EPROTO);
    assert_int_equal(d.status, K8C_GRPC_UNIMPLEMENTED);
    assert_non_null(strstr(d.errmsg, "compress"));
    k8c_grpc_decoder_free(&d);

    k8c_grpc_decoder_init(&d, 0);
    assert_int_equal(k8c_grpc_decoder_feed(&d, bad, sizeof(bad), collect_cb, &c), K8C_EPROTO);
    assert_int_equal(d.status, K8C_GRPC_INTERNAL);
    k8c_grpc_decoder_free(&d);
    assert_int_equal(c.n, 0);
}

static void test_callback_stops(void **state)
{
    static const char *const msgs[] = {"a", "b", "c", NULL};
    uint8_t wire[64];
    size_t n = build(wire, msgs);
    struct k8c_grpc_decoder d;
    struct collect c = {.stop_after = 2};

    k8c_grpc_decoder_init(&d, 0);
    assert_int_equal(k8c_grpc_decoder_feed(&d, wire, n, collect_cb, &c), 1);
    assert_string_equal(c.out, "[1:a][1:b]");
    k8c_grpc_decoder_free(&d);
}

static void test_timeout_parse(void **state)
{
    int64_t ns = 0;
#define PARSE(s) k8c_grpc_timeout_parse(s, strlen(s), &ns)
    assert_int_equal(PARSE("10S"), 0);
    assert_int_equal(ns, 10000000000LL);
    assert_int_equal(PARSE("100m"), 0);
    assert_int_equal(ns, 100000000LL);
    assert_int_equal(PARSE("5u"), 0);
    assert_int_equal(ns, 5000);
    assert_int_equal(PARSE("1H"), 0);
    assert_int_equal(ns, 3600000000000LL);
    assert_int_equal(PARSE("2M"), 0);
    assert_int_equal(ns, 120000000000LL);
    assert_int_equal(PARSE("7n"), 0);
    assert_int_equal(ns, 7);
    assert_int_equal(PARSE("0m"), 0);
    assert_int_equal(ns, 0);
    assert_int_equal(PARSE("99999999H"), 0);
    assert_int_equal(ns, INT64_MAX); /* saturates */
    ns = 42;
    assert_int_equal(PARSE(""), K8C_EINVAL);
    assert_int_equal(PARSE("S"), K8C_EINVAL);
    assert_int_equal(PARSE("10"), K8C_EINVAL);
    assert_int_equal(PARSE("10s"), K8C_EINVAL);
    assert_int_equal(PARSE("-1S"), K8C_EINVAL);
    assert_int_equal(PARSE(" 1S"), K8C_EINVAL);
    assert_int_equal(PARSE("1.5S"), K8C_EINVAL);
    assert_int_equal(PARSE("123456789S"), K8C_EINVAL); /* 9 digits */
    assert_int_equal(PARSE("10SS"), K8C_EINVAL);
    assert_int_equal(ns, 42);
#undef PARSE
}

static void test_timeout_format(void **state)
{
    char out[16];
    int64_t ns;
    assert_string_equal(k8c_grpc_timeout_format(0, out), "0n");
    assert_string_equal(k8c_grpc_timeout_format(5000, out), "5000n");
    /* 1 s = 1e9 ns has 10 digits: moves to microseconds. */
    assert_string_equal(k8c_grpc_timeout_format(1000000000LL, out), "1000000u");
    assert_string_equal(k8c_grpc_timeout_format(123456789012LL, out), "123457m");
    assert_string_equal(k8c_grpc_timeout_format(3600LL * 1000000000LL * 10, out), "36000000m");
    assert_string_equal(k8c_grpc_timeout_format(-5, out), "0n");
    assert_string_equal(k8c_grpc_timeout_format(INT64_MAX, out), "2562048H");
    /* Round trip never shortens. */
    for (int64_t v = 1; v < INT64_MAX / 16; v = v * 7 + 3) {
        k8c_grpc_timeout_format(v, out);
        assert_int_equal(k8c_grpc_timeout_parse(out, strlen(out), &ns), 0);
        assert_true(ns >= v);
    }
}

static void test_status_names(void **state)
{
    static const char *const names[] = {"OK",
                                        "CANCELLED",
                                        "UNKNOWN",
                                        "INVALID_ARGUMENT",
                                        "DEADLINE_EXCEEDED",
                                        "NOT_FOUND",
                                        "ALREADY_EXISTS",
                                        "PERMISSION_DENIED",
                                        "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION",
                                        "ABORTED",
                                        "OUT_OF_RANGE",
                                        "UNIMPLEMENTED",
                                        "INTERNAL",
                                        "UNAVAILABLE",
                                        "DATA_LOSS",
                                        "UNAUTHENTICATED"};
    for (int i = 0; i <= 16; i++) {
        assert_string_equal(k8c_grpc_status_name(i), names[i]);
        assert_int_equal(k8c_grpc_status_from_name(names[i]), i);
    }
    assert_int_equal(K8C_GRPC_UNIMPLEMENTED, 12);
    assert_int_equal(K8C_GRPC_UNAUTHENTICATED, 16);
    assert_string_equal(k8c_grpc_status_name(17), "UNKNOWN");
    assert_string_equal(k8c_grpc_status_name(-1), "UNKNOWN");
    assert_int_equal(k8c_grpc_status_from_name("BOGUS"), -1);
    assert_int_equal(k8c_grpc_status_from_error(K8C_ETIMEDOUT), K8C_GRPC_DEADLINE_EXCEEDED);
    assert_int_equal(k8c_grpc_status_from_error(K8C_ENOTFOUND), K8C_GRPC_NOT_FOUND);
    assert_int_equal(k8c_grpc_status_from_error(0), K8C_GRPC_OK);
}

static void test_percent(void **state)
{
    const char raw[] = "50% done\nnext: caf\xc3\xa9 ~";
    char *enc = k8c_grpc_percent_encode(raw, strlen(raw));
    assert_string_equal(enc, "50%25 done%0Anext: caf%C3%A9 ~");
    char *dec = k8c_grpc_percent_decode(enc, strlen(enc));
    assert_string_equal(dec, raw);
    k8c_free(enc);
    k8c_free(dec);
    /* Malformed escapes pass through unchanged. */
    dec = k8c_grpc_percent_decode("a%zzb%4", 7);
    assert_string_equal(dec, "a%zzb%4");
    k8c_free(dec);
    dec = k8c_grpc_percent_decode("%41%", 4);
    assert_string_equal(dec, "A%");
    k8c_free(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_and_encode),
        cmocka_unit_test(test_multiple_messages_one_chunk),
        cmocka_unit_test(test_split_every_position),
        cmocka_unit_test(test_byte_at_a_time),
        cmocka_unit_test(test_lying_length),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_compressed_flag),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_timeout_parse),
        cmocka_unit_test(test_timeout_format),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
