/*
 * resource.Quantity parsing, canonical formatting and arithmetic (see quantity.h).
 *
 * Canonical form, following upstream's CanonicalizeBytes:
 *  - zero prints "0";
 *  - a binary-SI amount prints in binary SI only when it is a whole number with |v| >= 1024:
 *    divide by 1024 while the result stays whole (up to Ei) and append the suffix;
 *    otherwise it falls back to decimal SI;
 *  - decimal SI and decimal exponent print the value as m * 10^e with e a multiple of 3 chosen
 *    as large as possible while m stays whole (so 1.5 -> 1500m, 1000 -> 1k), then the SI
 *    suffix for e (decimal SI, e in [-9, 18]) or "e<e>" (decimal exponent).
 */
#include "quantity.h"

#include <string.h>

#include "error.h"

typedef __int128 i128;

#define NANO 1000000000LL
/* |nano| limit: 1e37 (i.e. 1e28 units). */
static const i128 LIMIT = (i128)10000000000000000000ULL * (i128)1000000000000000000ULL;

static i128 clamp(i128 v)
{
    if (v >= LIMIT)
        return LIMIT - 1;
    if (v <= -LIMIT)
        return -(LIMIT - 1);
    return v;
}

int k8c_quantity_parse(const char *s, size_t len, struct k8c_quantity *q)
{
    const char *p = s, *end = s + len;
    bool neg = false, any_digit = false;
    i128 mant = 0; /* all digits as an integer */
    int frac_digits = 0, exp10 = 0, shift2 = 0;
    bool round_up = false;
    enum k8c_quantity_format format = K8C_QUANTITY_DECIMAL_SI;

    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    /* digits with at most one '.'; digits beyond 30 significant ones only matter for rounding */
    bool seen_dot = false;
    int sig = 0;
    for (; p < end && ((*p >= '0' && *p <= '9') || *p == '.'); p++) {
        if (*p == '.') {
            if (seen_dot)
                return K8C_EINVAL;
            seen_dot = true;
            continue;
        }
        any_digit = true;
        if (sig < 30) {
            mant = mant * 10 + (*p - '0');
            if (mant != 0)
                sig++;
            if (seen_dot)
                frac_digits++;
        } else {
            if (*p != '0')
                round_up = true;
            if (!seen_dot)
                exp10++; /* integer digit dropped: scale up */
        }
    }
    if (!any_digit)
        return K8C_EINVAL;
    /* suffix */
    size_t sl = (size_t)(end - p);
    if (sl == 0) {
        format = K8C_QUANTITY_DECIMAL_SI;
    } else if (sl == 2 && p[1] == 'i') {
        static const char bin[] = "KMGTPE";
        const char *c = memchr(bin, p[0], 6);
        if (c == NULL)
            return K8C_EINVAL;
        shift2 = 10 * (int)(c - bin + 1);
        format = K8C_QUANTITY_BINARY_SI;
    } else if (sl == 1 && memchr("numkMGTPE", p[0], 9) != NULL) {
        switch (p[0]) {
        case 'n':
            exp10 += -9;
            break;
        case 'u':
            exp10 += -6;
            break;
        case 'm':
            exp10 += -3;
            break;
        case 'k':
            exp10 += 3;
            break;
        case 'M':
            exp10 += 6;
            break;
        case 'G':
            exp10 += 9;
            break;
        case 'T':
            exp10 += 12;
            break;
        case 'P':
            exp10 += 15;
            break;
        case 'E':
            exp10 += 18;
            break;
        }
        format = K8C_QUANTITY_DECIMAL_SI;
    } else if (p[0] == 'e' || p[0] == 'E') {
        const char *e = p + 1;
        bool eneg = false;
        int ev = 0;
        if (e < end && (*e == '+' || *e == '-'))
            eneg = *e++ == '-';
        if (e == end)
            return K8C_EINVAL;
        for (; e < end; e++) {
            if (*e < '0' || *e > '9')
                return K8C_EINVAL;
            ev = ev * 10 + (*e - '0');
            if (ev > 1000)
                return K8C_ETOOBIG;
        }
        exp10 += eneg ? -ev : ev;
        format = K8C_QUANTITY_DECIMAL_EXPONENT;
    } else {
        return K8C_EINVAL;
    }
    /* value = mant * 10^(exp10 - frac_digits) * 2^shift2; convert to nano units */
    int e = exp10 - frac_digits + 9;
    if (mant != 0) {
        for (; e > 0; e--) {
            if (mant >= LIMIT / 10)
                return K8C_ETOOBIG;
            mant *= 10;
        }
        for (; e < 0; e++) {
            if (mant % 10 != 0)
                round_up = true;
            mant /= 10;
        }
        for (int i = 0; i < shift2; i++) {
            if (mant >= LIMIT / 2)
                return K8C_ETOOBIG;
            mant *= 2;
        }
        if (round_up)
            mant += 1;
        if (mant >= LIMIT)
            return K8C_ETOOBIG;
    }
    q->nano = neg ? -mant : mant;
    q->format = format;
    return 0;
}

