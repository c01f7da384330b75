/*
 * Allocation wrappers. The daemons do not try to survive out-of-memory: every
 * allocation goes through these functions, which abort with a message when the
 * system allocator fails, so call sites never check for NULL.
 */
#ifndef K8C_ALLOC_H
#define K8C_ALLOC_H

#include <stddef.h>

void *k8c_malloc(size_t size);
void *k8c_calloc(size_t n, size_t size);
void *k8c_realloc(void *p, size_t size);
char *k8c_strdup(const char *s);
/* Copies at most n bytes of s and NUL-terminates the result. */
char *k8c_strndup(const char *s, size_t n);
/* Releases memory from any function above; NULL is ignored. */
void k8c_free(void *p);

#define K8C_NEW(type) ((type *)k8c_calloc(1, sizeof(type)))

#endif
