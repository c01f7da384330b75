/*
 * Unit tests for store/cmd: batch encoding of raft entry payloads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cmd.h"
#include "error.h"

static void encode_sample(uint8_t **out, size_t *len)
{
    static const char big[300] = {'x'};
    struct store_cmd_req reqs[3] = {
        {.type = STORE_CMD_PUT, .id = 1, .data = (const uint8_t *)"hello", .len = 5},
        {.type = STORE_CMD_TXN, .id = 0xffffffffffffffffull, .data = NULL, .len = 0},
        {.type = STORE_CMD_LEASE_GRANT, .id = 42, .data = (const uint8_t *)big, .len = sizeof big},
    };
    struct store_cmd_header hdr = {.proposer = 7, .term = 3, .seq = 99};
    assert_int_equal(store_cmd_encode(&hdr, reqs, 3, out, len), 0);
    assert_int_equal(*len, STORE_CMD_HEADER_SIZE + 3 * STORE_CMD_REQ_HEADER_SIZE + 5 + 300);
}

static void test_round_trip(void **state)
{
    uint8_t *buf;
    size_t len;
    struct store_cmd_batch b;
    char errmsg[K8C_ERRMSG_SIZE];

    encode_sample(&buf, &len);
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), 0);
    assert_int_equal(b.hdr.count, 3);
    assert_int_equal(b.hdr.proposer, 7);
    assert_int_equal(b.hdr.term, 3);
    assert_int_equal(b.hdr.seq, 99);
    assert_int_equal(b.reqs[0].type, STORE_CMD_PUT);
    assert_int_equal(b.reqs[0].id, 1);
    assert_int_equal(b.reqs[0].len, 5);
    assert_memory_equal(b.reqs[0].data, "hello", 5);
    assert_int_equal(b.reqs[1].type, STORE_CMD_TXN);
    assert_true(b.reqs[1].id == 0xffffffffffffffffull);
    assert_int_equal(b.reqs[1].len, 0);
    assert_null(b.reqs[1].data);
    assert_int_equal(b.reqs[2].type, STORE_CMD_LEASE_GRANT);
    assert_int_equal(b.reqs[2].len, 300);
    assert_int_equal(b.reqs[2].data[0], 'x');
    /* Payloads point into the input. */
    assert_true(b.reqs[0].data > buf && b.reqs[0].data < buf + len);
    store_cmd_batch_free(&b);

    struct store_cmd_header h;
    assert_int_equal(store_cmd_peek_header(buf, len, &h), 0);
    assert_int_equal(h.seq, 99);
    k8c_free(buf);
}

static void test_empty_batch(void **state)
{
    uint8_t *buf;
    size_t len;
    struct store_cmd_batch b;
    struct store_cmd_header hdr = {.proposer = 1, .term = 1, .seq = 1};

    assert_int_equal(store_cmd_encode(&hdr, NULL, 0, &buf, &len), 0);
    assert_int_equal(len, STORE_CMD_HEADER_SIZE);
    assert_int_equal(store_cmd_decode(buf, len, &b, NULL), 0);
    assert_int_equal(b.hdr.count, 0);
    assert_null(b.reqs);
    store_cmd_batch_free(&b);
    k8c_free(buf);
}

/* Every proper prefix of a valid batch is rejected (never read past end). */
static void test_truncated(void **state)
{
    uint8_t *buf;
    size_t len;
    struct store_cmd_batch b;
    char errmsg[K8C_ERRMSG_SIZE];

    encode_sample(&buf, &len);
    for (size_t cut = 0; cut < len; cut++) {
        /* Copy into an exact-size allocation so ASan catches overreads. */
        uint8_t *copy = k8c_malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        errmsg[0] = '\0';
        int rv = store_cmd_decode(copy, cut, &b, errmsg);
        assert_int_not_equal(rv, 0);
        assert_true(rv == K8C_EPARSE || rv == K8C_EPROTO);
        assert_null(b.reqs);
        assert_true(errmsg[0] != '\0');
        k8c_free(copy);
    }
    k8c_free(buf);
}

static void test_trailing_and_magic(void **state)
{
    uint8_t *buf;
    size_t len;
    struct store_cmd_batch b;
    char errmsg[K8C_ERRMSG_SIZE];

    encode_sample(&buf, &len);
    uint8_t *longer = k8c_malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(store_cmd_decode(longer, len + 1, &b, errmsg), K8C_EPROTO);
    assert_non_null(strstr(errmsg, "trailing"));
    k8c_free(longer);

    buf[0] ^= 0xff;
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_EPROTO);
    buf[0] ^= 0xff;

    /* Unknown type in the second request. */
    size_t second = STORE_CMD_HEADER_SIZE + STORE_CMD_REQ_HEADER_SIZE + 5;
    buf[second] = 0;
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_EPROTO);
    buf[second] = STORE_CMD_TYPE_END;
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_EPROTO);
    buf[second] = STORE_CMD_TXN;
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), 0);
    store_cmd_batch_free(&b);
    k8c_free(buf);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void test_lying_lengths(void **state)
{
    uint8_t *buf;
    size_t len;
    struct store_cmd_batch b;
    char errmsg[K8C_ERRMSG_SIZE];

    encode_sample(&buf, &len);
    /* count says more requests than present. */
    put32(buf + 4, 4);
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_EPARSE);
    /* count says fewer: the rest is trailing garbage. */
    put32(buf + 4, 2);
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_EPROTO);
    /* huge count: rejected before any allocation. */
    put32(buf + 4, 0xffffffffu);
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_ETOOBIG);
    put32(buf + 4, 60000); /* under the limit, but the bytes cannot hold it */
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_EPARSE);
    put32(buf + 4, 3);

    /* first request length runs past the end */
    size_t len_off = STORE_CMD_HEADER_SIZE + 9;
    put32(buf + len_off, 0x7fffffffu);
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_ETOOBIG);
    put32(buf + len_off, (uint32_t)len);
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), K8C_EPARSE);
    /* shorter: the next record is misparsed and must still be rejected */
    put32(buf + len_off, 4);
    assert_int_not_equal(store_cmd_decode(buf, len, &b, errmsg), 0);
    put32(buf + len_off, 5);
    assert_int_equal(store_cmd_decode(buf, len, &b, errmsg), 0);
    store_cmd_batch_free(&b);
    k8c_free(buf);
}