/* Decimal digits of a non-negative i128 into buf; returns the length. */
static size_t i128_to_str(i128 v, char *buf)
{
    char tmp[48];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t k8c_quantity_format(const struct k8c_quantity *q, char *buf)
{
    i128 v = q->nano;
    bool neg = v < 0;
    size_t n = 0;
    enum k8c_quantity_format format = q->format;

    if (v == 0) {
        buf[0] = '0';
        buf[1] = '\0';
        return 1;
    }
    if (neg)
        v = -v;
    if (format == K8C_QUANTITY_BINARY_SI && (v < (i128)1024 * NANO || v % NANO != 0))
        format = K8C_QUANTITY_DECIMAL_SI;
    if (neg)
        buf[n++] = '-';
    if (format == K8C_QUANTITY_BINARY_SI) {
        static const char *const suffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        i128 units = v / NANO;
        int k = 0;
        while (k < 6 && units % 1024 == 0) {
            units /= 1024;
            k++;
        }
        n += i128_to_str(units, buf + n);
        strcpy(buf + n, suffix[k]);
        return n + strlen(suffix[k]);
    }
    int e = -9;
    while (v % 1000 == 0 && (format == K8C_QUANTITY_DECIMAL_EXPONENT || e < 18)) {
        v /= 1000;
        e += 3;
    }
    n += i128_to_str(v, buf + n);
    if (format == K8C_QUANTITY_DECIMAL_EXPONENT) {
        if (e != 0) {
            buf[n++] = 'e';
            if (e < 0) {
                buf[n++] = '-';
                e = -e;
            }
            n += i128_to_str(e, buf + n);
        }
        return n;
    }
    {
        static const char *const si[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
        const char *sfx = si[(e + 9) / 3];
        strcpy(buf + n, sfx);
        return n + strlen(sfx);
    }
}

int k8c_quantity_canonicalize(const char *s, size_t len, char *buf)
{
    struct k8c_quantity q;
    int rc = k8c_quantity_parse(s, len, &q);

    if (rc != 0)
        return rc;
    k8c_quantity_format(&q, buf);
    return 0;
}

int k8c_quantity_cmp(const struct k8c_quantity *a, const struct k8c_quantity *b)
{
    return a->nano < b->nano ? -1 : a->nano > b->nano ? 1 : 0;
}

bool k8c_quantity_is_zero(const struct k8c_quantity *q)
{
    return q->nano == 0;
}

void k8c_quantity_add(struct k8c_quantity *a, const struct k8c_quantity *b)
{
    if (a->nano == 0)
        a->format = b->format;
    a->nano = clamp(a->nano + b->nano);
}

void k8c_quantity_sub(struct k8c_quantity *a, const struct k8c_quantity *b)
{
    if (a->nano == 0)
        a->format = b->format;
    a->nano = clamp(a->nano - b->nano);
}

void k8c_quantity_mul(struct k8c_quantity *a, int64_t factor)
{
    i128 f = factor;

    if (a->nano != 0 && (f > LIMIT / (a->nano < 0 ? -a->nano : a->nano) ||
                         -f > LIMIT / (a->nano < 0 ? -a->nano : a->nano))) {
        a->nano = ((a->nano < 0) != (f < 0)) ? -(LIMIT - 1) : LIMIT - 1;
        return;
    }
    a->nano = clamp(a->nano * f);
}

static int64_t scaled(i128 nano, i128 unit)
{
    i128 v = nano / unit;

    if (nano % unit != 0)
        v += nano > 0 ? 1 : -1;
    if (v > INT64_MAX)
        return INT64_MAX;
    if (v < INT64_MIN)
        return INT64_MIN;
    return (int64_t)v;
}

int64_t k8c_quantity_value(const struct k8c_quantity *q)
{
    return scaled(q->nano, NANO);
}

int64_t k8c_quantity_milli_value(const struct k8c_quantity *q)
{
    return scaled(q->nano, 1000000);
}

struct k8c_quantity k8c_quantity_from_int(int64_t value, enum k8c_quantity_format format)
{
    struct k8c_quantity q = {(i128)value * NANO, format};

    return q;
}

struct k8c_quantity k8c_quantity_from_milli(int64_t milli, enum k8c_quantity_format format)
{
    struct k8c_quantity q = {(i128)milli * 1000000, format};

    return q;
}
