/*
 * gRPC framing, timeouts, status names and grpc-message encoding. See
 * grpc_frame.h for the contracts. Everything here is pure: bytes in, bytes
 * or callbacks out.
 */
#include "grpc_frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

static const char *const status_names[] = {
#define K8C_GRPC_STATUS_NAME(name, value) [value] = #name,
    K8C_GRPC_STATUSES(K8C_GRPC_STATUS_NAME)
#undef K8C_GRPC_STATUS_NAME
};

const char *k8c_grpc_status_name(int code)
{
    if (code < 0 || code > K8C_GRPC_STATUS_MAX)
        return "UNKNOWN";
    return status_names[code];
}

int k8c_grpc_status_from_name(const char *name)
{
    for (int i = 0; i <= K8C_GRPC_STATUS_MAX; i++) {
        if (strcmp(status_names[i], name) == 0)
            return i;
    }
    return -1;
}

int k8c_grpc_status_from_error(int err)
{
    switch (err) {
    case 0:
        return K8C_GRPC_OK;
    case K8C_EINVAL:
    case K8C_EPARSE:
        return K8C_GRPC_INVALID_ARGUMENT;
    case K8C_ETIMEDOUT:
    case -ETIMEDOUT:
        return K8C_GRPC_DEADLINE_EXCEEDED;
    case K8C_ENOTFOUND:
        return K8C_GRPC_NOT_FOUND;
    case K8C_EEXIST:
        return K8C_GRPC_ALREADY_EXISTS;
    case K8C_ETOOBIG:
        return K8C_GRPC_RESOURCE_EXHAUSTED;
    case K8C_ECONFLICT:
        return K8C_GRPC_FAILED_PRECONDITION;
    case K8C_ECANCELED:
    case -ECANCELED:
        return K8C_GRPC_CANCELLED;
    case K8C_EUNSUPPORTED:
        return K8C_GRPC_UNIMPLEMENTED;
    case K8C_EPROTO:
    case K8C_EDEPTH:
        return K8C_GRPC_INTERNAL;
    case K8C_ECLOSED:
    case K8C_EBUSY:
    case K8C_ESHUTDOWN:
    case K8C_ENOTLEADER:
    case K8C_ETLS:
    case -ECONNREFUSED:
    case -ECONNRESET:
    case -ENOENT:
    case -EPIPE:
    case -EHOSTUNREACH:
    case -ENETUNREACH:
        return K8C_GRPC_UNAVAILABLE;
    default:
        return K8C_GRPC_UNKNOWN;
    }
}

/* ---- decoder ---- */

void k8c_grpc_decoder_init(struct k8c_grpc_decoder *d, size_t max_message)
{
    memset(d, 0, sizeof(*d));
    d->max_message = max_message ? max_message : K8C_GRPC_DEFAULT_MAX_MESSAGE;
}

void k8c_grpc_decoder_free(struct k8c_grpc_decoder *d)
{
    k8c_free(d->msg);
    d->msg = NULL;
    d->msg_have = d->msg_cap = 0;
}

