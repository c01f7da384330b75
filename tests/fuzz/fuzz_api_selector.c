/* Fuzz target: label and field selector parsers (apiserver/selector.c), and the
 * metav1.LabelSelector conversion. Must never crash, leak or loop; a parsed selector's
 * canonical form must parse again to the same canonical form and select the same labels. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "error.h"
#include "selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelector__MatchLabelsEntry match_entry_t;
typedef K8s__Io__Apimachinery__Pkg__Apis__Meta__V1__LabelSelectorRequirement expr_t;

#define MAX_LABELS 16

/* Labels made from a selector's own keys and values, so matching gets real work. */
static size_t labels_from(const struct api_label_selector *sel, struct api_label *out,
                          unsigned variant)
{
    size_t n = 0;

    for (size_t i = 0; i < sel->n_requirements && n < MAX_LABELS; i++) {
        const struct api_label_requirement *r = &sel->requirements[i];
        if ((variant >> (i % 8)) & 1)
            continue;
        out[n].key = r->key;
        out[n].value = r->n_values ? r->values[(variant + i) % r->n_values] : "7";
        n++;
    }
    return n;
}

static void fuzz_labels(const char *s, size_t len)
{
    struct api_label_selector sel, again;
    struct k8c_sbuf f1, f2;
    char err[K8C_ERRMSG_SIZE];

    if (api_labels_parse(s, len, &sel, err) != 0) {
        if (!api_labels_empty(&sel) || strlen(err) >= K8C_ERRMSG_SIZE)
            abort();
        api_labels_free(&sel);
        return;
    }
    k8c_sbuf_init(&f1);
    k8c_sbuf_init(&f2);
    api_labels_format(&sel, &f1);
    if (api_labels_parse(f1.data ? f1.data : "", f1.len, &again, err) != 0)
        abort(); /* our canonical form must parse */
    api_labels_format(&again, &f2);
    if (f1.len != f2.len || (f1.len && memcmp(f1.data, f2.data, f1.len) != 0))
        abort(); /* and be a fixed point */
    for (unsigned variant = 0; variant < 4; variant++) {
        struct api_label labels[MAX_LABELS];
        size_t n = labels_from(&sel, labels, variant * 37);
        if (api_labels_matches(&sel, labels, n) != api_labels_matches(&again, labels, n))
            abort();
    }
    for (size_t i = 0; i < sel.n_requirements; i++) {
        const char *v;
        (void)api_labels_requires_exact_match(&sel, sel.requirements[i].key, &v);
    }

    /* The same selector as a metav1.LabelSelector, when every operator has a counterpart. */
    if (sel.n_requirements > 0 && sel.n_requirements <= 64) {
        api_label_selector_msg_t msg =
            K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR__INIT;
        expr_t exprs[64];
        expr_t *ptrs[64];
        bool ok = true;

        for (size_t i = 0; i < sel.n_requirements && ok; i++) {
            const struct api_label_requirement *r = &sel.requirements[i];
            expr_t init =
                K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR_REQUIREMENT__INIT;
            exprs[i] = init;
            exprs[i].key = r->key;
            exprs[i].n_values = r->n_values;
            exprs[i].values = r->values;
            switch (r->op) {
            case API_SELECTOR_IN:
            case API_SELECTOR_EQUALS:
            case API_SELECTOR_DOUBLE_EQUALS:
                exprs[i].operator_ = "In";
                break;
            case API_SELECTOR_NOT_IN:
            case API_SELECTOR_NOT_EQUALS:
                exprs[i].operator_ = "NotIn";
                break;
            case API_SELECTOR_EXISTS:
                exprs[i].operator_ = "Exists";
                break;
            case API_SELECTOR_DOES_NOT_EXIST:
                exprs[i].operator_ = "DoesNotExist";
                break;
            default:
                ok = false;
                break;
            }
            ptrs[i] = &exprs[i];
        }
        if (ok) {
            struct api_label_selector conv;
            msg.n_matchexpressions = sel.n_requirements;
            msg.matchexpressions = ptrs;
            if (api_labels_from_label_selector(&msg, &conv, err) != 0)
                abort(); /* everything the parser accepts converts */
            for (unsigned variant = 0; variant < 4; variant++) {
                struct api_label labels[MAX_LABELS];
                size_t n = labels_from(&sel, labels, variant * 53 + 1);
                if (api_labels_matches(&sel, labels, n) != api_labels_matches(&conv, labels, n))
                    abort();
            }
            api_labels_free(&conv);
        }
    }
    k8c_sbuf_free(&f2);
    k8c_sbuf_free(&f1);
    api_labels_free(&again);
    api_labels_free(&sel);
}

