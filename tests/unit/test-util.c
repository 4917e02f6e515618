/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers the rest relies on: file reading, build-id hex, names, errno names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	assert_int_equal(xhp_read_file("/proc", &b, &n, 10), -EISDIR);
}

/* A FIFO, a device or a symbolic link where a file is expected: refused
 * without blocking (a FIFO with no writer would block open() forever), and
 * said in words. */
static void read_file_never_blocks(void **state)
{
	char dir[] = "/tmp/xhp-util-XXXXXX", path[64], link[64];
	struct xhp_err e = { { 0 } };
	struct stat st;
	char *b = NULL;
	size_t n = 0;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10); /* a hang fails the test instead of the tier */
	assert_int_equal(xhp_read_file_err(path, &b, &n, 100, &e), -ENXIO);
	assert_non_null(strstr(e.msg, "/fifo: is a FIFO, not a regular file"));
	assert_int_equal(xhp_read_file("/dev/null", &b, &n, 100), -ENXIO);
	assert_int_equal(xhp_open_regular("/dev/null", 0, &st, &e), -ENXIO);
	assert_string_equal(e.msg, "is a character device, not a regular file");
	assert_int_equal(xhp_open_regular(dir, 0, &st, &e), -EISDIR);
	assert_string_equal(e.msg, "is a directory, not a regular file");

	/* a symbolic link: followed, unless XHP_OPEN_NOFOLLOW */
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink("/proc/self/stat", link), 0);
	fd = xhp_open_regular(link, 0, &st, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(xhp_open_regular(link, XHP_OPEN_NOFOLLOW, &st, &e), -ELOOP);
	assert_string_equal(e.msg, "is a symbolic link, not a regular file");
	alarm(0);
	unlink(link);
	unlink(path);
	rmdir(dir);
}

