/*
 * Batch encoding of raft entry payloads. See cmd.h for the format.
 */
#include "cmd.h"

#include <string.h>

#include "alloc.h"
#include "error.h"

static const char *const type_names[STORE_CMD_TYPE_END] = {
    [STORE_CMD_PUT] = "PUT",
    [STORE_CMD_DELETE_RANGE] = "DELETE_RANGE",
    [STORE_CMD_TXN] = "TXN",
    [STORE_CMD_COMPACT] = "COMPACT",
    [STORE_CMD_LEASE_GRANT] = "LEASE_GRANT",
    [STORE_CMD_LEASE_REVOKE] = "LEASE_REVOKE",
    [STORE_CMD_LEASE_CHECKPOINT] = "LEASE_CHECKPOINT",
    [STORE_CMD_LEASE_EXPIRE] = "LEASE_EXPIRE",
    [STORE_CMD_MEMBER_ADD] = "MEMBER_ADD",
    [STORE_CMD_MEMBER_REMOVE] = "MEMBER_REMOVE",
    [STORE_CMD_MEMBER_UPDATE] = "MEMBER_UPDATE",
    [STORE_CMD_ALARM] = "ALARM",
    [STORE_CMD_NOOP] = "NOOP",
};

const char *store_cmd_type_name(int type)
{
    if (type <= 0 || type >= STORE_CMD_TYPE_END || type_names[type] == NULL) {
        return "UNKNOWN";
    }
    return type_names[type];
}

