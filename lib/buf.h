/*
 * Byte buffers.
 *
 * struct k8c_buf is an immutable, reference-counted buffer: an encoded watch
 * event or frame is built once and the same bytes are queued on every stream
 * that needs them. The creator holds one reference; each holder takes its own
 * with k8c_buf_ref and drops it with k8c_buf_unref. Reference counts are not
 * atomic: a buffer belongs to one event loop thread.
 *
 * struct k8c_sbuf is a growable string builder, embedded by value in its
 * owner (_init/_free). Its data is always NUL-terminated once anything was
 * appended; pointers into it are valid until the next append.
 */
#ifndef K8C_BUF_H
#define K8C_BUF_H

#include <stddef.h>
#include <stdint.h>

struct k8c_buf {
    size_t len;
    unsigned refs;
    uint8_t data[]; /* len bytes, then a NUL */
};

/* A buffer of len bytes (uninitialised, NUL at data[len]) with one reference. */
struct k8c_buf *k8c_buf_new(size_t len);
struct k8c_buf *k8c_buf_copy(const void *data, size_t len);
struct k8c_buf *k8c_buf_ref(struct k8c_buf *b);
/* Drops one reference and frees the buffer at zero; NULL is ignored. */
void k8c_buf_unref(struct k8c_buf *b);

struct k8c_sbuf {
    char *data;
    size_t len, cap;
};

void k8c_sbuf_init(struct k8c_sbuf *s);
void k8c_sbuf_free(struct k8c_sbuf *s);
/* Makes room for at least `extra` more bytes plus the terminating NUL. */
void k8c_sbuf_reserve(struct k8c_sbuf *s, size_t extra);
void k8c_sbuf_append(struct k8c_sbuf *s, const void *data, size_t len);
void k8c_sbuf_puts(struct k8c_sbuf *s, const char *str);
void k8c_sbuf_putc(struct k8c_sbuf *s, char c);
void k8c_sbuf_printf(struct k8c_sbuf *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Empties the builder but keeps its memory for reuse. */
void k8c_sbuf_reset(struct k8c_sbuf *s);
/* Drops the first n bytes (all of them if n >= len), keeping the rest. */
void k8c_sbuf_consume(struct k8c_sbuf *s, size_t n);
/* A new reference-counted copy of the contents; s is unchanged. */
struct k8c_buf *k8c_sbuf_to_buf(struct k8c_sbuf *s);
/* Hands the contents (NUL-terminated, never NULL) to the caller, who frees them
 * with k8c_free; s is left empty and initialised. */
char *k8c_sbuf_detach(struct k8c_sbuf *s);

#endif
