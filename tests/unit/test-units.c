/* Sizes and durations: the expected values are worked out by hand from
 * go-units' RAMInBytes (binary units, optional b/ib suffix, fractions
 * truncated) and Go's time.ParseDuration grammar; the messages are the ones
 * `docker run -m x` / `--health-interval x` print after the flag prefix. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cli/units.h"
#include "util/error.h"

static void test_size_good(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t want;
	} cases[] = {
	    {"0", 0},
	    {"32", 32},
	    {"32b", 32},
	    {"32B", 32},
	    {"32k", 32768},
	    {"32K", 32768},
	    {"32kb", 32768},
	    {"32Kb", 32768},
	    {"32KiB", 32768},
	    {"32Mb", 33554432},
	    {"64mb", 67108864},
	    {"512m", 536870912},
	    {"32Gb", 34359738368},
	    {"1g", 1073741824},
	    {"32GB", 34359738368},
	    {"32Tb", 35184372088832},
	    {"32PB", 36028797018963968},
	    {"1.5g", 1610612736},
	    {"0.5k", 512},
	    {"1.3k", 1331}, /* 1331.2 truncated */
	    {"10 MB", 10485760},
	    {".5m", 524288},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		if (parse_size(cases[i].in, &v) != 0 || v != cases[i].want)
			fail_msg("parse_size(\"%s\") = %lld, want %lld", cases[i].in, (long long)v,
			         (long long)cases[i].want);
	}
}

static void test_size_bad(void **state)
{
	(void)state;
	static const struct {
		const char *in, *msg;
	} cases[] = {
	    {"x", "invalid size: 'x'"},
	    {"", "invalid size: ''"},
	    {"-1", "invalid size: '-1'"},
	    {"m", "invalid size: 'm'"},
	    {"32x", "invalid suffix: 'x'"},
	    {"32mbb", "invalid suffix: 'mbb'"},
	    {"32bb", "invalid suffix: 'bb'"},
	    {"32kx", "invalid suffix: 'kx'"},
	    {"32kia", "invalid suffix: 'kia'"},
	    {"1.2.3", "strconv.ParseFloat: parsing \"1.2.3\": invalid syntax"},
	    /* past int64: go-units would wrap around; refused here */
	    {"99999999999p", "invalid size: '99999999999p'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 42;
		struct vsl_error *err = NULL;
		int r = units_parse_size(cases[i].in, &v, &err);
		if (r >= 0 || err == NULL)
			fail_msg("units_parse_size(\"%s\") accepted", cases[i].in);
		assert_string_equal(vsl_error_message(err), cases[i].msg);
		assert_int_equal(v, 42); /* untouched on failure */
		vsl_error_free(err);
		assert_int_equal(parse_size(cases[i].in, &v), r);
	}
}

static void test_duration_good(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t want;
	} cases[] = {
	    {"0", 0},
	    {"-0", 0},
	    {"5s", 5000000000},
	    {"30s", 30000000000},
	    {"1478s", 1478000000000},
	    {"-5s", -5000000000},
	    {"+5s", 5000000000},
	    {"500ms", 500000000},
	    {"1.5h", 5400000000000},
	    {"1m30s", 90000000000},
	    {"2h45m", 9900000000000},
	    {"10ns", 10},
	    {"11us", 11000},
	    {"12\xc2\xb5s", 12000},
	    {"13\xce\xbcs", 13000},
	    {".5s", 500000000},
	    {"1.s", 1000000000},
	    {"1.004s", 1004000000},
	    {"3h30m", 12600000000000},
	    {"1h1m1s1ms1us1ns", 3661001001001},
	    {"9223372036854775807ns", INT64_MAX},
	    {"-9223372036854775808ns", INT64_MIN},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		if (parse_duration(cases[i].in, &v) != 0 || v != cases[i].want)
			fail_msg("parse_duration(\"%s\") = %lld, want %lld", cases[i].in, (long long)v,
			         (long long)cases[i].want);
	}
}

static void test_duration_bad(void **state)
{
	(void)state;
	static const struct {
		const char *in, *msg;
	} cases[] = {
	    {"", "time: invalid duration \"\""},
	    {"x", "time: invalid duration \"x\""},
	    {"-", "time: invalid duration \"-\""},
	    {".s", "time: invalid duration \".s\""},
	    {"1", "time: missing unit in duration \"1\""},
	    {"1.5", "time: missing unit in duration \"1.5\""},
	    {"3000000h", "time: invalid duration \"3000000h\""},
	    {"9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""},
	    {"1x", "time: unknown unit \"x\" in duration \"1x\""},
	    {"1sec", "time: unknown unit \"sec\" in duration \"1sec\""},
	    {"1d", "time: unknown unit \"d\" in duration \"1d\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 42;
		struct vsl_error *err = NULL;
		if (units_parse_duration(cases[i].in, &v, &err) >= 0 || err == NULL)
			fail_msg("units_parse_duration(\"%s\") accepted", cases[i].in);
		assert_string_equal(vsl_error_message(err), cases[i].msg);
		assert_int_equal(v, 42);
		vsl_error_free(err);
		assert_int_equal(parse_duration(cases[i].in, &v), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_good),
	    cmocka_unit_test(test_size_bad),
	    cmocka_unit_test(test_duration_good),
	    cmocka_unit_test(test_duration_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