static int type_valid(unsigned type)
{
    return type >= STORE_CMD_PUT && type < STORE_CMD_TYPE_END;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

void store_cmd_put_header(uint8_t out[STORE_CMD_HEADER_SIZE], const struct store_cmd_header *hdr)
{
    put_u32(out, STORE_CMD_MAGIC);
    put_u32(out + 4, hdr->count);
    put_u64(out + 8, hdr->proposer);
    put_u64(out + 16, hdr->term);
    put_u64(out + 24, hdr->seq);
}

int store_cmd_append(struct k8c_sbuf *body, const struct store_cmd_req *req)
{
    uint8_t head[STORE_CMD_REQ_HEADER_SIZE];

    if (!type_valid(req->type)) {
        return K8C_EINVAL;
    }
    if (req->len > STORE_CMD_MAX_REQ_BYTES) {
        return K8C_ETOOBIG;
    }
    head[0] = req->type;
    put_u64(head + 1, req->id);
    put_u32(head + 9, (uint32_t)req->len);
    k8c_sbuf_reserve(body, sizeof head + req->len);
    k8c_sbuf_append(body, head, sizeof head);
    if (req->len > 0) {
        k8c_sbuf_append(body, req->data, req->len);
    }
    return 0;
}

int store_cmd_encode(const struct store_cmd_header *hdr, const struct store_cmd_req *reqs, size_t n,
                     uint8_t **out, size_t *out_len)
{
    struct store_cmd_header h = *hdr;
    struct k8c_sbuf body;
    uint8_t head[STORE_CMD_HEADER_SIZE];
    int rv;

    *out = NULL;
    *out_len = 0;
    if (n > STORE_CMD_MAX_REQUESTS) {
        return K8C_ETOOBIG;
    }
    k8c_sbuf_init(&body);
    for (size_t i = 0; i < n; i++) {
        rv = store_cmd_append(&body, &reqs[i]);
        if (rv != 0) {
            k8c_sbuf_free(&body);
            return rv;
        }
        if (body.len > STORE_CMD_MAX_BATCH - STORE_CMD_HEADER_SIZE) {
            k8c_sbuf_free(&body);
            return K8C_ETOOBIG;
        }
    }
    h.count = (uint32_t)n;
    store_cmd_put_header(head, &h);
    size_t unpadded = STORE_CMD_HEADER_SIZE + body.len;
    *out_len = unpadded + store_cmd_pad(unpadded);
    *out = k8c_calloc(1, *out_len);
    memcpy(*out, head, STORE_CMD_HEADER_SIZE);
    if (body.len > 0) {
        memcpy(*out + STORE_CMD_HEADER_SIZE, body.data, body.len);
    }
    k8c_sbuf_free(&body);
    return 0;
}

int store_cmd_peek_header(const void *data, size_t len, struct store_cmd_header *hdr)
{
    const uint8_t *p = data;

    if (len < STORE_CMD_HEADER_SIZE) {
        return K8C_EPARSE;
    }
    if (get_u32(p) != STORE_CMD_MAGIC) {
        return K8C_EPROTO;
    }
    hdr->count = get_u32(p + 4);
    hdr->proposer = get_u64(p + 8);
    hdr->term = get_u64(p + 16);
    hdr->seq = get_u64(p + 24);
    return 0;
}

static int fail(char *errmsg, int rv, const char *fmt, size_t a, size_t b)
{
    if (errmsg != NULL) {
        k8c_errmsg_printf(errmsg, fmt, a, b);
    }
    return rv;
}

int store_cmd_decode(const void *data, size_t len, struct store_cmd_batch *batch, char *errmsg)
{
    const uint8_t *p = data;
    size_t off = STORE_CMD_HEADER_SIZE;
    int rv;

    memset(batch, 0, sizeof *batch);
    if (len > STORE_CMD_MAX_BATCH) {
        return fail(errmsg, K8C_ETOOBIG, "batch of %zu bytes exceeds the limit of %zu", len,
                    (size_t)STORE_CMD_MAX_BATCH);
    }
    rv = store_cmd_peek_header(data, len, &batch->hdr);
    if (rv == K8C_EPARSE) {
        return fail(errmsg, rv, "batch of %zu bytes is shorter than its %zu-byte header", len,
                    (size_t)STORE_CMD_HEADER_SIZE);
    }
    if (rv != 0) {
        return fail(errmsg, rv, "bad batch magic (%zu bytes, header %zu)", len,
                    (size_t)STORE_CMD_HEADER_SIZE);
    }
    if (batch->hdr.count > STORE_CMD_MAX_REQUESTS) {
        return fail(errmsg, K8C_ETOOBIG, "batch claims %zu requests, limit %zu",
                    (size_t)batch->hdr.count, (size_t)STORE_CMD_MAX_REQUESTS);
    }
    /* A lying count cannot make us allocate more than the input could hold. */
    if ((size_t)batch->hdr.count > (len - off) / STORE_CMD_REQ_HEADER_SIZE) {
        return fail(errmsg, K8C_EPARSE, "batch claims %zu requests but has only %zu bytes",
                    (size_t)batch->hdr.count, len - off);
    }
    if (batch->hdr.count > 0) {
        batch->reqs = k8c_calloc(batch->hdr.count, sizeof *batch->reqs);
    }
    for (uint32_t i = 0; i < batch->hdr.count; i++) {
        struct store_cmd_req *r = &batch->reqs[i];
        size_t rlen;

        if (len - off < STORE_CMD_REQ_HEADER_SIZE) {
            rv = fail(errmsg, K8C_EPARSE, "request %zu header truncated at offset %zu", i, off);
            goto err;
        }
        r->type = p[off];
        if (!type_valid(r->type)) {
            rv = fail(errmsg, K8C_EPROTO, "request %zu has unknown type %zu", i, r->type);
            goto err;
        }
        r->id = get_u64(p + off + 1);
        rlen = get_u32(p + off + 9);
        off += STORE_CMD_REQ_HEADER_SIZE;
        if (rlen > STORE_CMD_MAX_REQ_BYTES) {
            rv = fail(errmsg, K8C_ETOOBIG, "request %zu claims %zu bytes", i, rlen);
            goto err;
        }
        if (rlen > len - off) {
            rv = fail(errmsg, K8C_EPARSE, "request %zu claims %zu bytes past the end", i, rlen);
            goto err;
        }
        r->data = rlen > 0 ? p + off : NULL;
        r->len = rlen;
        off += rlen;
    }
    if (len - off != store_cmd_pad(off)) {
        rv = fail(errmsg, K8C_EPROTO, "%zu trailing bytes after request %zu", len - off,
                  (size_t)batch->hdr.count);
        goto err;
    }
    for (; off < len; off++) {
        if (p[off] != 0) {
            rv = fail(errmsg, K8C_EPROTO, "non-zero padding at offset %zu of %zu", off, len);
            goto err;
        }
    }
    return 0;

err:
    store_cmd_batch_free(batch);
    return rv;
}

void store_cmd_batch_free(struct store_cmd_batch *batch)
{
    k8c_free(batch->reqs);
    batch->reqs = NULL;
}
