/*
 * Fuzz target for lib/grpc_frame: the first input byte chooses how the rest
 * is cut into DATA chunks and the receive limit; the decoder must never crash,
 * never hand out a message above the limit, and give the same messages for
 * the same bytes whatever the chunking. grpc-timeout parsing and
 * percent-decoding get the raw input too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "grpc_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct digest {
    size_t max;
    uint64_t count, bytes, hash;
};

static int digest_cb(void *arg, const uint8_t *msg, size_t len)
{
    struct digest *d = arg;
    if (len > d->max)
        abort();
    d->count++;
    d->bytes += len;
    for (size_t i = 0; i < len; i++)
        d->hash = (d->hash ^ msg[i]) * 1099511628211ULL;
    d->hash = (d->hash ^ 0x100) * 1099511628211ULL;
    return 0;
}

/* Feeds data in chunks of `step` bytes (0 = all at once); returns feed+finish result. */
static int run(const uint8_t *data, size_t size, size_t step, size_t max, struct digest *dg,
               int *status)
{
    struct k8c_grpc_decoder d;
    int rc = 0;

    k8c_grpc_decoder_init(&d, max);
    dg->max = d.max_message;
    for (size_t pos = 0; pos < size && rc == 0;) {
        size_t n = step == 0 || step > size - pos ? size - pos : step;
        rc = k8c_grpc_decoder_feed(&d, data + pos, n, digest_cb, dg);
        pos += n;
    }
    if (rc == 0)
        rc = k8c_grpc_decoder_finish(&d);
    *status = d.status;
    k8c_grpc_decoder_free(&d);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct digest a = {0}, b = {0};
    int sa, sb;
    int64_t ns;

    if (size == 0)
        return 0;
    size_t step = (data[0] & 15) + 1;
    size_t max = (data[0] & 0x80) ? 64 : 0;
    data++;
    size--;

    int ra = run(data, size, 0, max, &a, &sa);
    int rb = run(data, size, step, max, &b, &sb);
    if (ra != rb || sa != sb || a.count != b.count || a.bytes != b.bytes || a.hash != b.hash)
        abort();

    k8c_grpc_timeout_parse((const char *)data, size, &ns);
    char *dec = k8c_grpc_percent_decode((const char *)data, size);
    char *enc = k8c_grpc_percent_encode(dec, strlen(dec));
    char *back = k8c_grpc_percent_decode(enc, strlen(enc));
    if (strcmp(back, dec) != 0)
        abort();
    k8c_free(dec);
    k8c_free(enc);
    k8c_free(back);
    return 0;
}
