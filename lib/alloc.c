/* Allocation wrappers that abort on failure; see alloc.h. */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t size)
{
    fprintf(stderr, "F k8c: out of memory allocating %zu bytes\n", size);
    abort();
}

void *k8c_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        oom(size);
    return p;
}

void *k8c_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom(n * size);
    return p;
}

void *k8c_realloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (q == NULL)
        oom(size);
    return q;
}

char *k8c_strdup(const char *s)
{
    return k8c_strndup(s, strlen(s));
}

char *k8c_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = k8c_malloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void k8c_free(void *p)
{
    free(p);
}
