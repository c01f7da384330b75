/*
 * Codec benchmark: encode/decode of one typical Pod (bench/codec/pod.json, compacted to ~3.5 KB)
 * in JSON and Kubernetes protobuf, plus the raw speed of the JSON parser alone, with bytes
 * allocated per operation counted by interposing malloc/calloc/realloc (glibc's __libc_*).
 * Each case runs for about --seconds (default 1) and prints one line:
 *   case=<name> ops_per_sec=<n> ns_per_op=<n> bytes_alloc_per_op=<n> allocs_per_op=<n>
 *        cpu_ns_per_op=<n>
 * (ns_per_op is wall time; cpu_ns_per_op is this process's CPU time, which other load on a
 * shared machine does not inflate), then a summary line with the encode+decode rates: with
 * the default (malloc) allocator and with an arena, from wall and from CPU time.
 * BENCH_CODEC_ONLY=<case> runs one case (for perf record), BENCH_CODEC_OPS=<n> a fixed number
 * of operations per case (for valgrind).
 * usage: bench_codec <pod.json> [seconds] [write-compact-json-here]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "json.h"

/* ---- allocation counting -------------------------------------------------------------------- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static uint64_t alloc_bytes, alloc_count;

void *malloc(size_t n)
{
    alloc_bytes += n;
    alloc_count++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t s)
{
    alloc_bytes += n * s;
    alloc_count++;
    return __libc_calloc(n, s);
}

void *realloc(void *p, size_t n)
{
    alloc_bytes += n;
    alloc_count++;
    return __libc_realloc(p, n);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of this process: on a machine shared with other work, wall time per operation
 * includes the time other processes had the core; CPU time does not. */
static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct ctx {
    const char *json;
    size_t json_len;
    const uint8_t *pb;
    size_t pb_len;
    ProtobufCMessage *msg;
    struct k8c_arena *arena;
    struct k8c_sbuf out;
};

typedef void (*op_fn)(struct ctx *c);

static void op_json_parse(struct ctx *c)
{
    struct k8c_json *v;

    k8c_arena_reset(c->arena);
    if (k8c_json_parse(c->arena, c->json, c->json_len, NULL, &v, NULL) != 0)
        abort();
}

static void op_json_decode(struct ctx *c)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m;

    k8c_codec_diag_init(&d);
    if (k8c_codec_json_decode(c->msg->descriptor, c->json, c->json_len, NULL, &d, &m) != 0)
        abort();
    protobuf_c_message_free_unpacked(m, NULL);
}

static void op_json_decode_arena(struct ctx *c)
{
    struct k8c_codec_diag d;
    ProtobufCMessage *m;

    k8c_arena_reset(c->arena);
    k8c_codec_diag_init(&d);
    if (k8c_codec_json_decode(c->msg->descriptor, c->json, c->json_len,
                              k8c_arena_protobuf_allocator(c->arena), &d, &m) != 0)
        abort();
}

static void op_json_encode(struct ctx *c)
{
    k8c_sbuf_reset(&c->out);
    if (k8c_codec_json_encode(&c->out, c->msg, K8C_CODEC_TYPE_META, 0, NULL) != 0)
        abort();
}

static void op_proto_encode(struct ctx *c)
{
    k8c_sbuf_reset(&c->out);
    if (k8c_codec_proto_encode(&c->out, c->msg, NULL, NULL, NULL) != 0)
        abort();
}

static void op_proto_decode(struct ctx *c)
{
    ProtobufCMessage *m;

    if (k8c_codec_proto_decode(c->msg->descriptor, c->pb, c->pb_len, NULL, &m, NULL) != 0)
        abort();
    protobuf_c_message_free_unpacked(m, NULL);
}

static void op_proto_decode_arena(struct ctx *c)
{
    ProtobufCMessage *m;

    k8c_arena_reset(c->arena);
    if (k8c_codec_proto_decode(c->msg->descriptor, c->pb, c->pb_len,
                               k8c_arena_protobuf_allocator(c->arena), &m, NULL) != 0)
        abort();
}

/* BENCH_CODEC_ONLY=<case> runs just that case (for perf record/stat); the others print 0. */
static bool selected(const char *name)
{
    const char *only = getenv("BENCH_CODEC_ONLY");

    return only == NULL || *only == '\0' || strcmp(only, name) == 0;
}

/* BENCH_CODEC_OPS=<n> runs n operations per case instead of a time (for instruction counts
 * under valgrind: the difference of two runs is n ops' worth). */
static uint64_t fixed_ops;

