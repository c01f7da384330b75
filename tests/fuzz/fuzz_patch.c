/*
 * Fuzz target: the three patch formats (apiserver/patch.c) on untrusted input.
 *
 * Input: the first byte picks the format ('j' JSON Patch, 'm' merge patch, 's' strategic
 * merge patch with the Deployment schema, 'p' with the Pod schema, 'n' with no schema; any
 * other byte maps onto one of these), then the original object as JSON up to the first
 * newline, then the patch as JSON.
 *
 * Must never crash, leak or loop. On success the result must not point into the inputs (they
 * are freed before it is read), must write out and parse back equal, must not depend on the
 * per-call hash seed (two runs agree), and a strategic merge result carries no directives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_directive(const struct k8c_json *v)
{
    if (v->type == K8C_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            if (has_directive(v->u.items[i]))
                return true;
    } else if (v->type == K8C_JSON_OBJECT) {
        for (uint32_t i = 0; i < v->len; i++) {
            const struct k8c_json_member *m = &v->u.members[i];
            if (m->value == NULL)
                return true; /* a deleted member left behind */
            if (strcmp(m->key, "$patch") == 0 || strcmp(m->key, "$retainKeys") == 0 ||
                strncmp(m->key, "$setElementOrder", 16) == 0 ||
                strncmp(m->key, "$deleteFromPrimitiveList", 24) == 0 || has_directive(m->value))
                return true;
        }
    }
    return false;
}

static int run(char mode, const char *orig_text, size_t orig_len, const char *patch_text,
               size_t patch_len, struct k8c_arena *out_arena, struct k8c_json **out)
{
    static const struct api_patch_limits limits = {.max_depth = 0, .max_nodes = 200000};
    struct k8c_arena *in = k8c_arena_new(0);
    struct k8c_json *o = NULL, *p = NULL;
    char err[K8C_ERRMSG_SIZE];
    int rc = -1;

    *out = NULL;
    if (k8c_json_parse(in, orig_text, orig_len, NULL, &o, err) != 0 ||
        k8c_json_parse(in, patch_text, patch_len, NULL, &p, err) != 0)
        goto done;
    switch (mode) {
    case 'j':
        rc = api_patch_json(out_arena, o, p, &limits, out, err);
        break;
    case 'm':
        rc = api_patch_merge(out_arena, o, p, &limits, out, err);
        break;
    case 's':
        rc = api_patch_strategic(out_arena, o, p, api_patch_schema_for_kind("apps", "Deployment"),
                                 &limits, out, err);
        break;
    case 'p':
        rc = api_patch_strategic(out_arena, o, p, api_patch_schema_for_kind("", "Pod"), &limits,
                                 out, err);
        break;
    default:
        rc = api_patch_strategic(out_arena, o, p, NULL, &limits, out, err);
        break;
    }
    if (rc != 0 && (rc > -1001 || *out != NULL || err[0] == '\0'))
        abort(); /* errors are our negative codes, with a message and no result */
done:
    k8c_arena_del(in);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char modes[] = "jmspn";
    const char *text = (const char *)data, *nl;
    struct k8c_arena *a;
    struct k8c_json *r1, *r2, *back;
    char mode, err[K8C_ERRMSG_SIZE];
    size_t orig_len;
    int rc1, rc2;

    if (size < 2)
        return 0;
    mode = strchr(modes, text[0]) && text[0] ? text[0] : modes[data[0] % 5];
    text++;
    size--;
    nl = memchr(text, '\n', size);
    if (nl == NULL)
        return 0;
    orig_len = (size_t)(nl - text);

    a = k8c_arena_new(0);
    rc1 = run(mode, text, orig_len, nl + 1, size - orig_len - 1, a, &r1);
    rc2 = run(mode, text, orig_len, nl + 1, size - orig_len - 1, a, &r2);
    if (rc1 != rc2)
        abort();
    if (rc1 == 0) {
        struct k8c_sbuf sb;
        if (!k8c_json_equal(r1, r2))
            abort(); /* the result must not depend on the hash seed */
        if (mode != 'j' && mode != 'm' && has_directive(r1))
            abort();
        k8c_sbuf_init(&sb);
        k8c_json_write(&sb, r1, 0, 0);
        if (k8c_json_parse(a, sb.data, sb.len, NULL, &back, err) != 0 || !k8c_json_equal(back, r1))
            abort(); /* results stay within the parser's limits */
        k8c_sbuf_free(&sb);
    }
    k8c_arena_del(a);
    return 0;
}
