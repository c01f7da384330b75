/*
 * Unit tests of store/maint's member records: parsing and formatting, and
 * how the three raft request types are merged into the MVCC's "members"
 * table (publish keeps peer URLs, add/update keeps name and client URLs,
 * remove deletes, garbage is a per-request error).
 */
#define _GNU_SOURCE /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "error.h"
#include "maint.h"
#include "mvcc.h"

static char g_root[256];
static int g_dirs;

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_root, sizeof(g_root), "/tmp/k8c-test-maint-XXXXXX");
    return mkdtemp(g_root) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    nftw(g_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static struct store_mvcc *open_store(void)
{
    struct store_mvcc_options o = {0};
    char dir[512], err[K8C_ERRMSG_SIZE] = "";
    struct store_mvcc *m = NULL;

    snprintf(dir, sizeof(dir), "%s/s%d", g_root, ++g_dirs);
    o.dir = dir;
    assert_int_equal(store_mvcc_open(&o, &m, err), 0);
    return m;
}

static uint64_t g_index;

/* Applies one request in its own batch; returns the request's status. */
static int apply(struct store_mvcc *m, uint8_t type, const void *data, size_t len)
{
    struct store_cmd_req req = {.type = type, .id = 1, .data = data, .len = len};
    int status = -1;

    assert_int_equal(store_mvcc_begin_batch(m), 0);
    assert_int_equal(store_maint_apply_member(m, &req, &status), 0);
    assert_int_equal(store_mvcc_commit_batch(m, ++g_index, 1, NULL), 0);
    return status;
}

static int apply_text(struct store_mvcc *m, const char *text)
{
    return apply(m, STORE_CMD_MEMBER_UPDATE, text, strlen(text));
}

static int apply_member(struct store_mvcc *m, uint64_t id, const char *url1, const char *url2,
                        bool learner)
{
    Etcdserverpb__Member pm = ETCDSERVERPB__MEMBER__INIT;
    char *urls[2] = {(char *)url1, (char *)url2};
    uint8_t buf[1024];
    size_t len;

    pm.id = id;
    pm.n_peerurls = url2 ? 2 : 1;
    pm.peerurls = urls;
    pm.islearner = learner;
    len = etcdserverpb__member__pack(&pm, buf);
    return apply(m, STORE_CMD_MEMBER_ADD, buf, len);
}

static int apply_remove(struct store_mvcc *m, uint64_t id)
{
    Etcdserverpb__MemberRemoveRequest r = ETCDSERVERPB__MEMBER_REMOVE_REQUEST__INIT;
    uint8_t buf[64];
    size_t len;

    r.id = id;
    len = etcdserverpb__member_remove_request__pack(&r, buf);
    return apply(m, STORE_CMD_MEMBER_REMOVE, buf, len);
}

static void test_parse_format(void **state)
{
    struct store_maint_member m, back;
    char buf[STORE_MAINT_RECORD_MAX];
    size_t len;

    (void)state;
    /* The three-line form the leader published before peer URLs existed. */
    assert_int_equal(store_maint_record_parse("1a2b\ns0\nhttp://c:1", 18, &m), 0);
    assert_true(m.id == 0x1a2b);
    assert_string_equal(m.name, "s0");
    assert_string_equal(m.client_urls, "http://c:1");
    assert_string_equal(m.peer_urls, "");
    assert_false(m.learner);

    memset(&m, 0, sizeof(m));
    m.id = 0x7fffffffffffffffULL;
    snprintf(m.name, sizeof(m.name), "node-a");
    snprintf(m.client_urls, sizeof(m.client_urls), "http://127.0.0.1:2379,http://x:2379");
    snprintf(m.peer_urls, sizeof(m.peer_urls), "http://127.0.0.1:2380");
    m.learner = true;
    len = store_maint_record_format(&m, buf, sizeof(buf));
    assert_true(len > 0);
    assert_string_equal(buf, "7fffffffffffffff\nnode-a\nhttp://127.0.0.1:2379,http://x:2379\n"
                             "http://127.0.0.1:2380\nlearner");
    assert_int_equal(store_maint_record_parse(buf, len, &back), 0);
    assert_memory_equal(&m, &back, sizeof(m));
    /* Too small a buffer: 0, not a truncated record. */
    assert_int_equal(store_maint_record_format(&m, buf, 20), 0);
}

static void test_parse_rejects(void **state)
{
    struct store_maint_member m;
    char long_name[600];

    (void)state;
    assert_int_equal(store_maint_record_parse("", 0, &m), K8C_EPARSE);
    assert_int_equal(store_maint_record_parse("\nname", 5, &m), K8C_EPARSE);
    assert_int_equal(store_maint_record_parse("0\nname", 6, &m), K8C_EPARSE);
    assert_int_equal(store_maint_record_parse("xyz\nname", 8, &m), K8C_EPARSE);
    assert_int_equal(store_maint_record_parse("\x08\x01\x12", 3, &m), K8C_EPARSE);
    memset(long_name, 'n', sizeof(long_name));
    memcpy(long_name, "12\n", 3);
    assert_int_equal(store_maint_record_parse(long_name, sizeof(long_name), &m), K8C_EPARSE);
}

static void test_apply_merges(void **state)
{
    struct store_mvcc *m = open_store();
    struct store_maint_member rec;

    (void)state;
    assert_int_equal(store_maint_record_get(m, 0x42, &rec), K8C_ENOTFOUND);
    /* MemberAdd: peer URLs only, an unstarted member. */
    assert_int_equal(apply_member(m, 0x42, "http://127.0.0.1:2380", NULL, false), 0);
    assert_int_equal(store_maint_record_get(m, 0x42, &rec), 0);
    assert_string_equal(rec.name, "");
    assert_string_equal(rec.peer_urls, "http://127.0.0.1:2380");
    /* The member starts and publishes: name and client URLs join, peers stay. */
    assert_int_equal(apply_text(m, "42\ns3\nhttp://127.0.0.1:2379"), 0);
    assert_int_equal(store_maint_record_get(m, 0x42, &rec), 0);
    assert_string_equal(rec.name, "s3");
    assert_string_equal(rec.client_urls, "http://127.0.0.1:2379");
    assert_string_equal(rec.peer_urls, "http://127.0.0.1:2380");
    /* A publish that carries more lines cannot change peer URLs or flags. */
    assert_int_equal(apply_text(m, "42\ns3\nhttp://127.0.0.1:2379\nhttp://evil:1\nlearner"), 0);
    assert_int_equal(store_maint_record_get(m, 0x42, &rec), 0);
    assert_string_equal(rec.peer_urls, "http://127.0.0.1:2380");
    assert_false(rec.learner);
    /* MemberUpdate: new peer URLs, name and client URLs stay. */
    assert_int_equal(apply_member(m, 0x42, "http://127.0.0.1:2380", "http://localhost:2380", true),
                     0);
    assert_int_equal(store_maint_record_get(m, 0x42, &rec), 0);
    assert_string_equal(rec.name, "s3");
    assert_string_equal(rec.peer_urls, "http://127.0.0.1:2380,http://localhost:2380");
    assert_true(rec.learner);
    /* Another member is independent; remove deletes only the one. */
    assert_int_equal(apply_text(m, "7\ns0\nhttp://a:1"), 0);
    assert_int_equal(apply_remove(m, 0x42), 0);
    assert_int_equal(store_maint_record_get(m, 0x42, &rec), K8C_ENOTFOUND);
    assert_int_equal(store_maint_record_get(m, 0x7, &rec), 0);
    assert_string_equal(rec.name, "s0");
    /* Removing an unknown member is no error (raft already removed it). */
    assert_int_equal(apply_remove(m, 0x42), 0);
    store_mvcc_close(m);
}

static void test_apply_garbage(void **state)
{
    struct store_mvcc *m = open_store();
    struct store_mvcc_member *list = NULL;
    uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
    char comma_url[] = "http://a:1,http://b:2";
    size_t n = 0;

    (void)state;
    assert_int_equal(apply(m, STORE_CMD_MEMBER_UPDATE, junk, sizeof(junk)), K8C_EINVAL);
    assert_int_equal(apply(m, STORE_CMD_MEMBER_ADD, junk, sizeof(junk)), K8C_EINVAL);
    assert_int_equal(apply(m, STORE_CMD_MEMBER_REMOVE, junk, sizeof(junk)), K8C_EINVAL);
    assert_int_equal(apply_member(m, 0, "http://a:1", NULL, false), K8C_EINVAL);
    assert_int_equal(apply_remove(m, 0), K8C_EINVAL);
    /* A URL with the separator in it would read back as two. */
    assert_int_equal(apply_member(m, 5, comma_url, NULL, false), K8C_EINVAL);
    assert_int_equal(apply(m, STORE_CMD_PUT, "x", 1), K8C_EINVAL);
    assert_int_equal(store_mvcc_member_list(m, &list, &n), 0);
    assert_int_equal(n, 0);
    store_mvcc_members_free(list, n);
    store_mvcc_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_apply_merges),
        cmocka_unit_test(test_apply_garbage),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
