/*
 * resource.Quantity: Kubernetes' fixed-point resource amounts ("500m", "64Mi", "1.5", "1e3").
 *
 * A quantity is held exactly as a signed count of nano-units (1e-9) in a 128-bit integer plus
 * the suffix family it was written in. Parsing follows upstream: a decimal number with an
 * optional suffix from one family -- binary SI (Ki Mi Gi Ti Pi Ei), decimal SI (n u m "" k M G
 * T P E) or a decimal exponent (e3, E-2) -- and fractions below 1n round up (away from zero).
 * The canonical string keeps the family of the input where it can, as upstream does:
 *   "1.5" -> "1500m", "1000" -> "1k", "0.5Gi" -> "512Mi", "1024Mi" -> "1Gi",
 *   "1e3" -> "1e3", "0.1Gi" -> "107374182400m" (binary amounts that are not whole numbers,
 *   or below 1024, print in decimal SI), "0Mi" -> "0".
 * Values are limited to |v| < 1e28 units, far above any real resource amount.
 */
#ifndef K8C_QUANTITY_H
#define K8C_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum k8c_quantity_format {
    K8C_QUANTITY_DECIMAL_SI,       /* n u m "" k M G T P E */
    K8C_QUANTITY_BINARY_SI,        /* Ki Mi Gi Ti Pi Ei */
    K8C_QUANTITY_DECIMAL_EXPONENT, /* 1e3, 5E-3 */
};

struct k8c_quantity {
    __int128 nano; /* value in units of 1e-9 */
    enum k8c_quantity_format format;
};

/* Long enough for any canonical quantity string plus NUL. */
#define K8C_QUANTITY_STR_MAX 64

/*
 * Parses len bytes of s. Returns 0, or K8C_EINVAL for anything that is not a quantity (with
 * upstream's message "quantities must match the regular expression ..." left to the caller),
 * or K8C_ETOOBIG when the value is out of range.
 */
int k8c_quantity_parse(const char *s, size_t len, struct k8c_quantity *q);
/* Writes the canonical string (NUL-terminated) into buf of size >= K8C_QUANTITY_STR_MAX;
 * returns its length. */
size_t k8c_quantity_format(const struct k8c_quantity *q, char *buf);
/* Parses s and writes its canonical form to buf (K8C_QUANTITY_STR_MAX); 0 or K8C_EINVAL. */
int k8c_quantity_canonicalize(const char *s, size_t len, char *buf);

/* -1, 0 or 1 as a < b, a == b, a > b (by value; formats ignored). */
int k8c_quantity_cmp(const struct k8c_quantity *a, const struct k8c_quantity *b);
bool k8c_quantity_is_zero(const struct k8c_quantity *q);
/* a += b, a -= b, a *= factor. The result keeps a's format, or takes b's when a was zero
 * (as upstream Add/Sub do). Results saturate at the value limit. */
void k8c_quantity_add(struct k8c_quantity *a, const struct k8c_quantity *b);
void k8c_quantity_sub(struct k8c_quantity *a, const struct k8c_quantity *b);
void k8c_quantity_mul(struct k8c_quantity *a, int64_t factor);

/* Whole units and milli-units, rounded up (away from zero) like upstream Value/MilliValue;
 * saturate at INT64_MIN/INT64_MAX. */
int64_t k8c_quantity_value(const struct k8c_quantity *q);
int64_t k8c_quantity_milli_value(const struct k8c_quantity *q);
/* Quantities from whole units or milli-units in the given format. */
struct k8c_quantity k8c_quantity_from_int(int64_t value, enum k8c_quantity_format format);
struct k8c_quantity k8c_quantity_from_milli(int64_t milli, enum k8c_quantity_format format);

#endif
