/*
 * Label and field selectors: parsers ported from k8s.io/apimachinery pkg/labels and pkg/fields
 * (Kubernetes 1.32), matching, and upstream's canonical string forms. See selector.h.
 *
 * The label parser is a faithful port of upstream's two-stage design: a lexer turns the whole
 * string into tokens first (so error messages quote the token that was found), then a
 * recursive-descent parser walks them with one token of lookahead. Its quirks are kept on
 * purpose, because clients (kubectl, client-go) and conformance tests rely on them: "in" and
 * "notin" are keywords only where an operator is expected, "x in ()" means x in (""), a
 * trailing "," inside a set adds "", and a requirement's values form a sorted set.
 *
 * Error texts are upstream's, including field.Error's "<path>: Invalid value: \"v\": detail"
 * and the aggregate "[e1, e2]" form, so a client sees the same 400 Bad Request message as
 * from kube-apiserver (cut to K8C_ERRMSG_SIZE).
 */
#include "selector.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                              */

/* A borrowed piece of the input. */
struct slice {
    const char *p;
    size_t len;
};

static void set_errmsg(char *errmsg, const char *msg)
{
    if (errmsg != NULL)
        k8c_errmsg_printf(errmsg, "%s", msg);
}

static const char *sbuf_str(const struct k8c_sbuf *sb)
{
    return sb->data != NULL ? sb->data : "";
}

static int slice_cmp(const struct slice *a, const struct slice *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->p, b->p, n) : 0;

    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static int slice_qsort_cmp(const void *a, const void *b)
{
    return slice_cmp(a, b);
}

static bool slice_eq(struct slice s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

/*
 * Decodes one UTF-8 sequence at s (n > 0 bytes left) the way Go's utf8.DecodeRuneInString
 * does: returns its length and stores the code point, or, for an invalid, overlong, surrogate
 * or truncated sequence, stores -1 and returns 1. Go never folds an ASCII byte into an
 * invalid sequence, which is why byte-wise scans for ASCII delimiters agree with Go's rune
 * loops.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, int32_t *rune)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    uint32_t r;

    if (c < 0x80) {
        *rune = (int32_t)c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        r = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        r = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        r = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *rune = -1;
        return 1;
    }
    if (n < need + 1 || s[1] < lo || s[1] > hi) {
        *rune = -1;
        return 1;
    }
    r = (r << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *rune = -1;
            return 1;
        }
        r = (r << 6) | (s[i] & 0x3F);
    }
    *rune = (int32_t)r;
    return need + 1;
}

void api_go_quote(struct k8c_sbuf *sb, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";

    k8c_sbuf_putc(sb, '"');
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        int32_t r;
        size_t w = utf8_decode((const unsigned char *)s + i, len - i, &r);

        if (r < 0 || (c < 0x20 || c == 0x7f)) {
            const char *esc = NULL;
            switch (c) {
            case '\a':
                esc = "\\a";
                break;
            case '\b':
                esc = "\\b";
                break;
            case '\f':
                esc = "\\f";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            case '\v':
                esc = "\\v";
                break;
            default:
                break;
            }
            if (esc != NULL) {
                k8c_sbuf_puts(sb, esc);
            } else {
                char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
                k8c_sbuf_append(sb, x, 4);
            }
            i++;
            continue;
        }
        if (c == '"' || c == '\\')
            k8c_sbuf_putc(sb, '\\');
        k8c_sbuf_append(sb, s + i, w);
        i += w;
    }
    k8c_sbuf_putc(sb, '"');
}

/* Appends s as encoding/json marshals a string (HTML-safe escapes, invalid UTF-8 as
 * \ufffd). */
static void append_json_string(struct k8c_sbuf *sb, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(s);

    k8c_sbuf_putc(sb, '"');
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        int32_t r;
        size_t w = utf8_decode((const unsigned char *)s + i, len - i, &r);

        if (r < 0) {
            k8c_sbuf_puts(sb, "\\ufffd");
        } else if (c == '"' || c == '\\') {
            k8c_sbuf_putc(sb, '\\');
            k8c_sbuf_putc(sb, (char)c);
        } else if (c == '\n') {
            k8c_sbuf_puts(sb, "\\n");
        } else if (c == '\r') {
            k8c_sbuf_puts(sb, "\\r");
        } else if (c == '\t') {
            k8c_sbuf_puts(sb, "\\t");
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            k8c_sbuf_append(sb, u, 6);
        } else if (r == 0x2028 || r == 0x2029) {
            k8c_sbuf_puts(sb, r == 0x2028 ? "\\u2028" : "\\u2029");
        } else {
            k8c_sbuf_append(sb, s + i, w);
        }
        i += w;
    }
    k8c_sbuf_putc(sb, '"');
}

/* strconv.ParseInt(s, 10, 64): optional sign, decimal digits only, in range. */
static bool parse_int64(const char *s, int64_t *out)
{
    bool neg = false;
    uint64_t v = 0, limit;

    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    if (*s == '\0')
        return false;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (limit - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Validation of label keys and values (k8s.io/apimachinery/pkg/util/validation, 1.32)        */

#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_ERRMSG                                                                               \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character"
#define QNAME_REGEX_ERROR                                                                          \
    QNAME_ERRMSG                                                                                   \
    " (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" QNAME_FMT "')"
#define DNS1123_SUBDOMAIN_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
#define DNS1123_SUBDOMAIN_REGEX_ERROR                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '" DNS1123_SUBDOMAIN_FMT "')"
#define LABEL_VALUE_REGEX_ERROR                                                                    \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')"

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], the whole string. */
static bool qualified_name_ok(const char *s, size_t n)
{
    if (n == 0 || !is_alnum((unsigned char)s[0]) || !is_alnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    }
    return true;
}

static bool is_lower_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*, the whole string. */
static bool dns1123_subdomain_ok(const char *s, size_t n)
{
    size_t start = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        /* label s[start, i) */
        if (i == start || !is_lower_alnum((unsigned char)s[start]) ||
            !is_lower_alnum((unsigned char)s[i - 1]))
            return false;
        for (size_t j = start; j < i; j++)
            if (!is_lower_alnum((unsigned char)s[j]) && s[j] != '-')
                return false;
        start = i + 1;
    }
    return true;
}