/* Runs one case; returns wall ns per op and sets *cpu_ns to CPU ns per op. */
static double run(const char *name, op_fn fn, struct ctx *c, double seconds, double *cpu_ns)
{
    uint64_t ops = 0, b0, a0;
    double t0, t, c0;

    *cpu_ns = 0;
    if (!selected(name))
        return 0;

    for (int i = 0; i < 200; i++) /* warm up */
        fn(c);
    b0 = alloc_bytes;
    a0 = alloc_count;
    t0 = now();
    c0 = cpu_now();
    do {
        for (int i = 0; i < 100; i++)
            fn(c);
        ops += 100;
        t = now() - t0;
    } while ((fixed_ops > 0 ? ops < fixed_ops : t < seconds) && ops < 100000000);
    *cpu_ns = (cpu_now() - c0) * 1e9 / ops;
    printf("case=%s ops_per_sec=%.0f ns_per_op=%.0f bytes_alloc_per_op=%.0f "
           "allocs_per_op=%.1f cpu_ns_per_op=%.0f\n",
           name, ops / t, t * 1e9 / ops, (double)(alloc_bytes - b0) / ops,
           (double)(alloc_count - a0) / ops, *cpu_ns);
    return t * 1e9 / ops;
}

int main(int argc, char **argv)
{
    struct ctx c = {0};
    struct k8c_codec_diag d;
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    char *text;
    long size;
    FILE *f;

    if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL) {
        fprintf(stderr, "usage: bench_codec <pod.json> [seconds]\n");
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)size + 1);
    if (fread(text, 1, (size_t)size, f) != (size_t)size)
        return 1;
    fclose(f);
    if (getenv("BENCH_CODEC_OPS") != NULL)
        fixed_ops = strtoull(getenv("BENCH_CODEC_OPS"), NULL, 10);
    k8c_codec_diag_init(&d);
    if (k8c_codec_json_decode(NULL, text, (size_t)size, NULL, &d, &c.msg) != 0) {
        fprintf(stderr, "decode: %s\n", d.errmsg);
        return 1;
    }
    c.arena = k8c_arena_new(65536);
    k8c_sbuf_init(&c.out);
    /* the benchmark input is our own compact encoding of the document */
    k8c_codec_json_encode(&c.out, c.msg, K8C_CODEC_TYPE_META, 0, NULL);
    c.json = strdup(c.out.data);
    c.json_len = c.out.len;
    k8c_sbuf_reset(&c.out);
    k8c_codec_proto_encode(&c.out, c.msg, NULL, NULL, NULL);
    c.pb = malloc(c.out.len);
    memcpy((void *)c.pb, c.out.data, c.out.len);
    c.pb_len = c.out.len;
    printf("input json_bytes=%zu protobuf_bytes=%zu\n", c.json_len, c.pb_len);
    if (argc > 3 && (f = fopen(argv[3], "wb")) != NULL) { /* for python's json.loads */
        fwrite(c.json, 1, c.json_len, f);
        fclose(f);
    }

    double cjp, cjd, cjda, cje, cpe, cpd, cpda;
    double jp = run("json_parse_only", op_json_parse, &c, seconds, &cjp);
    double jd = run("json_decode", op_json_decode, &c, seconds, &cjd);
    double jda = run("json_decode_arena", op_json_decode_arena, &c, seconds, &cjda);
    double je = run("json_encode", op_json_encode, &c, seconds, &cje);
    double pe = run("protobuf_encode", op_proto_encode, &c, seconds, &cpe);
    double pd = run("protobuf_decode", op_proto_decode, &c, seconds, &cpd);
    double pda = run("protobuf_decode_arena", op_proto_decode_arena, &c, seconds, &cpda);
    printf(
        "summary json_encode_plus_decode_per_sec=%.0f protobuf_encode_plus_decode_per_sec=%.0f "
        "json_decode_over_parse_ratio=%.2f json_encode_plus_decode_arena_per_sec=%.0f "
        "protobuf_encode_plus_decode_arena_per_sec=%.0f cpu_json_encode_plus_decode_per_sec=%.0f "
        "cpu_protobuf_encode_plus_decode_per_sec=%.0f "
        "cpu_json_encode_plus_decode_arena_per_sec=%.0f "
        "cpu_protobuf_encode_plus_decode_arena_per_sec=%.0f\n",
        1e9 / (je + jd), 1e9 / (pe + pd), jd / jp, 1e9 / (je + jda), 1e9 / (pe + pda),
        1e9 / (cje + cjd), 1e9 / (cpe + cpd), 1e9 / (cje + cjda), 1e9 / (cpe + cpda));
    return 0;
}
