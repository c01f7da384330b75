/*
 * Command-line flags in the upstream (Go pflag) style:
 *   --name=value  --name value  --bool  --bool=false  -v=3  --v 3  --help
 * A program declares a table of struct k8c_flag; the value a destination holds
 * before parsing is the default that --help prints. Parsing stops at the first
 * positional argument or after "--".
 */
#ifndef K8C_FLAGS_H
#define K8C_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum k8c_flag_type {
    K8C_FLAG_BOOL,     /* bool * */
    K8C_FLAG_INT,      /* int * */
    K8C_FLAG_INT64,    /* int64_t * */
    K8C_FLAG_STRING,   /* char ** (parsed values are k8c_strdup'd) */
    K8C_FLAG_DURATION, /* int64_t * in milliseconds: "5s", "100ms", "1h30m", "250" (ms) */
    K8C_FLAG_SIZE,     /* int64_t * in bytes: "1048576", "3Mi", "2Gi", "512k" */
};

struct k8c_flag {
    const char *name; /* without dashes */
    enum k8c_flag_type type;
    void *dest;
    const char *help;
};

/*
 * Parses argv[1..] against the table. On success returns 0 and sets
 * *first_arg to the index of the first positional argument (argc if none).
 * Returns 1 after printing usage to stdout when --help or -h was given, and
 * K8C_EINVAL with a message in errmsg (K8C_ERRMSG_SIZE bytes) for an unknown
 * flag, a missing value or a value of the wrong form, e.g.
 *   "unknown flag: --foo", "invalid argument \"x\" for \"--port\" flag: not an integer".
 * String values set by a previous parse of the same table are freed when
 * replaced; string defaults are never freed.
 */
int k8c_flags_parse(const struct k8c_flag *flags, size_t n, int argc, char **argv, int *first_arg,
                    char *errmsg);

/* Prints "Flags:" and one line per flag with its type, default and help. */
void k8c_flags_usage(const struct k8c_flag *flags, size_t n, const char *program);

/* The parsers behind DURATION and SIZE flags, for other callers (0 or K8C_EINVAL). A
 * duration is Go's (below) or a bare number of milliseconds, and not negative. */
int k8c_parse_duration_ms(const char *s, int64_t *ms);

/* What Go's time.ParseDuration would refuse in a duration, for its error message. */
struct k8c_go_duration_error {
    const char *why;  /* "invalid duration", "missing unit in duration", "unknown unit" */
    const char *unit; /* "unknown unit": the unit, unit_len bytes into the input */
    size_t unit_len;
};
/* Go's time.ParseDuration: a sign, then numbers with units ns us µs ms s m h ("0" alone
 * needs none). 0 and *ms (rounded toward zero), or K8C_EINVAL with *err set. */
int k8c_parse_go_duration_ms(const char *s, int64_t *ms, struct k8c_go_duration_error *err);
int k8c_parse_size(const char *s, int64_t *bytes);

#endif