static void read_file_limits(void **state)
{
	char path[] = "/tmp/xhp-util-XXXXXX";
	struct xhp_err e = { { 0 } };
	char *b = NULL;
	size_t n = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a\0b\n", 4), 4);
	close(fd);
	/* NULs are kept: the length says where the file ends */
	assert_int_equal(xhp_read_file(path, &b, &n, 4), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(b, "a\0b\n", 5);
	free(b);
	assert_int_equal(xhp_read_file_err(path, &b, &n, 3, &e), -EFBIG);
	assert_non_null(strstr(e.msg, ": larger than 3 bytes"));
	unlink(path);
}

static void dir_list_sorted(void **state)
{
	char dir[] = "/tmp/xhp-util-XXXXXX", p[64];
	struct xhp_strv v = { 0 };
	const char *names[] = { "b", "a", ".hidden", "c.conf" };
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < XHP_ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	assert_int_equal(xhp_dir_list(dir, &v), 0);
	assert_int_equal(v.n, 4);
	assert_string_equal(v.v[0], ".hidden");
	assert_string_equal(v.v[1], "a");
	assert_string_equal(v.v[2], "b");
	assert_string_equal(v.v[3], "c.conf");
	for (i = 0; i < XHP_ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		rmdir(p);
	}
	rmdir(dir);
	xhp_strv_free(&v);
	assert_int_equal(xhp_dir_list("/nonexistent", &v), -ENOENT);
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

/* esc_is(IN, WANT): xhp_escape(IN) is WANT */
static void esc_is(const char *in, const char *want)
{
	char *e = xhp_escape(in);

	assert_string_equal(e, want);
	free(e);
}

static void escape_controls_and_backslash(void **state)
{
	(void)state;
	esc_is("plain-name_1.2", "plain-name_1.2");
	esc_is("", "");
	esc_is("a\nb", "a\\nb");
	esc_is("a\nstate: in sync", "a\\nstate: in sync");
	esc_is("line\nstate: in sync", "line\\nstate: in sync");
	esc_is("t\tab\r\a\b\v\f", "t\\tab\\r\\a\\b\\v\\f");
	esc_is("\x1b[31mred\x1b]0;title\x07", "\\x1b[31mred\\x1b]0;title\\a");
	esc_is("\x01\x1f\x7f", "\\x01\\x1f\\x7f");
	esc_is("back\\slash", "back\\\\slash");
	assert_null(xhp_escape(NULL));
}

static void escape_utf8(void **state)
{
	(void)state;
	/* valid UTF-8 prints as it is */
	esc_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7");
	/* invalid: lone continuation, overlong, surrogate, > U+10FFFF, cut */
	esc_is("a\x80" "b", "a\\x80b");
	esc_is("\xc0\xaf", "\\xc0\\xaf");
	esc_is("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	esc_is("\xed\xa0\x80", "\\xed\\xa0\\x80");
	esc_is("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	esc_is("\xff\xfe", "\\xff\\xfe");
	esc_is("cut\xe2\x82", "cut\\xe2\\x82");
	esc_is("\xe2\x82x", "\\xe2\\x82x");
	/* valid but hidden: C1 CSI, line separator, right-to-left override */
	esc_is("\xc2\x9b" "31m", "\\u009b31m");
	esc_is("a\xe2\x80\xa8" "b", "a\\u2028b");
	esc_is("evil\xe2\x80\xaetxt", "evil\\u202etxt");
	esc_is("\xe2\x81\xa6\xe2\x81\xa9", "\\u2066\\u2069");
}

static void escape_n_keeps_nuls(void **state)
{
	char *e;

	(void)state;
	e = xhp_escape_n("a\0b\0", 4);
	assert_string_equal(e, "a\\x00b\\x00");
	free(e);
	e = xhp_escape_n("", 0);
	assert_string_equal(e, "");
	free(e);
}

/* the worst case fits: every byte 4 characters */
static void escape_worst_case(void **state)
{
	char in[257], want[4 * 256 + 1];
	char *e;
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++) {
		in[i] = '\xff';
		snprintf(want + 4 * i, 5, "\\xff");
	}
	in[256] = '\0';
	e = xhp_escape(in);
	assert_string_equal(e, want);
	free(e);
}

static void escape_buf_cuts_at_a_whole_escape(void **state)
{
	char out[12];

	(void)state;
	assert_string_equal(xhp_escape_buf(out, sizeof(out), "short"), "short");
	assert_string_equal(xhp_escape_buf(out, sizeof(out), "exactly-11c"), "exactly-11c");
	assert_string_equal(xhp_escape_buf(out, sizeof(out), "exactly-12ch"), "exactly-...");
	/* "ab\x1b..." would not fit: cut before the escape, never inside it */
	assert_string_equal(xhp_escape_buf(out, sizeof(out), "abcdef\x1bghijk"), "abcdef...");
	assert_string_equal(xhp_escape_buf(out, 4, "abcd"), "...");
	assert_string_equal(xhp_escape_buf(out, 4, "abc"), "abc");
	assert_string_equal(xhp_escape_buf(out, sizeof(out), NULL), "");
}

static void escape_json_only_fixes_invalid_utf8(void **state)
{
	char *e;

	(void)state;
	e = xhp_escape_json("tab\there \xc3\xa9 \\ \x1b");
	assert_string_equal(e, "tab\there \xc3\xa9 \\ \x1b");
	free(e);
	e = xhp_escape_json("bad\xff\xc3");
	assert_string_equal(e, "bad\\xff\\xc3");
	free(e);
	assert_null(xhp_escape_json(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_file_of_proc),
		cmocka_unit_test(read_file_never_blocks),
		cmocka_unit_test(read_file_limits),
		cmocka_unit_test(dir_list_sorted),
		cmocka_unit_test(build_id_hex_round_trip),
		cmocka_unit_test(names),
		cmocka_unit_test(errno_names),
		cmocka_unit_test(path_join),
		cmocka_unit_test(escape_controls_and_backslash),
		cmocka_unit_test(escape_utf8),
		cmocka_unit_test(escape_n_keeps_nuls),
		cmocka_unit_test(escape_worst_case),
		cmocka_unit_test(escape_buf_cuts_at_a_whole_escape),
		cmocka_unit_test(escape_json_only_fixes_invalid_utf8),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
