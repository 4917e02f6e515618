/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers the rest relies on: file reading, build-id hex, names, errno names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void read_file_of_proc(void **state)
{
	char *b = NULL;
	size_t n = 0;

	(void)state;
	/* procfs reports size 0: the reader must read to EOF, not to st_size
	 * (the kill switch reads /proc/cmdline, the xen backend the boot id) */
	assert_int_equal(xhp_read_file("/proc/self/stat", &b, &n, 1 << 16), 0);
	assert_true(n > 10);
	assert_int_equal(strlen(b), n);
	free(b);
	assert_int_equal(xhp_read_file("/proc/self/stat", &b, &n, 4), -EFBIG);
	assert_int_equal(xhp_read_file("/nonexistent/x", &b, &n, 10), -ENOENT);
	assert_int_equal(xhp_read_file("/proc", &b, &n, 10), -EINVAL);
}

static void build_id_hex_round_trip(void **state)
{
	struct xhp_build_id id, back;
	char hex[XHP_BUILD_ID_HEX_SIZE];

	(void)state;
	assert_int_equal(xhp_build_id_from_hex(&id, "00ff10Ab"), 0);
	assert_int_equal(id.len, 4);
	assert_string_equal(xhp_build_id_hex(&id, hex, sizeof(hex)), "00ff10ab");
	assert_int_equal(xhp_build_id_from_hex(&back, hex), 0);
	assert_true(xhp_build_id_eq(&id, &back));
	assert_int_equal(xhp_build_id_from_hex(&id, "abc"), -EINVAL);
	assert_int_equal(xhp_build_id_from_hex(&id, "zz"), -EINVAL);
	assert_int_equal(xhp_build_id_from_hex(&id, ""), -EINVAL);
}

static void names(void **state)
{
	char longname[200];

	(void)state;
	assert_int_equal(xhp_name_check("xsa-123_v2.0"), 0);
	assert_int_equal(xhp_name_check(""), -EINVAL);
	assert_int_equal(xhp_name_check(".."), -EINVAL);
	assert_int_equal(xhp_name_check("a b"), -EINVAL);
	assert_int_equal(xhp_name_check("a/b"), -EINVAL);
	memset(longname, 'a', sizeof(longname));
	longname[XHP_NAME_MAX] = '\0';
	assert_int_equal(xhp_name_check(longname), 0);
	longname[XHP_NAME_MAX] = 'a';
	longname[XHP_NAME_MAX + 1] = '\0';
	assert_int_equal(xhp_name_check(longname), -ENAMETOOLONG);
}

static void errno_names(void **state)
{
	(void)state;
	assert_string_equal(xhp_errno_name(-EBUSY), "EBUSY");
	assert_int_equal(xhp_errno_parse("EOPNOTSUPP"), EOPNOTSUPP);
	assert_int_equal(xhp_errno_parse("16"), 16);
	assert_int_equal(xhp_errno_parse("NOPE"), -1);
}

static void path_join(void **state)
{
	char *p;

	(void)state;
	p = xhp_path_join("/sysroot/", "/etc/x");
	assert_string_equal(p, "/sysroot/etc/x");
	free(p);
	p = xhp_path_join("/", "/etc/x");
	assert_string_equal(p, "/etc/x");
	free(p);
	p = xhp_path_join(NULL, "/etc/x");
	assert_string_equal(p, "/etc/x");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_file_of_proc),
		cmocka_unit_test(build_id_hex_round_trip),
		cmocka_unit_test(names),
		cmocka_unit_test(errno_names),
		cmocka_unit_test(path_join),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
