/* Sizes and durations as the docker CLI reads them (go-units' RAMInBytes and
 * Go's time.ParseDuration), with the same results and the same messages. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/units.h"
#include "util/cleanup.h"
#include "util/error.h"

/* Go's strconv.ParseFloat for what RAMInBytes hands it: no leading space,
 * the whole string must be the number. */
static int parse_float(const char *num, double *ret, struct vsl_error **err)
{
	if (*num == '\0' || strchr(" \t\n\v\f\r", *num))
		return vsl_error_set_code(err, EINVAL, "strconv.ParseFloat: parsing \"%s\": invalid syntax",
		                          num);
	char *end;
	errno = 0;
	double v = strtod(num, &end);
	if (*end != '\0')
		return vsl_error_set_code(err, EINVAL, "strconv.ParseFloat: parsing \"%s\": invalid syntax",
		                          num);
	if (errno == ERANGE && isinf(v))
		return vsl_error_set_code(err, ERANGE,
		                          "strconv.ParseFloat: parsing \"%s\": value out of range", num);
	*ret = v;
	return 0;
}

int units_parse_size(const char *s, int64_t *ret, struct vsl_error **err)
{
	/* The number ends at the last digit, dot or space; the rest is the unit. */
	size_t len = strlen(s), sep = len;
	for (size_t i = len; i > 0; i--)
		if (strchr("0123456789. ", s[i - 1])) {
			sep = i - 1;
			break;
		}
	if (sep == len)
		return vsl_error_set_code(err, EINVAL, "invalid size: '%s'", s);

	_cleanup_free_ char *num = strndup(s, s[sep] == ' ' ? sep : sep + 1);
	if (num == NULL)
		return vsl_error_errno(err, ENOMEM, "parse size");
	const char *sfx = s + sep + 1;
	double size = 0;
	int r = parse_float(num, &size, err);
	if (r < 0)
		return r;
	if (isnan(size) || size < 0)
		return vsl_error_set_code(err, EINVAL, "invalid size: '%s'", s);

	size_t n = strlen(sfx);
	if (n > 3)
		return vsl_error_set_code(err, EINVAL, "invalid suffix: '%s'", sfx);
	char low[4] = {0};
	for (size_t i = 0; i < n; i++)
		low[i] = (char)((sfx[i] >= 'A' && sfx[i] <= 'Z') ? sfx[i] - 'A' + 'a' : sfx[i]);

	double mul = 1;
	if (n > 0 && low[0] == 'b') {
		if (n > 1)
			return vsl_error_set_code(err, EINVAL, "invalid suffix: '%s'", low);
	} else if (n > 0) {
		const char *p = strchr("kmgtp", low[0]);
		if (p == NULL || low[0] == '\0')
			return vsl_error_set_code(err, EINVAL, "invalid suffix: '%s'", low);
		mul = ldexp(1, 10 * (int)(p - "kmgtp" + 1));
		if ((n == 2 && low[1] != 'b') || (n == 3 && strcmp(low + 1, "ib") != 0))
			return vsl_error_set_code(err, EINVAL, "invalid suffix: '%s'", low);
	}
	size *= mul;
	if (size >= 9223372036854775808.0)
		return vsl_error_set_code(err, ERANGE, "invalid size: '%s'", s);
	*ret = (int64_t)size;
	return 0;
}

int parse_size(const char *s, int64_t *ret)
{
	return units_parse_size(s, ret, NULL);
}

#define NS_LIMIT (UINT64_C(1) << 63)

static const struct {
	const char *name;
	uint64_t ns;
} duration_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000}, /* U+03BC greek mu */
    {"ms", 1000000},
    {"s", UINT64_C(1000000000)},
    {"m", UINT64_C(60000000000)},
    {"h", UINT64_C(3600000000000)},
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int units_parse_duration(const char *s, int64_t *ret_ns, struct vsl_error **err)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ret_ns = 0;
		return 0;
	}
	if (*p == '\0')
		return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);

	uint64_t total = 0;
	while (*p) {
		if (*p != '.' && !is_digit(*p))
			return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);

		uint64_t v = 0;
		const char *start = p;
		for (; is_digit(*p); p++) {
			if (v > (NS_LIMIT - 1) / 10)
				return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > NS_LIMIT)
				return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);
		}
		bool pre = p != start, post = false;

		/* Digits of the fraction past what 63 bits hold are dropped, as Go does. */
		uint64_t frac = 0;
		double scale = 1;
		if (*p == '.') {
			p++;
			const char *fs = p;
			bool full = false;
			for (; is_digit(*p); p++) {
				if (full)
					continue;
				if (frac > (NS_LIMIT - 1) / 10) {
					full = true;
					continue;
				}
				uint64_t y = frac * 10 + (uint64_t)(*p - '0');
				if (y > NS_LIMIT) {
					full = true;
					continue;
				}
				frac = y;
				scale *= 10;
			}
			post = p != fs;
		}
		if (!pre && !post)
			return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);

		const char *us = p;
		while (*p && *p != '.' && !is_digit(*p))
			p++;
		size_t ul = (size_t)(p - us);
		if (ul == 0)
			return vsl_error_set_code(err, EINVAL, "time: missing unit in duration \"%s\"", s);
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
			if (strlen(duration_units[i].name) == ul &&
			    memcmp(duration_units[i].name, us, ul) == 0)
				unit = duration_units[i].ns;
		if (unit == 0)
			return vsl_error_set_code(
			    err, EINVAL, "time: unknown unit \"%.*s\" in duration \"%s\"", (int)ul, us, s);

		if (v > NS_LIMIT / unit)
			return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);
		v *= unit;
		if (frac > 0) {
			v += (uint64_t)((double)frac * ((double)unit / scale));
			if (v > NS_LIMIT)
				return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);
		}
		total += v;
		if (total > NS_LIMIT)
			return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);
	}
	if (!neg && total > NS_LIMIT - 1)
		return vsl_error_set_code(err, EINVAL, "time: invalid duration \"%s\"", s);
	*ret_ns = neg ? (int64_t)(0 - total) : (int64_t)total;
	return 0;
}

int parse_duration(const char *s, int64_t *ret_ns)
{
	return units_parse_duration(s, ret_ns, NULL);
}
