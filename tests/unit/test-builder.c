/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of the payload builder's helpers (src/builder/): SHA-1 (the
 * payload's own build-id) against FIPS 180 test vectors, GCC symbol-name
 * suffixes, the probes for PC-relative references, the one-line refusal.
 * The engine as a whole is tested by the builder tier on real objects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "builder/diag.h"
#include "builder/obj.h"
#include "builder/out.h"
#include "builder/target.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void sha1_of(const void *p, size_t n, size_t chunk, char out[41])
{
	struct sha1 c;
	uint8_t d[20];
	size_t off;

	sha1_init(&c);
	for (off = 0; off < n; off += chunk)
		sha1_update(&c, (const uint8_t *)p + off, n - off < chunk ? n - off : chunk);
	sha1_final(&c, d);
	hex(d, 20, out);
}

static void test_sha1_vectors(void **state)
{
	static const char two_blocks[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char out[41], million[1000];
	struct sha1 c;
	uint8_t d[20];
	int i;

	(void)state;
	sha1_of("", 0, 1, out);
	assert_string_equal(out, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	sha1_of("abc", 3, 1, out);
	assert_string_equal(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1_of(two_blocks, strlen(two_blocks), 7, out);
	assert_string_equal(out, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	/* a million 'a', fed in pieces that straddle blocks */
	memset(million, 'a', sizeof(million));
	sha1_init(&c);
	for (i = 0; i < 1000; i++)
		sha1_update(&c, million, sizeof(million));
	sha1_final(&c, d);
	hex(d, 20, out);
	assert_string_equal(out, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_base_names(void **state)
{
	static const char *const cases[][2] = {
		{ "calls.3", "calls" },       { "f.isra.0", "f.isra" },
		{ "f.constprop.12", "f.constprop" }, { "__func__.7", "__func__" },
		{ "plain", "plain" },         { "v2", "v2" },
		{ "x.", "x." },               { ".5", "" },
		{ "f.cold", "f.cold" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sym_base_name(cases[i][0], out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
	}
	sym_base_name("truncated.1", out, 4);
	assert_string_equal(out, "tru");
}

static void test_cold_names(void **state)
{
	struct osym s = { .type = STT_FUNC };

	(void)state;
	s.name = "f.cold";
	assert_true(sym_is_cold(&s));
	s.name = "f.part.0.cold";
	assert_true(sym_is_cold(&s));
	s.name = "f.cold.2";
	assert_true(sym_is_cold(&s));
	s.name = "f.coldfish";
	assert_false(sym_is_cold(&s));
	s.name = ".cold";
	assert_false(sym_is_cold(&s));
	s.type = STT_OBJECT;
	s.name = "f.cold";
	assert_false(sym_is_cold(&s));
}

static void test_probes(void **state)
{
	struct osec text = { .name = ".text.f" }, data = { .name = ".data" };
	struct osym sec = { .type = STT_SECTION }, lbl = { .type = STT_NOTYPE };
	struct orela r = { .type = R_X86_64_PC32, .sym = &sec, .addend = 0x10 - 4 };
	int64_t p[MAX_PROBES];

	(void)state;
	text.sh.sh_flags = SHF_ALLOC | SHF_EXECINSTR;
	data.sh.sh_flags = SHF_ALLOC | SHF_WRITE;
	/* from code: the field may be followed by an immediate of 0, 1, 2, 4 */
	assert_int_equal(default_probes(&text, &r, p), 4);
	assert_int_equal(p[0], 0x10);
	assert_int_equal(p[1], 0x11);
	assert_int_equal(p[2], 0x12);
	assert_int_equal(p[3], 0x14);
	/* from data (".long x - .") and absolute references: exact */
	assert_int_equal(default_probes(&data, &r, p), 1);
	assert_int_equal(p[0], 0x10 - 4);
	r.type = R_X86_64_64;
	r.addend = 0x20;
	assert_int_equal(default_probes(&text, &r, p), 1);
	assert_int_equal(p[0], 0x20);
	/* a label adds its own value */
	lbl.s.st_value = 0x100;
	r.sym = &lbl;
	assert_int_equal(rela_raw(&r), 0x120);
}

static void test_refusal_is_one_escaped_line(void **state)
{
	struct diag d = { .set = false };

	(void)state;
	assert_int_equal(diag_refuse(&d, "common/x.c", "bad\nname", "changed %s", "data"), -1);
	assert_string_equal(d.msg, "common/x.c: bad\\x0aname: changed data");
	/* the first refusal stays */
	diag_refuse(&d, "other.c", NULL, "later");
	assert_string_equal(d.msg, "common/x.c: bad\\x0aname: changed data");
	d.set = false;
	diag_refuse(&d, "f.c", NULL, "no symbol");
	assert_string_equal(d.msg, "f.c: no symbol");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1_vectors),
		cmocka_unit_test(test_base_names),
		cmocka_unit_test(test_cold_names),
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_refusal_is_one_escaped_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