static int decoder_fail(struct k8c_grpc_decoder *d, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int decoder_fail(struct k8c_grpc_decoder *d, int status, const char *fmt, ...)
{
    va_list ap;

    d->status = status;
    va_start(ap, fmt);
    vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
    va_end(ap);
    return K8C_EPROTO;
}

/* Validates a complete prefix and records the message length. */
static int decoder_take_prefix(struct k8c_grpc_decoder *d)
{
    uint8_t flag = d->prefix[0];
    size_t len = ((size_t)d->prefix[1] << 24) | ((size_t)d->prefix[2] << 16) |
                 ((size_t)d->prefix[3] << 8) | (size_t)d->prefix[4];

    if (flag == 1)
        return decoder_fail(d, K8C_GRPC_UNIMPLEMENTED,
                            "grpc: compressed message received but no compression was negotiated");
    if (flag != 0)
        return decoder_fail(d, K8C_GRPC_INTERNAL, "grpc: invalid compressed flag %u", flag);
    if (len > d->max_message)
        return decoder_fail(d, K8C_GRPC_RESOURCE_EXHAUSTED,
                            "grpc: received message larger than max (%zu vs. %zu)", len,
                            d->max_message);
    d->msg_len = len;
    d->msg_have = 0;
    return 0;
}

/* Appends to the reassembly buffer, growing it by what actually arrived. */
static void decoder_stash(struct k8c_grpc_decoder *d, const uint8_t *data, size_t n)
{
    if (d->msg_have + n > d->msg_cap) {
        size_t cap = d->msg_cap ? d->msg_cap : 256;
        while (cap < d->msg_have + n)
            cap *= 2;
        if (cap > d->msg_len)
            cap = d->msg_len;
        d->msg = k8c_realloc(d->msg, cap);
        d->msg_cap = cap;
    }
    memcpy(d->msg + d->msg_have, data, n);
    d->msg_have += n;
}

int k8c_grpc_decoder_feed(struct k8c_grpc_decoder *d, const uint8_t *data, size_t len,
                          k8c_grpc_message_cb cb, void *arg)
{
    size_t pos = 0;
    int rc;

    if (d->status != 0)
        return K8C_EPROTO;
    while (pos < len) {
        if (d->prefix_have < K8C_GRPC_PREFIX_SIZE) {
            size_t n = K8C_GRPC_PREFIX_SIZE - d->prefix_have;
            if (n > len - pos)
                n = len - pos;
            memcpy(d->prefix + d->prefix_have, data + pos, n);
            d->prefix_have += n;
            pos += n;
            if (d->prefix_have < K8C_GRPC_PREFIX_SIZE)
                break;
            rc = decoder_take_prefix(d);
            if (rc != 0)
                return rc;
            if (d->msg_len > 0)
                continue;
            /* An empty message is complete as soon as its prefix is. */
            d->prefix_have = 0;
            d->messages++;
            rc = cb(arg, (const uint8_t *)"", 0);
            if (rc != 0)
                return rc;
            continue;
        }
        size_t need = d->msg_len - d->msg_have;
        size_t avail = len - pos;
        if (d->msg_have == 0 && avail >= need) {
            /* Whole message inside this chunk: hand it out without copying. */
            d->prefix_have = 0;
            d->messages++;
            pos += need;
            rc = cb(arg, data + pos - need, need);
            if (rc != 0)
                return rc;
            continue;
        }
        size_t n = avail < need ? avail : need;
        decoder_stash(d, data + pos, n);
        pos += n;
        if (d->msg_have == d->msg_len) {
            d->prefix_have = 0;
            d->msg_have = 0;
            d->messages++;
            rc = cb(arg, d->msg, d->msg_len);
            /* Large buffers are not kept between messages. */
            if (d->msg_cap > 64 * 1024) {
                k8c_free(d->msg);
                d->msg = NULL;
                d->msg_cap = 0;
            }
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int k8c_grpc_decoder_partial(const struct k8c_grpc_decoder *d)
{
    return d->prefix_have > 0;
}

int k8c_grpc_decoder_finish(struct k8c_grpc_decoder *d)
{
    if (d->status != 0)
        return K8C_EPROTO;
    if (d->prefix_have == 0)
        return 0;
    if (d->prefix_have < K8C_GRPC_PREFIX_SIZE)
        return decoder_fail(d, K8C_GRPC_INTERNAL,
                            "grpc: stream ended inside a message prefix (%zu of 5 bytes)",
                            d->prefix_have);
    return decoder_fail(d, K8C_GRPC_INTERNAL,
                        "grpc: stream ended mid-message: got %zu of %zu bytes", d->msg_have,
                        d->msg_len);
}

/* ---- encoder ---- */

void k8c_grpc_frame_prefix(uint8_t out[5], size_t len)
{
    out[0] = 0;
    out[1] = (uint8_t)(len >> 24);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
}

struct k8c_buf *k8c_grpc_frame_encode(const void *data, size_t len)
{
    struct k8c_buf *b = k8c_buf_new(K8C_GRPC_PREFIX_SIZE + len);

    k8c_grpc_frame_prefix(b->data, len);
    if (len > 0)
        memcpy(b->data + K8C_GRPC_PREFIX_SIZE, data, len);
    return b;
}

/* ---- grpc-timeout ---- */

int k8c_grpc_timeout_parse(const char *s, size_t len, int64_t *out_ns)
{
    int64_t value = 0, unit;
    size_t digits;

    if (len < 2 || len > 9)
        return K8C_EINVAL;
    digits = len - 1;
    for (size_t i = 0; i < digits; i++) {
        if (s[i] < '0' || s[i] > '9')
            return K8C_EINVAL;
        value = value * 10 + (s[i] - '0');
    }
    switch (s[digits]) {
    case 'H':
        unit = 3600LL * 1000000000LL;
        break;
    case 'M':
        unit = 60LL * 1000000000LL;
        break;
    case 'S':
        unit = 1000000000LL;
        break;
    case 'm':
        unit = 1000000LL;
        break;
    case 'u':
        unit = 1000LL;
        break;
    case 'n':
        unit = 1;
        break;
    default:
        return K8C_EINVAL;
    }
    if (value > INT64_MAX / unit)
        *out_ns = INT64_MAX;
    else
        *out_ns = value * unit;
    return 0;
}

char *k8c_grpc_timeout_format(int64_t ns, char out[16])
{
    static const struct {
        int64_t ns;
        char unit;
    } units[] = {
        {1, 'n'},
        {1000LL, 'u'},
        {1000000LL, 'm'},
        {1000000000LL, 'S'},
        {60LL * 1000000000LL, 'M'},
        {3600LL * 1000000000LL, 'H'},
    };
    if (ns < 0)
        ns = 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        /* Round up so the receiver never sees a shorter deadline than ours. */
        int64_t v = ns / units[i].ns + (ns % units[i].ns != 0);
        if (v <= 99999999) {
            snprintf(out, 16, "%u%c", (unsigned)v, units[i].unit);
            return out;
        }
    }
    snprintf(out, 16, "99999999H");
    return out;
}

/* ---- grpc-message percent-encoding ---- */

char *k8c_grpc_percent_encode(const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = k8c_malloc(len * 3 + 1), *p = out;

    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c >= 0x20 && c <= 0x7e && c != '%') {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '\0';
    return out;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *k8c_grpc_percent_decode(const char *s, size_t len)
{
    char *out = k8c_malloc(len + 1), *p = out;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len) {
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                *p++ = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        }
        *p++ = s[i];
    }
    *p = '\0';
    return out;
}
