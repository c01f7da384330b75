/*
 * Fuzz target for store/cmd: decoding raft entry batches. Any input must be
 * rejected cleanly or decode into a batch that is internally consistent and
 * re-encodes to exactly the same bytes (the format has one encoding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cmd.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_cmd_batch batch;
    char errmsg[K8C_ERRMSG_SIZE];
    uint8_t *again;
    size_t again_len;

    if (store_cmd_decode(data, size, &batch, errmsg) != 0) {
        if (batch.reqs != NULL || errmsg[0] == '\0') {
            abort();
        }
        return 0;
    }
    size_t total = STORE_CMD_HEADER_SIZE;
    for (uint32_t i = 0; i < batch.hdr.count; i++) {
        const struct store_cmd_req *r = &batch.reqs[i];
        if (r->type < STORE_CMD_PUT || r->type >= STORE_CMD_TYPE_END) {
            abort();
        }
        if (r->len > 0 && (r->data < data || r->data + r->len > data + size)) {
            abort();
        }
        total += STORE_CMD_REQ_HEADER_SIZE + r->len;
    }
    if (total + store_cmd_pad(total) != size) {
        abort();
    }
    if (store_cmd_encode(&batch.hdr, batch.reqs, batch.hdr.count, &again, &again_len) != 0 ||
        again_len != size || memcmp(again, data, size) != 0) {
        abort();
    }
    k8c_free(again);
    store_cmd_batch_free(&batch);
    return 0;
}