/* Appends "; " between reasons. */
static void add_reason(struct k8c_sbuf *sb, const char *reason)
{
    if (sb->len > 0)
        k8c_sbuf_puts(sb, "; ");
    k8c_sbuf_puts(sb, reason);
}

/* IsQualifiedName: appends the reasons joined by "; "; returns whether there were any. */
static bool key_reasons(const char *key, size_t len, struct k8c_sbuf *sb)
{
    const char *slash = memchr(key, '/', len);
    const char *name = key;
    size_t name_len = len;
    size_t before = sb->len;

    if (slash != NULL) {
        const char *prefix = key;
        size_t prefix_len = (size_t)(slash - key);

        name = slash + 1;
        name_len = len - prefix_len - 1;
        if (memchr(name, '/', name_len) != NULL) {
            add_reason(sb, "a qualified name " QNAME_REGEX_ERROR
                           " with an optional DNS subdomain prefix and '/' (e.g. "
                           "'example.com/MyName')");
            return true;
        }
        if (prefix_len == 0) {
            add_reason(sb, "prefix part must be non-empty");
        } else {
            if (prefix_len > 253)
                add_reason(sb, "prefix part must be no more than 253 characters");
            if (!dns1123_subdomain_ok(prefix, prefix_len))
                add_reason(sb, "prefix part " DNS1123_SUBDOMAIN_REGEX_ERROR);
        }
    }
    if (name_len == 0)
        add_reason(sb, "name part must be non-empty");
    else if (name_len > 63)
        add_reason(sb, "name part must be no more than 63 characters");
    if (!qualified_name_ok(name, name_len))
        add_reason(sb, "name part " QNAME_REGEX_ERROR);
    return sb->len != before;
}

/* IsValidLabelValue. */
static bool value_reasons(const char *value, size_t len, struct k8c_sbuf *sb)
{
    size_t before = sb->len;

    if (len > 63)
        add_reason(sb, "must be no more than 63 characters");
    if (len > 0 && !qualified_name_ok(value, len))
        add_reason(sb, LABEL_VALUE_REGEX_ERROR);
    return sb->len != before;
}

int api_labels_validate_key(const char *key, size_t len, char *errmsg)
{
    struct k8c_sbuf sb;
    int rc = 0;

    k8c_sbuf_init(&sb);
    if (key_reasons(key, len, &sb)) {
        set_errmsg(errmsg, sbuf_str(&sb));
        rc = K8C_EINVAL;
    }
    k8c_sbuf_free(&sb);
    return rc;
}