/* Random garbage and random mutations of a valid batch never crash. */
static void test_garbage(void **state)
{
    uint8_t *valid;
    size_t vlen;
    struct store_cmd_batch b;
    unsigned seed = 12345;

    encode_sample(&valid, &vlen);
    for (int iter = 0; iter < 20000; iter++) {
        size_t len;
        uint8_t *p;
        if (iter % 2 == 0) {
            len = (size_t)(rand_r(&seed) % 400);
            p = k8c_malloc(len ? len : 1);
            for (size_t i = 0; i < len; i++) {
                p[i] = (uint8_t)rand_r(&seed);
            }
            if (len >= 4 && iter % 4 == 0) {
                put32(p, STORE_CMD_MAGIC); /* get past the magic check */
            }
        } else {
            len = vlen;
            p = k8c_malloc(len);
            memcpy(p, valid, len);
            int flips = 1 + rand_r(&seed) % 4;
            for (int k = 0; k < flips; k++) {
                p[(size_t)rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
            }
        }
        if (store_cmd_decode(p, len, &b, NULL) == 0) {
            /* Whatever decoded must be internally consistent. */
            size_t total = STORE_CMD_HEADER_SIZE;
            for (uint32_t i = 0; i < b.hdr.count; i++) {
                total += STORE_CMD_REQ_HEADER_SIZE + b.reqs[i].len;
                assert_true(b.reqs[i].type >= STORE_CMD_PUT && b.reqs[i].type < STORE_CMD_TYPE_END);
            }
            assert_int_equal(total, len);
            store_cmd_batch_free(&b);
        }
        k8c_free(p);
    }
    k8c_free(valid);
}

/* Batches are zero-padded to 8 bytes; only exactly that padding is accepted. */
static void test_padding(void **state)
{
    struct store_cmd_req req = {
        .type = STORE_CMD_PUT, .id = 5, .data = (const uint8_t *)"a", .len = 1};
    struct store_cmd_header hdr = {.proposer = 1, .term = 2, .seq = 3};
    struct store_cmd_batch b;
    uint8_t *buf;
    size_t len;

    assert_int_equal(store_cmd_encode(&hdr, &req, 1, &buf, &len), 0);
    assert_int_equal(len, 48); /* 32 + 13 + 1 = 46, padded */
    assert_int_equal(len % 8, 0);
    assert_int_equal(buf[46], 0);
    assert_int_equal(buf[47], 0);
    assert_int_equal(store_cmd_decode(buf, len, &b, NULL), 0);
    assert_int_equal(b.reqs[0].len, 1);
    store_cmd_batch_free(&b);
    /* missing padding, partial padding, non-zero padding */
    assert_int_equal(store_cmd_decode(buf, 46, &b, NULL), K8C_EPROTO);
    assert_int_equal(store_cmd_decode(buf, 47, &b, NULL), K8C_EPROTO);
    buf[47] = 1;
    assert_int_equal(store_cmd_decode(buf, len, &b, NULL), K8C_EPROTO);
    /* a whole extra block of zeros is not padding */
    uint8_t *longer = k8c_calloc(1, 56);
    memcpy(longer, buf, 46);
    assert_int_equal(store_cmd_decode(longer, 56, &b, NULL), K8C_EPROTO);
    assert_int_equal(store_cmd_decode(longer, 48, &b, NULL), 0);
    store_cmd_batch_free(&b);
    k8c_free(longer);
    k8c_free(buf);
    assert_int_equal(store_cmd_pad(0), 0);
    assert_int_equal(store_cmd_pad(1), 7);
    assert_int_equal(store_cmd_pad(8), 0);
}

static void test_encode_limits(void **state)
{
    struct store_cmd_req bad = {.type = 0, .id = 1};
    struct store_cmd_req huge = {.type = STORE_CMD_PUT, .len = STORE_CMD_MAX_REQ_BYTES + 1};
    struct store_cmd_header hdr = {0};
    struct k8c_sbuf body;
    uint8_t *out;
    size_t len;

    k8c_sbuf_init(&body);
    assert_int_equal(store_cmd_append(&body, &bad), K8C_EINVAL);
    assert_int_equal(store_cmd_append(&body, &huge), K8C_ETOOBIG);
    assert_int_equal(body.len, 0);
    k8c_sbuf_free(&body);
    assert_int_equal(store_cmd_encode(&hdr, &bad, 1, &out, &len), K8C_EINVAL);
    assert_null(out);
    assert_string_equal(store_cmd_type_name(STORE_CMD_DELETE_RANGE), "DELETE_RANGE");
    assert_string_equal(store_cmd_type_name(0), "UNKNOWN");
    assert_string_equal(store_cmd_type_name(999), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_empty_batch),
        cmocka_unit_test(test_truncated),     cmocka_unit_test(test_trailing_and_magic),
        cmocka_unit_test(test_lying_lengths), cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_encode_limits), cmocka_unit_test(test_padding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
