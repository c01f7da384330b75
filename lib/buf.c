/* Reference-counted buffers and the string builder; see buf.h. */
#include "buf.h"
#include "alloc.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct k8c_buf *k8c_buf_new(size_t len)
{
    struct k8c_buf *b = k8c_malloc(sizeof(*b) + len + 1);
    b->len = len;
    b->refs = 1;
    b->data[len] = '\0';
    return b;
}

struct k8c_buf *k8c_buf_copy(const void *data, size_t len)
{
    struct k8c_buf *b = k8c_buf_new(len);
    if (len)
        memcpy(b->data, data, len);
    return b;
}

struct k8c_buf *k8c_buf_ref(struct k8c_buf *b)
{
    assert(b->refs > 0);
    b->refs++;
    return b;
}

void k8c_buf_unref(struct k8c_buf *b)
{
    if (b == NULL)
        return;
    assert(b->refs > 0);
    if (--b->refs == 0)
        k8c_free(b);
}

void k8c_sbuf_init(struct k8c_sbuf *s)
{
    s->data = NULL;
    s->len = 0;
    s->cap = 0;
}

void k8c_sbuf_free(struct k8c_sbuf *s)
{
    k8c_free(s->data);
    k8c_sbuf_init(s);
}

void k8c_sbuf_reserve(struct k8c_sbuf *s, size_t extra)
{
    size_t need = s->len + extra + 1;
    size_t cap;

    if (need <= s->cap)
        return;
    cap = s->cap ? s->cap : 64;
    while (cap < need)
        cap *= 2;
    s->data = k8c_realloc(s->data, cap);
    s->cap = cap;
}

void k8c_sbuf_append(struct k8c_sbuf *s, const void *data, size_t len)
{
    k8c_sbuf_reserve(s, len);
    if (len)
        memcpy(s->data + s->len, data, len);
    s->len += len;
    s->data[s->len] = '\0';
}

void k8c_sbuf_puts(struct k8c_sbuf *s, const char *str)
{
    k8c_sbuf_append(s, str, strlen(str));
}

void k8c_sbuf_putc(struct k8c_sbuf *s, char c)
{
    k8c_sbuf_reserve(s, 1);
    s->data[s->len++] = c;
    s->data[s->len] = '\0';
}

void k8c_sbuf_printf(struct k8c_sbuf *s, const char *fmt, ...)
{
    va_list ap;
    int n;

    k8c_sbuf_reserve(s, 64);
    va_start(ap, fmt);
    n = vsnprintf(s->data + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= s->cap - s->len) {
        k8c_sbuf_reserve(s, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(s->data + s->len, s->cap - s->len, fmt, ap);
        va_end(ap);
    }
    s->len += (size_t)n;
}

void k8c_sbuf_reset(struct k8c_sbuf *s)
{
    s->len = 0;
    if (s->data)
        s->data[0] = '\0';
}

void k8c_sbuf_consume(struct k8c_sbuf *s, size_t n)
{
    if (n >= s->len) {
        k8c_sbuf_reset(s);
        return;
    }
    memmove(s->data, s->data + n, s->len - n);
    s->len -= n;
    s->data[s->len] = '\0';
}

struct k8c_buf *k8c_sbuf_to_buf(struct k8c_sbuf *s)
{
    return k8c_buf_copy(s->data, s->len);
}

char *k8c_sbuf_detach(struct k8c_sbuf *s)
{
    char *d = s->data;
    if (d == NULL)
        d = k8c_strdup("");
    k8c_sbuf_init(s);
    return d;
}