int api_labels_validate_value(const char *value, size_t len, char *errmsg)
{
    struct k8c_sbuf sb;
    int rc = 0;

    k8c_sbuf_init(&sb);
    if (value_reasons(value, len, &sb)) {
        set_errmsg(errmsg, sbuf_str(&sb));
        rc = K8C_EINVAL;
    }
    k8c_sbuf_free(&sb);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Error lists: field.ErrorList and its aggregate message                                     */

#define ERRLIST_KEEP 16

struct errlist {
    size_t n;
    char *msgs[ERRLIST_KEEP]; /* the first messages, duplicates dropped */
};

static void errlist_add(struct errlist *el, struct k8c_sbuf *msg)
{
    const char *m = sbuf_str(msg);

    for (size_t i = 0; i < el->n && i < ERRLIST_KEEP; i++)
        if (strcmp(el->msgs[i], m) == 0)
            return;
    if (el->n < ERRLIST_KEEP)
        el->msgs[el->n] = k8c_strdup(m);
    el->n++;
}

/* utilerrors.NewAggregate(...).Error(): one message as is, several as "[a, b]". */
static void errlist_format(const struct errlist *el, struct k8c_sbuf *out)
{
    size_t kept = el->n < ERRLIST_KEEP ? el->n : ERRLIST_KEEP;

    if (el->n > 1)
        k8c_sbuf_putc(out, '[');
    for (size_t i = 0; i < kept; i++) {
        if (i > 0)
            k8c_sbuf_puts(out, ", ");
        k8c_sbuf_puts(out, el->msgs[i]);
    }
    if (el->n > 1)
        k8c_sbuf_putc(out, ']');
}

static void errlist_free(struct errlist *el)
{
    for (size_t i = 0; i < el->n && i < ERRLIST_KEEP; i++)
        k8c_free(el->msgs[i]);
    el->n = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Label selectors: requirements                                                              */

void api_labels_init(struct api_label_selector *sel)
{
    memset(sel, 0, sizeof(*sel));
}

void api_labels_init_nothing(struct api_label_selector *sel)
{
    memset(sel, 0, sizeof(*sel));
    sel->nothing = true;
}

static void requirement_free(struct api_label_requirement *r)
{
    for (size_t i = 0; i < r->n_values; i++)
        k8c_free(r->values[i]);
    k8c_free(r->values);
    k8c_free(r->key);
    memset(r, 0, sizeof(*r));
}

void api_labels_free(struct api_label_selector *sel)
{
    for (size_t i = 0; i < sel->n_requirements; i++)
        requirement_free(&sel->requirements[i]);
    k8c_free(sel->requirements);
    api_labels_init(sel);
}

static int cstr_qsort_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void append_values_json(struct k8c_sbuf *sb, const struct slice *values, size_t n)
{
    if (n == 0) {
        k8c_sbuf_puts(sb, "null"); /* append([]string(nil), none...) is nil */
        return;
    }
    k8c_sbuf_putc(sb, '[');
    for (size_t i = 0; i < n; i++) {
        char *v = k8c_strndup(values[i].p, values[i].len);
        if (i > 0)
            k8c_sbuf_putc(sb, ',');
        append_json_string(sb, v);
        k8c_free(v);
    }
    k8c_sbuf_putc(sb, ']');
}

/*
 * labels.NewRequirement: validates and builds a requirement in *r (which owns copies of key
 * and values; values are sorted). On K8C_EINVAL, errmsg holds the aggregate of every problem
 * found, in upstream's order: key, operator arity, integer operands, then each value.
 */
static int requirement_new(struct slice key, enum api_selector_op op, const struct slice *values,
                           size_t n_values, struct api_label_requirement *r, char *errmsg)
{
    struct errlist el = {0};
    struct k8c_sbuf msg, reasons;
    const char *arity = NULL;
    int64_t number = 0;
    int rc = 0;

    k8c_sbuf_init(&msg);
    k8c_sbuf_init(&reasons);
    memset(r, 0, sizeof(*r));

    if (key_reasons(key.p, key.len, &reasons)) {
        k8c_sbuf_puts(&msg, "key: Invalid value: ");
        api_go_quote(&msg, key.p, key.len);
        k8c_sbuf_printf(&msg, ": %s", sbuf_str(&reasons));
        errlist_add(&el, &msg);
    }
    switch (op) {
    case API_SELECTOR_IN:
    case API_SELECTOR_NOT_IN:
        if (n_values == 0)
            arity = "for 'in', 'notin' operators, values set can't be empty";
        break;
    case API_SELECTOR_EQUALS:
    case API_SELECTOR_DOUBLE_EQUALS:
    case API_SELECTOR_NOT_EQUALS:
        if (n_values != 1)
            arity = "exact-match compatibility requires one single value";
        break;
    case API_SELECTOR_EXISTS:
    case API_SELECTOR_DOES_NOT_EXIST:
        if (n_values != 0)
            arity = "values set must be empty for exists and does not exist";
        break;
    case API_SELECTOR_GREATER_THAN:
    case API_SELECTOR_LESS_THAN:
        if (n_values != 1)
            arity = "for 'Gt', 'Lt' operators, exactly one value is required";
        break;
    }
    if (arity != NULL) {
        k8c_sbuf_reset(&msg);
        k8c_sbuf_puts(&msg, "values: Invalid value: ");
        append_values_json(&msg, values, n_values);
        k8c_sbuf_printf(&msg, ": %s", arity);
        errlist_add(&el, &msg);
    }
    if (op == API_SELECTOR_GREATER_THAN || op == API_SELECTOR_LESS_THAN) {
        for (size_t i = 0; i < n_values; i++) {
            char *v = k8c_strndup(values[i].p, values[i].len);
            if (!parse_int64(v, &number)) {
                k8c_sbuf_reset(&msg);
                k8c_sbuf_printf(&msg, "values[%zu]: Invalid value: ", i);
                api_go_quote(&msg, values[i].p, values[i].len);
                k8c_sbuf_puts(&msg, ": for 'Gt', 'Lt' operators, the value must be an integer");
                errlist_add(&el, &msg);
            }
            k8c_free(v);
        }
    }
    for (size_t i = 0; i < n_values; i++) {
        k8c_sbuf_reset(&reasons);
        if (value_reasons(values[i].p, values[i].len, &reasons)) {
            k8c_sbuf_reset(&msg);
            k8c_sbuf_printf(&msg, "values[%zu][%.*s]: Invalid value: ", i, (int)key.len, key.p);
            api_go_quote(&msg, values[i].p, values[i].len);
            k8c_sbuf_printf(&msg, ": %s", sbuf_str(&reasons));
            errlist_add(&el, &msg);
        }
    }

    if (el.n > 0) {
        k8c_sbuf_reset(&msg);
        errlist_format(&el, &msg);
        set_errmsg(errmsg, sbuf_str(&msg));
        rc = K8C_EINVAL;
    } else {
        r->key = k8c_strndup(key.p, key.len);
        r->op = op;
        r->number = number;
        r->n_values = n_values;
        r->values = n_values ? k8c_calloc(n_values, sizeof(char *)) : NULL;
        for (size_t i = 0; i < n_values; i++)
            r->values[i] = k8c_strndup(values[i].p, values[i].len);
        /* Sorted, so matching can binary-search; order is not observable (String() sorts). */
        if (n_values > 1)
            qsort(r->values, n_values, sizeof(char *), cstr_qsort_cmp);
    }
    errlist_free(&el);
    k8c_sbuf_free(&reasons);
    k8c_sbuf_free(&msg);
    return rc;
}

/* sort.Sort(ByKey(...)), but stable so that equal keys keep their written order. */
static void requirements_sort(struct api_label_requirement *reqs, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct api_label_requirement tmp = reqs[i];
        size_t j = i;
        while (j > 0 && strcmp(reqs[j - 1].key, tmp.key) > 0) {
            reqs[j] = reqs[j - 1];
            j--;
        }
        reqs[j] = tmp;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Label selectors: lexer                                                                     */

enum token {
    TOK_EOS,
    TOK_CLOSE_PAR,
    TOK_COMMA,
    TOK_NOT,
    TOK_DOUBLE_EQUALS,
    TOK_EQUALS,
    TOK_GREATER,
    TOK_IDENT,
    TOK_IN,
    TOK_LESS,
    TOK_NOT_EQUALS,
    TOK_NOT_IN,
    TOK_OPEN_PAR,
};

struct item {
    enum token tok;
    struct slice lit;
};

struct lexer {
    const char *s;
    size_t len, pos;
};

static bool is_whitespace(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(unsigned char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

/* Upstream's read(): 0 at the end without moving; an embedded NUL also reads as 0, but is
 * consumed. */
static unsigned char lex_read(struct lexer *l)
{
    if (l->pos < l->len)
        return (unsigned char)l->s[l->pos++];
    return 0;
}

static void lex_ident(struct lexer *l, struct item *it)
{
    size_t start = l->pos, end;

    for (;;) {
        unsigned char c;
        end = l->pos;
        c = lex_read(l);
        if (c == 0)
            break;
        if (is_special(c) || is_whitespace(c)) {
            l->pos--;
            break;
        }
    }
    it->lit.p = l->s + start;
    it->lit.len = end - start;
    if (slice_eq(it->lit, "in"))
        it->tok = TOK_IN;
    else if (slice_eq(it->lit, "notin"))
        it->tok = TOK_NOT_IN;
    else
        it->tok = TOK_IDENT;
}

/* Longest operator at l->pos: "==" and "!=" are the only two-byte ones. As upstream's loop
 * does, an embedded NUL right after the operator is swallowed. */
static void lex_special(struct lexer *l, struct item *it)
{
    size_t start = l->pos;
    unsigned char c = lex_read(l), next = l->pos < l->len ? (unsigned char)l->s[l->pos] : 0;

    switch (c) {
    case ')':
        it->tok = TOK_CLOSE_PAR;
        break;
    case '(':
        it->tok = TOK_OPEN_PAR;
        break;
    case ',':
        it->tok = TOK_COMMA;
        break;
    case '>':
        it->tok = TOK_GREATER;
        break;
    case '<':
        it->tok = TOK_LESS;
        break;
    case '=':
        it->tok = TOK_EQUALS;
        break;
    default:
        it->tok = TOK_NOT;
        break;
    }
    if ((c == '=' || c == '!') && next == '=') {
        it->tok = c == '=' ? TOK_DOUBLE_EQUALS : TOK_NOT_EQUALS;
        l->pos++;
    }
    it->lit.p = l->s + start;
    it->lit.len = l->pos - start;
    if (l->pos < l->len && l->s[l->pos] == '\0')
        l->pos++;
}

static void lex_next(struct lexer *l, struct item *it)
{
    unsigned char c = lex_read(l);

    while (is_whitespace(c))
        c = lex_read(l);
    if (c == 0) {
        it->tok = TOK_EOS;
        it->lit.p = "";
        it->lit.len = 0;
    } else if (is_special(c)) {
        l->pos--;
        lex_special(l, it);
    } else {
        l->pos--;
        lex_ident(l, it);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Label selectors: parser                                                                    */

struct parser {
    struct item *items;
    size_t n_items, pos;
    char *errmsg; /* K8C_ERRMSG_SIZE: the message for the current requirement */
};

/* In a values context "in" and "notin" are plain identifiers. */
static enum token in_values(enum token t)
{
    return t == TOK_IN || t == TOK_NOT_IN ? TOK_IDENT : t;
}

static const struct item *lookahead(const struct parser *p)
{
    return &p->items[p->pos];
}

/* Upstream would index past the end after the end-of-string token; its grammar never does,
 * and here the position simply stays on it. */
static const struct item *consume(struct parser *p)
{
    const struct item *it = &p->items[p->pos];
    if (p->pos + 1 < p->n_items)
        p->pos++;
    return it;
}

static int fail(struct parser *p, int rc, const char *fmt, struct slice lit)
{
    if (p->errmsg != NULL)
        k8c_errmsg_printf(p->errmsg, fmt, (int)lit.len, lit.p);
    return rc;
}

/* A growing list of value slices (a sets.String while parsing). */
struct value_list {
    struct slice *v;
    size_t n, cap;
};

static int values_add(struct parser *p, struct value_list *vl, struct slice s)
{
    if (vl->n == API_SELECTOR_MAX_VALUES) {
        if (p->errmsg != NULL)
            k8c_errmsg_printf(p->errmsg, "more than %d values in one set", API_SELECTOR_MAX_VALUES);
        return K8C_ETOOBIG;
    }
    if (vl->n == vl->cap) {
        vl->cap = vl->cap ? vl->cap * 2 : 4;
        vl->v = k8c_realloc(vl->v, vl->cap * sizeof(*vl->v));
    }
    vl->v[vl->n++] = s;
    return 0;
}

/* sets.String.List(): sorted, without duplicates. */
static void values_normalize(struct value_list *vl)
{
    size_t out = 0;

    if (vl->n < 2)
        return;
    qsort(vl->v, vl->n, sizeof(*vl->v), slice_qsort_cmp);
    for (size_t i = 0; i < vl->n; i++)
        if (out == 0 || slice_cmp(&vl->v[out - 1], &vl->v[i]) != 0)
            vl->v[out++] = vl->v[i];
    vl->n = out;
}

static const struct slice empty_slice = {"", 0};

/* parseIdentifiersList: a possibly empty list of possibly empty identifiers, up to but not
 * including the ')'. */
static int parse_identifiers_list(struct parser *p, struct value_list *vl)
{
    for (;;) {
        const struct item *it = consume(p), *la;
        int rc;

        switch (in_values(it->tok)) {
        case TOK_IDENT:
            if ((rc = values_add(p, vl, it->lit)) != 0)
                return rc;
            la = lookahead(p);
            switch (in_values(la->tok)) {
            case TOK_COMMA:
                continue;
            case TOK_CLOSE_PAR:
                return 0;
            default:
                return fail(p, K8C_EPARSE, "found '%.*s', expected: ',' or ')'", la->lit);
            }
        case TOK_COMMA:
            if (vl->n == 0 && (rc = values_add(p, vl, empty_slice)) != 0) /* "(," */
                return rc;
            la = lookahead(p);
            if (la->tok == TOK_CLOSE_PAR) /* ",)" */
                return values_add(p, vl, empty_slice);
            if (la->tok == TOK_COMMA && (rc = values_add(p, vl, empty_slice)) != 0) /* ",," */
                return rc;
            break;
        default:
            return fail(p, K8C_EPARSE, "found '%.*s', expected: ',', or identifier", it->lit);
        }
    }
}

/* parseValues: "(" list ")". */
static int parse_values(struct parser *p, struct value_list *vl)
{
    const struct item *it = consume(p), *la;
    int rc;

    if (in_values(it->tok) != TOK_OPEN_PAR)
        return fail(p, K8C_EPARSE, "found '%.*s' expected: '('", it->lit);
    la = lookahead(p);
    switch (in_values(la->tok)) {
    case TOK_IDENT:
    case TOK_COMMA:
        if ((rc = parse_identifiers_list(p, vl)) != 0)
            return rc;
        if (consume(p)->tok != TOK_CLOSE_PAR)
            return fail(p, K8C_EPARSE, "found '%.*s', expected: ')'", la->lit);
        return 0;
    case TOK_CLOSE_PAR: /* "()" */
        consume(p);
        return values_add(p, vl, empty_slice);
    default:
        return fail(p, K8C_EPARSE, "found '%.*s', expected: ',', ')' or identifier", la->lit);
    }
}

/* parseExactValue: one value, or "" when the requirement ends right after the operator. */
static int parse_exact_value(struct parser *p, struct value_list *vl)
{
    const struct item *la = lookahead(p), *it;

    if (la->tok == TOK_EOS || la->tok == TOK_COMMA)
        return values_add(p, vl, empty_slice);
    it = consume(p);
    if (in_values(it->tok) == TOK_IDENT)
        return values_add(p, vl, it->lit);
    return fail(p, K8C_EPARSE, "found '%.*s', expected: identifier", it->lit);
}

/* parseRequirement: [!] KEY [ op VALUE | (in|notin) (VALUES) ]. */
static int parse_requirement(struct parser *p, struct api_label_requirement *r)
{
    const struct item *it = consume(p), *la;
    struct value_list vl = {0};
    enum api_selector_op op;
    bool have_op = false;
    struct slice key;
    int rc;

    if (it->tok == TOK_NOT) {
        op = API_SELECTOR_DOES_NOT_EXIST;
        have_op = true;
        it = consume(p);
    }
    if (in_values(it->tok) != TOK_IDENT)
        return fail(p, K8C_EPARSE, "found '%.*s', expected: identifier", it->lit);
    key = it->lit;
    {
        struct k8c_sbuf msg, reasons;
        k8c_sbuf_init(&msg);
        k8c_sbuf_init(&reasons);
        rc = 0;
        if (key_reasons(key.p, key.len, &reasons)) {
            /* field.Invalid with the parser's nil path prints "<nil>". */
            k8c_sbuf_puts(&msg, "<nil>: Invalid value: ");
            api_go_quote(&msg, key.p, key.len);
            k8c_sbuf_printf(&msg, ": %s", sbuf_str(&reasons));
            set_errmsg(p->errmsg, sbuf_str(&msg));
            rc = K8C_EINVAL;
        }
        k8c_sbuf_free(&reasons);
        k8c_sbuf_free(&msg);
        if (rc != 0)
            return rc;
    }
    la = lookahead(p);
    if ((la->tok == TOK_EOS || la->tok == TOK_COMMA) && !have_op) {
        op = API_SELECTOR_EXISTS;
        have_op = true;
    }
    if (have_op)
        return requirement_new(key, op, NULL, 0, r, p->errmsg);

    it = consume(p); /* parseOperator, in the key-and-operator context */
    switch (it->tok) {
    case TOK_IN:
        op = API_SELECTOR_IN;
        break;
    case TOK_EQUALS:
        op = API_SELECTOR_EQUALS;
        break;
    case TOK_DOUBLE_EQUALS:
        op = API_SELECTOR_DOUBLE_EQUALS;
        break;
    case TOK_GREATER:
        op = API_SELECTOR_GREATER_THAN;
        break;
    case TOK_LESS:
        op = API_SELECTOR_LESS_THAN;
        break;
    case TOK_NOT_IN:
        op = API_SELECTOR_NOT_IN;
        break;
    case TOK_NOT_EQUALS:
        op = API_SELECTOR_NOT_EQUALS;
        break;
    default:
        return fail(p, K8C_EPARSE, "found '%.*s', expected: in, notin, =, ==, !=, gt, lt", it->lit);
    }
    if (op == API_SELECTOR_IN || op == API_SELECTOR_NOT_IN)
        rc = parse_values(p, &vl);
    else
        rc = parse_exact_value(p, &vl);
    if (rc == 0) {
        values_normalize(&vl);
        rc = requirement_new(key, op, vl.v, vl.n, r, p->errmsg);
    }
    k8c_free(vl.v);
    return rc;
}

int api_labels_parse(const char *s, size_t len, struct api_label_selector *sel, char *errmsg)
{
    struct lexer l = {s, len, 0};
    struct parser p = {0};
    char inner[K8C_ERRMSG_SIZE];
    size_t cap = 0;
    int rc = 0;

    api_labels_init(sel);
    if (len > API_SELECTOR_MAX_LEN) {
        if (errmsg != NULL)
            k8c_errmsg_printf(errmsg, "label selector is %zu bytes long, more than the limit %d",
                              len, API_SELECTOR_MAX_LEN);
        return K8C_ETOOBIG;
    }

    /* scan: the whole string into tokens, ending with one end-of-string token. */
    for (;;) {
        if (p.n_items == cap) {
            cap = cap ? cap * 2 : 16;
            p.items = k8c_realloc(p.items, cap * sizeof(*p.items));
        }
        lex_next(&l, &p.items[p.n_items]);
        if (p.items[p.n_items++].tok == TOK_EOS)
            break;
    }

    inner[0] = '\0';
    p.errmsg = inner;
    for (;;) {
        const struct item *it = lookahead(&p);
        enum token t = in_values(it->tok);

        if (t == TOK_EOS)
            break;
        if (t != TOK_IDENT && t != TOK_NOT) {
            rc = fail(&p, K8C_EPARSE, "found '%.*s', expected: !, identifier, or 'end of string'",
                      it->lit);
            set_errmsg(errmsg, inner);
            break;
        }
        if (sel->n_requirements == API_SELECTOR_MAX_REQUIREMENTS) {
            if (errmsg != NULL)
                k8c_errmsg_printf(errmsg, "label selector has more than %d requirements",
                                  API_SELECTOR_MAX_REQUIREMENTS);
            rc = K8C_ETOOBIG;
            break;
        }
        sel->requirements =
            k8c_realloc(sel->requirements, (sel->n_requirements + 1) * sizeof(*sel->requirements));
        rc = parse_requirement(&p, &sel->requirements[sel->n_requirements]);
        if (rc != 0) {
            if (errmsg != NULL)
                k8c_errmsg_printf(errmsg, "unable to parse requirement: %s", inner);
            break;
        }
        sel->n_requirements++;
        it = consume(&p);
        t = in_values(it->tok);
        if (t == TOK_EOS)
            break;
        if (t == TOK_COMMA) {
            const struct item *la = lookahead(&p);
            enum token t2 = in_values(la->tok);
            if (t2 != TOK_IDENT && t2 != TOK_NOT) {
                rc = fail(&p, K8C_EPARSE, "found '%.*s', expected: identifier after ','", la->lit);
                set_errmsg(errmsg, inner);
                break;
            }
            continue;
        }
        rc = fail(&p, K8C_EPARSE, "found '%.*s', expected: ',' or 'end of string'", it->lit);
        set_errmsg(errmsg, inner);
        break;
    }
    k8c_free(p.items);
    if (rc != 0) {
        api_labels_free(sel);
        return rc;
    }
    if (sel->n_requirements == 0) {
        k8c_free(sel->requirements);
        sel->requirements = NULL;
    }
    requirements_sort(sel->requirements, sel->n_requirements);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Label selectors: metav1.LabelSelector                                                      */

static struct slice cstr_slice(const char *s)
{
    struct slice r = {s != NULL ? s : "", s != NULL ? strlen(s) : 0};
    return r;
}

int api_labels_from_label_selector(const api_label_selector_msg_t *msg,
                                   struct api_label_selector *sel, char *errmsg)
{
    size_t total;
    int rc = 0;

    if (msg == NULL) {
        api_labels_init_nothing(sel);
        return 0;
    }
    api_labels_init(sel);
    total = msg->n_matchlabels + msg->n_matchexpressions;
    if (total == 0)
        return 0;
    if (total > API_SELECTOR_MAX_REQUIREMENTS) {
        if (errmsg != NULL)
            k8c_errmsg_printf(errmsg, "label selector has more than %d requirements",
                              API_SELECTOR_MAX_REQUIREMENTS);
        return K8C_ETOOBIG;
    }
    sel->requirements = k8c_calloc(total, sizeof(*sel->requirements));
    for (size_t i = 0; i < msg->n_matchlabels && rc == 0; i++) {
        const K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelector__MatchLabelsEntry *e =
            msg->matchlabels[i];
        struct slice value;
        if (e == NULL)
            continue;
        value = cstr_slice(e->value);
        rc = requirement_new(cstr_slice(e->key), API_SELECTOR_EQUALS, &value, 1,
                             &sel->requirements[sel->n_requirements], errmsg);
        if (rc == 0)
            sel->n_requirements++;
    }
    for (size_t i = 0; i < msg->n_matchexpressions && rc == 0; i++) {
        const K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelectorRequirement *e =
            msg->matchexpressions[i];
        struct slice opname, *values;
        enum api_selector_op op;
        if (e == NULL)
            continue;
        opname = cstr_slice(e->operator_);
        if (slice_eq(opname, "In")) {
            op = API_SELECTOR_IN;
        } else if (slice_eq(opname, "NotIn")) {
            op = API_SELECTOR_NOT_IN;
        } else if (slice_eq(opname, "Exists")) {
            op = API_SELECTOR_EXISTS;
        } else if (slice_eq(opname, "DoesNotExist")) {
            op = API_SELECTOR_DOES_NOT_EXIST;
        } else {
            struct k8c_sbuf sb;
            k8c_sbuf_init(&sb);
            api_go_quote(&sb, opname.p, opname.len);
            k8c_sbuf_puts(&sb, " is not a valid label selector operator");
            set_errmsg(errmsg, sbuf_str(&sb));
            k8c_sbuf_free(&sb);
            rc = K8C_EINVAL;
            break;
        }
        if (e->n_values > API_SELECTOR_MAX_VALUES) {
            if (errmsg != NULL)
                k8c_errmsg_printf(errmsg, "more than %d values in one requirement",
                                  API_SELECTOR_MAX_VALUES);
            rc = K8C_ETOOBIG;
            break;
        }
        values = e->n_values ? k8c_calloc(e->n_values, sizeof(*values)) : NULL;
        for (size_t j = 0; j < e->n_values; j++)
            values[j] = cstr_slice(e->values[j]);
        rc = requirement_new(cstr_slice(e->key), op, values, e->n_values,
                             &sel->requirements[sel->n_requirements], errmsg);
        k8c_free(values);
        if (rc == 0)
            sel->n_requirements++;
    }
    if (rc != 0) {
        api_labels_free(sel);
        return rc;
    }
    requirements_sort(sel->requirements, sel->n_requirements);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Label selectors: matching and formatting                                                   */

bool api_labels_empty(const struct api_label_selector *sel)
{
    return !sel->nothing && sel->n_requirements == 0;
}

bool api_labels_matches_nothing(const struct api_label_selector *sel)
{
    return sel->nothing;
}

/* A label set in one of the two shapes callers have. */
struct label_source {
    const struct api_label *pairs;
    api_labels_entry_t *const *entries;
    size_t n;
};

/* The value of key, or NULL when absent. The last of duplicate keys wins, as when protobuf
 * map entries are decoded into a Go map. */
static const char *label_lookup(const struct label_source *src, const char *key)
{
    for (size_t i = src->n; i-- > 0;) {
        const char *k, *v;
        if (src->pairs != NULL) {
            k = src->pairs[i].key;
            v = src->pairs[i].value;
        } else {
            if (src->entries[i] == NULL)
                continue;
            k = src->entries[i]->key;
            v = src->entries[i]->value;
        }
        if (strcmp(k != NULL ? k : "", key) == 0)
            return v != NULL ? v : "";
    }
    return NULL;
}

static bool requirement_has_value(const struct api_label_requirement *r, const char *value)
{
    size_t lo = 0, hi = r->n_values;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->values[mid], value);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool requirement_matches(const struct api_label_requirement *r,
                                const struct label_source *src)
{
    const char *v = label_lookup(src, r->key);
    int64_t n;

    switch (r->op) {
    case API_SELECTOR_IN:
    case API_SELECTOR_EQUALS:
    case API_SELECTOR_DOUBLE_EQUALS:
        return v != NULL && requirement_has_value(r, v);
    case API_SELECTOR_NOT_IN:
    case API_SELECTOR_NOT_EQUALS:
        return v == NULL || !requirement_has_value(r, v);
    case API_SELECTOR_EXISTS:
        return v != NULL;
    case API_SELECTOR_DOES_NOT_EXIST:
        return v == NULL;
    case API_SELECTOR_GREATER_THAN:
    case API_SELECTOR_LESS_THAN:
        if (v == NULL || r->n_values != 1 || !parse_int64(v, &n))
            return false;
        return r->op == API_SELECTOR_GREATER_THAN ? n > r->number : n < r->number;
    }
    return false;
}

static bool selector_matches(const struct api_label_selector *sel, const struct label_source *src)
{
    if (sel->nothing)
        return false;
    for (size_t i = 0; i < sel->n_requirements; i++)
        if (!requirement_matches(&sel->requirements[i], src))
            return false;
    return true;
}

bool api_labels_matches(const struct api_label_selector *sel, const struct api_label *labels,
                        size_t n)
{
    struct label_source src = {labels, NULL, labels != NULL ? n : 0};
    return selector_matches(sel, &src);
}

bool api_labels_matches_entries(const struct api_label_selector *sel,
                                api_labels_entry_t *const *entries, size_t n)
{
    struct label_source src = {NULL, entries, entries != NULL ? n : 0};
    return selector_matches(sel, &src);
}

bool api_labels_matches_meta(const struct api_label_selector *sel, const api_object_meta_t *meta)
{
    if (meta == NULL)
        return api_labels_matches(sel, NULL, 0);
    return api_labels_matches_entries(sel, meta->labels, meta->n_labels);
}

bool api_labels_requires_exact_match(const struct api_label_selector *sel, const char *key,
                                     const char **value)
{
    if (sel->nothing)
        return false;
    for (size_t i = 0; i < sel->n_requirements; i++) {
        const struct api_label_requirement *r = &sel->requirements[i];
        if (strcmp(r->key, key) != 0)
            continue;
        if ((r->op == API_SELECTOR_EQUALS || r->op == API_SELECTOR_DOUBLE_EQUALS ||
             r->op == API_SELECTOR_IN) &&
            r->n_values == 1) {
            if (value != NULL)
                *value = r->values[0];
            return true;
        }
        return false;
    }
    return false;
}

void api_labels_format(const struct api_label_selector *sel, struct k8c_sbuf *out)
{
    if (sel->nothing)
        return;
    for (size_t i = 0; i < sel->n_requirements; i++) {
        const struct api_label_requirement *r = &sel->requirements[i];
        bool set = r->op == API_SELECTOR_IN || r->op == API_SELECTOR_NOT_IN;

        if (i > 0)
            k8c_sbuf_putc(out, ',');
        if (r->op == API_SELECTOR_DOES_NOT_EXIST)
            k8c_sbuf_putc(out, '!');
        k8c_sbuf_puts(out, r->key);
        switch (r->op) {
        case API_SELECTOR_EQUALS:
            k8c_sbuf_puts(out, "=");
            break;
        case API_SELECTOR_DOUBLE_EQUALS:
            k8c_sbuf_puts(out, "==");
            break;
        case API_SELECTOR_NOT_EQUALS:
            k8c_sbuf_puts(out, "!=");
            break;
        case API_SELECTOR_IN:
            k8c_sbuf_puts(out, " in ");
            break;
        case API_SELECTOR_NOT_IN:
            k8c_sbuf_puts(out, " notin ");
            break;
        case API_SELECTOR_GREATER_THAN:
            k8c_sbuf_puts(out, ">");
            break;
        case API_SELECTOR_LESS_THAN:
            k8c_sbuf_puts(out, "<");
            break;
        case API_SELECTOR_EXISTS:
        case API_SELECTOR_DOES_NOT_EXIST:
            continue;
        }
        if (set)
            k8c_sbuf_putc(out, '(');
        for (size_t j = 0; j < r->n_values; j++) { /* values are kept sorted */
            if (j > 0)
                k8c_sbuf_putc(out, ',');
            k8c_sbuf_puts(out, r->values[j]);
        }
        if (set)
            k8c_sbuf_putc(out, ')');
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Field selectors                                                                            */

void api_fields_init(struct api_field_selector *sel)
{
    memset(sel, 0, sizeof(*sel));
}

void api_fields_init_nothing(struct api_field_selector *sel)
{
    memset(sel, 0, sizeof(*sel));
    sel->nothing = true;
}

void api_fields_free(struct api_field_selector *sel)
{
    for (size_t i = 0; i < sel->n_requirements; i++) {
        k8c_free(sel->requirements[i].field);
        k8c_free(sel->requirements[i].value);
    }
    k8c_free(sel->requirements);
    api_fields_init(sel);
}

/*
 * UnescapeValue: "\\", "\," and "\=" are the only escapes, and an unescaped ',' or '=' is an
 * error. Like upstream, which walks runes, an invalid UTF-8 byte comes out as U+FFFD, but only
 * when the value needed unescaping at all.
 */
static int unescape_value(struct slice in, char **out, char *errmsg)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    struct k8c_sbuf sb;
    bool in_slash = false;
    bool special = false;

    for (size_t i = 0; i < in.len && !special; i++)
        special = in.p[i] == '\\' || in.p[i] == ',' || in.p[i] == '=';
    if (!special) {
        *out = k8c_strndup(in.p, in.len);
        return 0;
    }
    k8c_sbuf_init(&sb);
    k8c_sbuf_reserve(&sb, in.len);
    for (size_t i = 0; i < in.len;) {
        int32_t r;
        size_t w = utf8_decode((const unsigned char *)in.p + i, in.len - i, &r);
        const char *bytes = r < 0 ? replacement : in.p + i;
        size_t n = r < 0 ? 3 : w;

        i += w;
        if (in_slash) {
            if (r == '\\' || r == ',' || r == '=') {
                k8c_sbuf_putc(&sb, (char)r);
            } else {
                if (errmsg != NULL)
                    k8c_errmsg_printf(errmsg,
                                      "invalid field selector: invalid escape sequence: \\%.*s",
                                      (int)n, bytes);
                k8c_sbuf_free(&sb);
                return K8C_EPARSE;
            }
            in_slash = false;
            continue;
        }
        if (r == '\\') {
            in_slash = true;
        } else if (r == ',' || r == '=') {
            if (errmsg != NULL)
                k8c_errmsg_printf(
                    errmsg, "invalid field selector: unescaped character in value: %d", (int)r);
            k8c_sbuf_free(&sb);
            return K8C_EPARSE;
        } else {
            k8c_sbuf_append(&sb, bytes, n);
        }
    }
    if (in_slash) {
        set_errmsg(errmsg, "invalid field selector: invalid escape sequence: \\");
        k8c_sbuf_free(&sb);
        return K8C_EPARSE;
    }
    *out = k8c_sbuf_detach(&sb);
    return 0;
}

int api_fields_parse(const char *s, size_t len, struct api_field_selector *sel, char *errmsg)
{
    struct slice *terms = NULL;
    size_t n_terms = 0, cap = 0, start = 0;
    bool in_slash = false;
    int rc = 0;

    api_fields_init(sel);
    if (len > API_SELECTOR_MAX_LEN) {
        if (errmsg != NULL)
            k8c_errmsg_printf(errmsg, "field selector is %zu bytes long, more than the limit %d",
                              len, API_SELECTOR_MAX_LEN);
        return K8C_ETOOBIG;
    }
    if (len > 0 && memchr(s, '\0', len) != NULL) {
        set_errmsg(errmsg, "invalid field selector: NUL byte in selector");
        return K8C_EPARSE;
    }
    if (len == 0)
        return 0;

    /* splitTerms: on ',' not escaped by a backslash; empty terms are kept for now. */
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            if (in_slash) {
                in_slash = false;
                continue;
            }
            if (s[i] == '\\') {
                in_slash = true;
                continue;
            }
            if (s[i] != ',')
                continue;
        }
        if (i > start) {
            if (n_terms == API_SELECTOR_MAX_REQUIREMENTS) {
                if (errmsg != NULL)
                    k8c_errmsg_printf(errmsg, "field selector has more than %d requirements",
                                      API_SELECTOR_MAX_REQUIREMENTS);
                k8c_free(terms);
                return K8C_ETOOBIG;
            }
            if (n_terms == cap) {
                cap = cap ? cap * 2 : 4;
                terms = k8c_realloc(terms, cap * sizeof(*terms));
            }
            terms[n_terms].p = s + start;
            terms[n_terms].len = i - start;
            n_terms++;
        }
        start = i + 1;
    }
    /* Upstream sorts the terms as strings before parsing them. */
    if (n_terms > 1)
        qsort(terms, n_terms, sizeof(*terms), slice_qsort_cmp);

    sel->requirements = n_terms ? k8c_calloc(n_terms, sizeof(*sel->requirements)) : NULL;
    for (size_t t = 0; t < n_terms && rc == 0; t++) {
        struct slice term = terms[t], rhs;
        enum api_selector_op op = API_SELECTOR_EQUALS;
        size_t i, oplen = 0;
        char *value;

        /* splitTerm: the first position where "!=", "==" or "=" starts. */
        for (i = 0; i < term.len; i++) {
            if (term.p[i] == '!' && i + 1 < term.len && term.p[i + 1] == '=') {
                op = API_SELECTOR_NOT_EQUALS;
                oplen = 2;
            } else if (term.p[i] == '=') {
                oplen = i + 1 < term.len && term.p[i + 1] == '=' ? 2 : 1;
            }
            if (oplen != 0)
                break;
        }
        if (oplen == 0) {
            if (errmsg != NULL)
                k8c_errmsg_printf(errmsg, "invalid selector: '%.*s'; can't understand '%.*s'",
                                  (int)len, s, (int)term.len, term.p);
            rc = K8C_EPARSE;
            break;
        }
        rhs.p = term.p + i + oplen;
        rhs.len = term.len - i - oplen;
        if ((rc = unescape_value(rhs, &value, errmsg)) != 0)
            break;
        if (i == 0 && value[0] == '\0') {
            /* Transform drops a term with neither field nor value ("=" selects everything). */
            k8c_free(value);
            continue;
        }
        sel->requirements[sel->n_requirements].field = k8c_strndup(term.p, i);
        sel->requirements[sel->n_requirements].op = op;
        sel->requirements[sel->n_requirements].value = value;
        sel->n_requirements++;
    }
    k8c_free(terms);
    if (rc != 0) {
        api_fields_free(sel);
        return rc;
    }
    if (sel->n_requirements == 0) {
        k8c_free(sel->requirements);
        sel->requirements = NULL;
    }
    return 0;
}

bool api_fields_empty(const struct api_field_selector *sel)
{
    return !sel->nothing && sel->n_requirements == 0;
}

const char *api_fields_value(const struct api_field *fields, size_t n, const char *name)
{
    for (size_t j = 0; fields != NULL && j < n; j++) {
        if (fields[j].name != NULL && strcmp(fields[j].name, name) == 0)
            return fields[j].value != NULL ? fields[j].value : "";
    }
    return "";
}

bool api_fields_matches(const struct api_field_selector *sel, const struct api_field *fields,
                        size_t n)
{
    if (sel->nothing)
        return false;
    for (size_t i = 0; i < sel->n_requirements; i++) {
        const struct api_field_requirement *r = &sel->requirements[i];
        bool equal = strcmp(api_fields_value(fields, n, r->field), r->value) == 0;
        if (equal != (r->op == API_SELECTOR_EQUALS))
            return false;
    }
    return true;
}

int api_fields_check_supported(const struct api_field_selector *sel, const char *const *supported,
                               size_t n, char *errmsg)
{
    for (size_t i = 0; i < sel->n_requirements; i++) {
        const char *field = sel->requirements[i].field;
        bool ok = false;

        for (size_t j = 0; j < n && !ok; j++)
            ok = supported[j] != NULL && strcmp(supported[j], field) == 0;
        if (!ok) {
            if (errmsg != NULL)
                k8c_errmsg_printf(errmsg, "field label not supported: %s", field);
            return K8C_EINVAL;
        }
    }
    return 0;
}

bool api_fields_requires_exact_match(const struct api_field_selector *sel, const char *field,
                                     const char **value)
{
    if (sel->nothing)
        return false;
    for (size_t i = 0; i < sel->n_requirements; i++) {
        const struct api_field_requirement *r = &sel->requirements[i];
        if (r->op == API_SELECTOR_EQUALS && strcmp(r->field, field) == 0) {
            if (value != NULL)
                *value = r->value;
            return true;
        }
    }
    return false;
}

void api_fields_format(const struct api_field_selector *sel, struct k8c_sbuf *out)
{
    if (sel->nothing)
        return;
    for (size_t i = 0; i < sel->n_requirements; i++) {
        const struct api_field_requirement *r = &sel->requirements[i];

        if (i > 0)
            k8c_sbuf_putc(out, ',');
        k8c_sbuf_puts(out, r->field);
        k8c_sbuf_puts(out, r->op == API_SELECTOR_EQUALS ? "=" : "!=");
        for (const char *v = r->value; *v != '\0'; v++) { /* EscapeValue */
            if (*v == '\\' || *v == ',' || *v == '=')
                k8c_sbuf_putc(out, '\\');
            k8c_sbuf_putc(out, *v);
        }
    }
}