static void fuzz_fields(const char *s, size_t len)
{
    struct api_field_selector sel, again, third;
    struct k8c_sbuf f1, f2, f3;
    char err[K8C_ERRMSG_SIZE];
    static const char *const supported[] = {"metadata.name", "spec.nodeName"};

    if (api_fields_parse(s, len, &sel, err) != 0) {
        if (!api_fields_empty(&sel))
            abort();
        api_fields_free(&sel);
        return;
    }
    (void)api_fields_check_supported(&sel, supported, 2, err);
    k8c_sbuf_init(&f1);
    k8c_sbuf_init(&f2);
    k8c_sbuf_init(&f3);
    api_fields_format(&sel, &f1);
    if (api_fields_parse(f1.data ? f1.data : "", f1.len, &again, err) != 0)
        abort();
    if (again.n_requirements != sel.n_requirements)
        abort();
    api_fields_format(&again, &f2);
    if (api_fields_parse(f2.data ? f2.data : "", f2.len, &third, err) != 0)
        abort();
    api_fields_format(&third, &f3);
    if (f2.len != f3.len || (f2.len && memcmp(f2.data, f3.data, f2.len) != 0))
        abort();
    {
        struct api_field fields[MAX_LABELS];
        size_t n = 0;
        for (size_t i = 0; i < sel.n_requirements && n < MAX_LABELS; i++, n++) {
            fields[n].name = sel.requirements[i].field;
            fields[n].value = sel.requirements[i].value;
        }
        if (api_fields_matches(&sel, fields, n) != api_fields_matches(&again, fields, n))
            abort();
        for (size_t i = 0; i < n; i++) {
            const char *v;
            (void)api_fields_requires_exact_match(&sel, fields[i].name, &v);
        }
    }
    k8c_sbuf_free(&f3);
    k8c_sbuf_free(&f2);
    k8c_sbuf_free(&f1);
    api_fields_free(&third);
    api_fields_free(&again);
    api_fields_free(&sel);
}

/* A metav1.LabelSelector straight from the bytes: newline-separated key, operator, values. */
static void fuzz_label_selector_msg(const char *s, size_t len)
{
    api_label_selector_msg_t msg = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR__INIT;
    expr_t expr = K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR_REQUIREMENT__INIT;
    match_entry_t ml =
        K8S__IO__APIMACHINERY__PKG__APIS__META__V1__LABEL_SELECTOR__MATCH_LABELS_ENTRY__INIT;
    expr_t *exprs[1] = {&expr};
    match_entry_t *mls[1] = {&ml};
    char *copy = k8c_strndup(s, len), *parts[8];
    size_t n = 0;
    struct api_label_selector sel;
    char err[K8C_ERRMSG_SIZE];

    for (char *p = copy, *nl; n < 8; p = nl + 1) {
        parts[n++] = p;
        if ((nl = strchr(p, '\n')) == NULL)
            break;
        *nl = '\0';
    }
    expr.key = parts[0];
    expr.operator_ = n > 1 ? parts[1] : "Exists";
    expr.n_values = n > 2 ? n - 2 : 0;
    expr.values = n > 2 ? parts + 2 : NULL;
    msg.n_matchexpressions = 1;
    msg.matchexpressions = exprs;
    if (n > 2) {
        ml.key = parts[2];
        ml.value = parts[n - 1];
        msg.n_matchlabels = 1;
        msg.matchlabels = mls;
    }
    if (api_labels_from_label_selector(&msg, &sel, err) == 0) {
        struct api_label labels[2] = {{parts[0], n > 2 ? parts[2] : ""}, {ml.key, ml.value}};
        (void)api_labels_matches(&sel, labels, n > 2 ? 2 : 1);
    }
    api_labels_free(&sel);
    k8c_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    if (size > API_SELECTOR_MAX_LEN + 16)
        return 0;
    fuzz_labels(s, size);
    fuzz_fields(s, size);
    fuzz_label_selector_msg(s, size);
    return 0;
}
