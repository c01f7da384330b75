/* Unit tests for lib/quantity: parsing, upstream canonical form, comparison, arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "error.h"
#include "quantity.h"

static struct k8c_quantity q(const char *s)
{
    struct k8c_quantity r;

    if (k8c_quantity_parse(s, strlen(s), &r) != 0)
        fail_msg("cannot parse %s", s);
    return r;
}

static void test_canonical(void **state)
{
    /* input, canonical output (upstream resource.Quantity String()) */
    static const char *const cases[][2] = {
        {"0", "0"},
        {"0Mi", "0"},
        {"-0", "0"},
        {"1", "1"},
        {"1.5", "1500m"},
        {"0.5", "500m"},
        {"500m", "500m"},
        {"1000m", "1"},
        {"1000", "1k"},
        {"1500", "1500"},
        {"100Mi", "100Mi"},
        {"64Mi", "64Mi"},
        {"1024Mi", "1Gi"},
        {"0.5Gi", "512Mi"},
        {"1.5Gi", "1536Mi"},
        {"1Ki", "1Ki"},
        {"1023", "1023"},
        {"512", "512"},
        {"1e3", "1e3"},
        {"1E3", "1e3"},
        {"1e6", "1e6"},
        {"1500e-3", "1500e-3"},
        {"0.1Gi", "107374182400m"},
        {"100m", "100m"},
        {"0.001", "1m"},
        {"0.0001", "100u"},
        {"1n", "1n"},
        {"0.1n", "1n"},
        {"1.5k", "1500"},
        {"2k", "2k"},
        {"1M", "1M"},
        {"1G", "1G"},
        {"1T", "1T"},
        {"1P", "1P"},
        {"1E", "1E"},
        {"1Ei", "1Ei"},
        {"-1.5", "-1500m"},
        {"+2", "2"},
        {"12Mi", "12Mi"},
        {"1536Ki", "1536Ki"},
        {"2048Ki", "2Mi"},
        {"100", "100"},
        {"10u", "10u"},
        {"1000n", "1u"},
        {"5.", "5"},
        {"0.5Ki", "512"},
    };
    char buf[K8C_QUANTITY_STR_MAX];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = k8c_quantity_canonicalize(cases[i][0], strlen(cases[i][0]), buf);
        if (rc != 0 || strcmp(buf, cases[i][1]) != 0)
            fail_msg("%s: got %s (rc %d), want %s", cases[i][0], rc ? "-" : buf, rc, cases[i][1]);
    }
}

static void test_invalid(void **state)
{
    static const char *const bad[] = {"",     "m",   "Mi",   "1Mb",  "1 Mi", "1.2.3", "abc", "1e",
                                      "1ee3", "--1", "1Ki5", "0x10", "1i",   "1KiB",  " 1"};
    struct k8c_quantity r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (k8c_quantity_parse(bad[i], strlen(bad[i]), &r) != K8C_EINVAL)
            fail_msg("%s accepted", bad[i]);
    assert_int_equal(k8c_quantity_parse("1e999999", 8, &r), K8C_ETOOBIG);
    assert_int_equal(k8c_quantity_parse("100000000000000000000000000000000000000", 39, &r),
                     K8C_ETOOBIG);
}

static void test_compare_and_values(void **state)
{
    struct k8c_quantity a = q("500m"), b = q("0.5"), c = q("1Gi"), d = q("1G");

    assert_int_equal(k8c_quantity_cmp(&a, &b), 0);
    assert_int_equal(k8c_quantity_cmp(&c, &d), 1);
    assert_int_equal(k8c_quantity_cmp(&d, &c), -1);
    assert_true(k8c_quantity_milli_value(&a) == 500);
    assert_true(k8c_quantity_value(&a) == 1); /* rounds up */
    assert_true(k8c_quantity_value(&c) == 1073741824);
    assert_true(k8c_quantity_milli_value(&(struct k8c_quantity){q("1n").nano, 0}) == 1);
    assert_true(k8c_quantity_value(&(struct k8c_quantity){q("-1.5").nano, 0}) == -2);
    assert_false(k8c_quantity_is_zero(&a));
    assert_true(k8c_quantity_is_zero(&(struct k8c_quantity){q("0Ki").nano, 0}));
}

static void test_arithmetic(void **state)
{
    struct k8c_quantity x = q("100m"), y = q("1.9"), z = q("64Mi"), zero = q("0");
    char buf[K8C_QUANTITY_STR_MAX];

    k8c_quantity_add(&x, &y);
    k8c_quantity_format(&x, buf);
    assert_string_equal(buf, "2");
    k8c_quantity_sub(&x, &(struct k8c_quantity){q("2500m").nano, 0});
    k8c_quantity_format(&x, buf);
    assert_string_equal(buf, "-500m");
    k8c_quantity_add(&z, &(struct k8c_quantity){q("64Mi").nano, K8C_QUANTITY_BINARY_SI});
    k8c_quantity_format(&z, buf);
    assert_string_equal(buf, "128Mi");
    k8c_quantity_mul(&z, 8);
    k8c_quantity_format(&z, buf);
    assert_string_equal(buf, "1Gi");
    /* zero takes the other operand's format */
    k8c_quantity_add(&zero, &(struct k8c_quantity){q("1Gi").nano, K8C_QUANTITY_BINARY_SI});
    assert_int_equal(zero.format, K8C_QUANTITY_BINARY_SI);
    /* saturation instead of overflow */
    struct k8c_quantity big = q("1E");
    for (int i = 0; i < 10; i++)
        k8c_quantity_mul(&big, 1000000);
    assert_true(big.nano > 0);
    struct k8c_quantity m = k8c_quantity_from_milli(1500, K8C_QUANTITY_DECIMAL_SI);
    k8c_quantity_format(&m, buf);
    assert_string_equal(buf, "1500m");
    m = k8c_quantity_from_int(3 << 20, K8C_QUANTITY_BINARY_SI);
    k8c_quantity_format(&m, buf);
    assert_string_equal(buf, "3Mi");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_compare_and_values),
        cmocka_unit_test(test_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
