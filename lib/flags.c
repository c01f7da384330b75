/* Upstream-style flag parsing; see flags.h. */
#include "flags.h"
#include "alloc.h"
#include "error.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strings a parse allocated, so a later parse can free what it replaces
 * without ever freeing a default that points at static storage. */
#define OWNED_MAX 128
static char *owned[OWNED_MAX];

static bool owned_take(char *p)
{
    for (size_t i = 0; i < OWNED_MAX; i++) {
        if (owned[i] == p && p != NULL) {
            owned[i] = NULL;
            return true;
        }
    }
    return false;
}

static void owned_add(char *p)
{
    for (size_t i = 0; i < OWNED_MAX; i++) {
        if (owned[i] == NULL) {
            owned[i] = p;
            return;
        }
    }
}

static int parse_int64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (*s == '\0')
        return K8C_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 0);
    if (errno != 0 || *end != '\0')
        return K8C_EINVAL;
    *out = v;
    return 0;
}

int k8c_parse_go_duration_ms(const char *s, int64_t *ms, struct k8c_go_duration_error *err)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"\xce\xbcs", 1e-3},
                 {"ms", 1},    {"s", 1000},  {"m", 60000},        {"h", 3600000}};
    const char *p = s;
    double total = 0;
    bool neg = false;

    *err = (struct k8c_go_duration_error){"invalid duration", NULL, 0};
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (strcmp(p, "0") == 0) {
        *ms = 0;
        return 0;
    }
    if (*p == '\0')
        return K8C_EINVAL;
    while (*p != '\0') {
        const char *start = p;
        double v = 0, scale = 1;
        bool digits = false;
        for (; *p >= '0' && *p <= '9'; p++, digits = true)
            v = v * 10 + (*p - '0');
        if (*p == '.')
            for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
                v += (*p - '0') * (scale /= 10);
        if (!digits || p - start > 64)
            return K8C_EINVAL;
        const char *u = p;
        while (*p != '\0' && *p != '.' && !(*p >= '0' && *p <= '9'))
            p++;
        size_t ulen = (size_t)(p - u), i;
        if (ulen == 0) {
            err->why = "missing unit in duration";
            return K8C_EINVAL;
        }
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strlen(units[i].unit) == ulen && memcmp(units[i].unit, u, ulen) == 0)
                break;
        if (i == sizeof(units) / sizeof(units[0])) {
            *err = (struct k8c_go_duration_error){"unknown unit", u, ulen};
            return K8C_EINVAL;
        }
        total += v * units[i].ms;
        if (total > 9.2e15) /* about Go's limit, 2^63 ns */
            return K8C_EINVAL;
    }
    *ms = (int64_t)(neg ? -total : total);
    return 0;
}

int k8c_parse_duration_ms(const char *s, int64_t *ms)
{
    struct k8c_go_duration_error err;
    if (parse_int64(s, ms) == 0) /* a bare number: milliseconds */
        return *ms >= 0 ? 0 : K8C_EINVAL;
    if (k8c_parse_go_duration_ms(s, ms, &err) != 0 || *ms < 0)
        return K8C_EINVAL;
    return 0;
}

int k8c_parse_size(const char *s, int64_t *bytes)
{
    static const struct {
        const char *suffix;
        int64_t mult;
    } suffixes[] = {{"Ki", 1LL << 10}, {"Mi", 1LL << 20},   {"Gi", 1LL << 30},
                    {"Ti", 1LL << 40}, {"k", 1000LL},       {"K", 1000LL},
                    {"M", 1000000LL},  {"G", 1000000000LL}, {"T", 1000000000000LL}};
    char *end;
    long long v;

    if (*s == '\0')
        return K8C_EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || v < 0)
        return K8C_EINVAL;
    if (*end == '\0') {
        *bytes = v;
        return 0;
    }
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (strcmp(end, suffixes[i].suffix) == 0) {
            if (v > INT64_MAX / suffixes[i].mult)
                return K8C_EINVAL;
            *bytes = v * suffixes[i].mult;
            return 0;
        }
    }
    return K8C_EINVAL;
}

static const char *type_name(enum k8c_flag_type t)
{
    switch (t) {
    case K8C_FLAG_BOOL:
        return "";
    case K8C_FLAG_INT:
    case K8C_FLAG_INT64:
        return "int";
    case K8C_FLAG_STRING:
        return "string";
    case K8C_FLAG_DURATION:
        return "duration";
    case K8C_FLAG_SIZE:
        return "bytes";
    }
    return "";
}

void k8c_flags_usage(const struct k8c_flag *flags, size_t n, const char *program)
{
    printf("Usage:\n  %s [flags]\n\nFlags:\n", program);
    printf("  -h, --help\n      help for %s\n", program);
    for (size_t i = 0; i < n; i++) {
        const struct k8c_flag *f = &flags[i];
        char def[128] = "";

        switch (f->type) {
        case K8C_FLAG_BOOL:
            if (*(bool *)f->dest)
                snprintf(def, sizeof(def), " (default true)");
            break;
        case K8C_FLAG_INT:
            if (*(int *)f->dest)
                snprintf(def, sizeof(def), " (default %d)", *(int *)f->dest);
            break;
        case K8C_FLAG_INT64:
        case K8C_FLAG_SIZE:
            if (*(int64_t *)f->dest)
                snprintf(def, sizeof(def), " (default %" PRId64 ")", *(int64_t *)f->dest);
            break;
        case K8C_FLAG_DURATION:
            if (*(int64_t *)f->dest)
                snprintf(def, sizeof(def), " (default %" PRId64 "ms)", *(int64_t *)f->dest);
            break;
        case K8C_FLAG_STRING:
            if (*(char **)f->dest && **(char **)f->dest)
                snprintf(def, sizeof(def), " (default \"%s\")", *(char **)f->dest);
            break;
        }
        printf("      --%s %s\n          %s%s\n", f->name, type_name(f->type), f->help, def);
    }
}

static int set_value(const struct k8c_flag *f, const char *value, char *errmsg)
{
    int64_t v;

    switch (f->type) {
    case K8C_FLAG_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0 || strcmp(value, "t") == 0 ||
            strcmp(value, "TRUE") == 0 || strcmp(value, "True") == 0) {
            *(bool *)f->dest = true;
        } else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
                   strcmp(value, "f") == 0 || strcmp(value, "FALSE") == 0 ||
                   strcmp(value, "False") == 0) {
            *(bool *)f->dest = false;
        } else {
            goto bad;
        }
        return 0;
    case K8C_FLAG_INT:
        if (parse_int64(value, &v) != 0 || v < INT_MIN || v > INT_MAX)
            goto bad;
        *(int *)f->dest = (int)v;
        return 0;
    case K8C_FLAG_INT64:
        if (parse_int64(value, &v) != 0)
            goto bad;
        *(int64_t *)f->dest = v;
        return 0;
    case K8C_FLAG_DURATION:
        if (k8c_parse_duration_ms(value, &v) != 0)
            goto bad;
        *(int64_t *)f->dest = v;
        return 0;
    case K8C_FLAG_SIZE:
        if (k8c_parse_size(value, &v) != 0)
            goto bad;
        *(int64_t *)f->dest = v;
        return 0;
    case K8C_FLAG_STRING: {
        char **dest = f->dest;
        char *copy = k8c_strdup(value);
        if (owned_take(*dest))
            k8c_free(*dest);
        *dest = copy;
        owned_add(copy);
        return 0;
    }
    }
bad:
    k8c_errmsg_printf(errmsg, "invalid argument \"%.100s\" for \"--%s\" flag: expected %s", value,
                      f->name, f->type == K8C_FLAG_BOOL ? "true or false" : type_name(f->type));
    return K8C_EINVAL;
}

int k8c_flags_parse(const struct k8c_flag *flags, size_t n, int argc, char **argv, int *first_arg,
                    char *errmsg)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *name, *eq, *value = NULL;
        size_t name_len;
        const struct k8c_flag *f = NULL;

        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            break; /* first positional */
        name = arg + (arg[1] == '-' ? 2 : 1);
        eq = strchr(name, '=');
        name_len = eq ? (size_t)(eq - name) : strlen(name);
        if ((name_len == 4 && strncmp(name, "help", 4) == 0) || (name_len == 1 && name[0] == 'h')) {
            k8c_flags_usage(flags, n, argv[0]);
            return 1;
        }
        for (size_t j = 0; j < n; j++) {
            if (strlen(flags[j].name) == name_len && strncmp(flags[j].name, name, name_len) == 0) {
                f = &flags[j];
                break;
            }
        }
        if (f == NULL) {
            k8c_errmsg_printf(errmsg, "unknown flag: %.*s", (int)(name - arg + name_len), arg);
            return K8C_EINVAL;
        }
        if (eq) {
            value = eq + 1;
        } else if (f->type == K8C_FLAG_BOOL) {
            value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            k8c_errmsg_printf(errmsg, "flag needs an argument: --%s", f->name);
            return K8C_EINVAL;
        }
        if (set_value(f, value, errmsg) != 0)
            return K8C_EINVAL;
    }
    if (first_arg)
        *first_arg = i;
    return 0;
}
