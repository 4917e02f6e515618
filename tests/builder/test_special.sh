#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# What travels with a changed function: its switch jump table, its
# exception-table entries and fixup code, its bug frames (assertions as
# 16-byte pairs), its alternatives and their replacement code, its .cold
# part; and the hook pointers a patch declares. Entries of unchanged
# functions stay out.
# shellcheck source=tests/builder/lib.sh
. "$(dirname "$0")/lib.sh"

# sec_size NAME [FILE]: size of a section in bytes (decimal), empty if none
sec_size() {
	_h=$(readelf -SW "${2:-$OUT}" | sed -n "s/^ *\\[ *[0-9]*\\] $1 *[A-Z]* *[0-9a-f]* [0-9a-f]* \\([0-9a-f]*\\) .*/\\1/p")
	[ -n "$_h" ] && printf '%d\n' "0x$_h"
}

test_jump_table_is_copied_and_points_into_the_payload() {
	EXTRA_CFLAGS="-fjump-tables"
	cat <<'EOF' | orig t
int pick(int x)
{
	switch (x) {
	case 0: return printk("a");
	case 1: return 17; case 2: return 29; case 3: return 31; case 4: return 43;
	case 5: return 59; case 6: return 61; case 7: return 73; case 8: return 89;
	default: return -1;
	}
}
EOF
	sed 's/return 43/return 44/' "$T/o/common/t.c" | patched t
	mini_build t
	assertNotEquals "the compiler made a jump table" "" "$(relas .rodata.pick "$T/p/common/t.o")"
	engine
	assert_built
	assertEquals "funcs" "pick" "$(funcs | cut -d' ' -f1)"
	# every entry of the copied table points into the payload's .text
	_rel=$(relas .rodata)
	assertNotEquals "the table is in the payload" "" "$_rel"
	assertEquals "all entries target the copy" "" "$(printf '%s\n' "$_rel" | grep -v ' \.text+')"
}

test_exception_table_entry_and_fixup_code_follow() {
	cat <<'EOF' | orig t
int peek(const int *p) { int v; if (read_may_fault(p, &v)) return -1; return v; }
int other(const int *p) { int v; return read_may_fault(p, &v) ? 0 : v + 1; }
EOF
	sed 's/return -1; return v;/return -2; return v;/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_built
	assertEquals "funcs" "peek" "$(funcs | cut -d' ' -f1)"
	assertEquals "one entry (peek's, not other's)" 8 "$(sec_size .ex_table)"
	assert_lines "R_X86_64_PC32 .text+$(relas .ex_table | head -n 1 | sed 's/.*+//')
R_X86_64_PC32 .fixup+0" "$(relas .ex_table)" "entry: faulting instruction in .text, continuation in .fixup"
	assertEquals "one fixup chunk" "$(($(sec_size .fixup "$T/p/common/t.o") / 2))" "$(sec_size .fixup)"
	assertEquals "the fixup jumps back into the copy" "R_X86_64_PC32" "$(relas .fixup | cut -d' ' -f1)"
	assert_has "$(relas .fixup | cut -d' ' -f2 | cut -d+ -f1)" ".text" "fixup target"
}

test_bug_frames_and_assertion_pairs() {
	cat <<'EOF' | orig t
int check(int x) { if (x > 3) WARN_ON_FRAME(); if (x < 0) ASSERT_FRAME("x >= 0"); return x; }
int keep(int x) { if (x) WARN_ON_FRAME(); return 1; }
EOF
	sed 's/return x; }/return x + 1; }/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_built
	assertEquals "one warn frame" 8 "$(sec_size .bug_frames.1)"
	assertEquals "one assertion: a 16-byte pair" 16 "$(sec_size .bug_frames.3)"
	assert_has "$(strings_of .rodata.str)" "common/t.c" "the file name the frames point at"
	assert_has "$(strings_of .rodata.str)" "x >= 0" "the assertion's message"
	# line numbers ride in the top bits of the displacements: kept as written
	_want=$(relas .bug_frames.1 "$T/p/common/t.o" | sed -n '1s/.*+//p')
	_got=$(relas .bug_frames.1 | sed -n '1s/.*+//p')
	assertEquals "line bits kept" "$(printf '%d' "0x$_want" | awk '{ print int($1 / 16777216) }')" \
		"$(printf '%d' "0x$_got" | awk '{ print int($1 / 16777216) }')"
	assertEquals "all frame fields point into the payload" "" \
		"$( (relas .bug_frames.1; relas .bug_frames.3) | grep -v -e ' \.text+' -e ' \.rodata\.str+')"
}

test_alternatives_and_replacement_code() {
	cat <<'EOF' | orig t
void stac_user(int *p) { ALT_CLAC(); *p = 1; }
void stac_other(int *p) { ALT_CLAC(); *p = 3; }
EOF
	sed 's/\*p = 1;/*p = 2;/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_built
	assertEquals "one alt_instr" 14 "$(sec_size .altinstructions)"
	assertEquals "its replacement" 3 "$(sec_size .altinstr_replacement)"
	assert_lines "R_X86_64_PC32 .text+0
R_X86_64_PC32 .altinstr_replacement+0" "$(relas .altinstructions | sed 's/+[0-9a-f]*$/+0/')" \
		"original in .text, replacement in .altinstr_replacement"
}

test_two_alternatives_whose_replacements_start_at_one_offset() {
	# ALTERNATIVE_2 with an empty first replacement: both start at the
	# same offset of .altinstr_replacement, the second 3 bytes long
	cat <<'EOF' | orig t
void two_alts(int *p)
{
	asm volatile("661: .byte 0x0f, 0x1f, 0x00\n662:\n"
		     " .pushsection .altinstructions, \"a\", @progbits\n"
		     " .long 661b - ., 663f - .\n .word 0x26f\n .byte 662b - 661b, 664f - 663f, 0, 0\n"
		     " .long 661b - ., 665f - .\n .word 0x270\n .byte 662b - 661b, 666f - 665f, 0, 0\n"
		     " .popsection\n .pushsection .altinstr_replacement, \"ax\", @progbits\n"
		     "663:\n664:\n665: .byte 0x0f, 0x01, 0xca\n666:\n .popsection" ::: "memory");
	*p = 1;
}
EOF
	sed 's/\*p = 1;/*p = 2;/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_built
	assertEquals "two alt_instr" 28 "$(sec_size .altinstructions)"
	assertEquals "the 3-byte replacement, once" 3 "$(sec_size .altinstr_replacement)"
}

test_hooks_go_to_their_sections() {
	cat <<'EOF' | orig t
int f(int x) { return x + 1; }
EOF
	cat <<'EOF' | patched t
int f(int x) { return x + 2; }
static void on_load(void) { global_counter++; }
static int pre_apply(void *p) { (void)p; return 0; }
HOOK(load, on_load);
HOOK(preapply, pre_apply);
EOF
	mini_build t
	engine
	assert_built
	assertEquals "funcs: f only" "f" "$(funcs | cut -d' ' -f1)"
	assertEquals "hooks" "load,preapply true" \
		"$("$XHP_BIN" --json info "$OUT" | jq -r '.[0] | "\(.hooks | join(",")) \(.vetoing_hooks)"')"
	assert_has "$(relas .livepatch.hooks.load | sed 's/+[0-9a-f]*$//')" "R_X86_64_64 .text" "load hook points at the copy"
	assert_has "$(syms)" "1 t#on_load" "the hook function is new"
}

test_hooks_without_functions() {
	echo 'int f(int x) { return x + 1; }' | orig t
	cat <<'EOF' | patched t
int f(int x) { return x + 1; }
static void on_unload(void) { global_counter--; }
HOOK(unload, on_unload);
EOF
	mini_build t
	engine
	assert_built
	assertEquals "no function" "" "$(funcs)"
	assertEquals "hooks" "unload" "$("$XHP_BIN" --json info "$OUT" | jq -r '.[0].hooks | join(",")')"
}

test_hooks_on_an_ibt_hypervisor_need_endbr() {
	# a cf_check function in the "hypervisor": it is built for CET-IBT
	cat <<'EOF' | orig t
static int cf_check cb(int x) { return x + 1; }
int (*cb_ptr)(int) = cb;
int f(int x) { return x + 1; }
EOF
	cat <<'EOF' | patched t
static int cf_check cb(int x) { return x + 1; }
int (*cb_ptr)(int) = cb;
int f(int x) { return x + 2; }
static void on_load(void) { global_counter++; }
HOOK(load, on_load);
EOF
	mini_build t
	engine
	assert_refused "common/t.c: on_load: a hook without ENDBR64: declare it cf_check"
	sed -i 's/static void on_load/static void cf_check on_load/' "$T/p/common/t.c"
	cc_obj "$T/p" t
	engine
	assert_built
}

test_two_preapply_hooks_are_refused() {
	echo 'int f(int x) { return x + 1; }' | orig t
	cat <<'EOF' | patched t
int f(int x) { return x + 2; }
static int pre1(void *p) { (void)p; return 0; }
static int pre2(void *p) { (void)p; return 1; }
HOOK(preapply, pre1);
HOOK(preapply, pre2);
EOF
	mini_build t
	engine
	assert_refused ".livepatch.hooks.preapply" "more than one preapply hook"
}

test_cold_part_travels_with_its_function() {
	# GCC isolates the NULL dereference into "cold_user.cold"
	cat <<'EOF' | orig t
struct s { long a, b, c; };
struct s *find(long k);
long cold_user(long k, long v)
{
	struct s *x = 0;
	if (k > 5)
		x = find(k);
	x->c = v;
	return k * 3;
}
EOF
	sed 's/return k \* 3;/return k * 5;/' "$T/o/common/t.c" | patched t
	echo 'struct s *find(long k) { return (void *)k; }' >"$T/o/common/u.c"
	cp "$T/o/common/u.c" "$T/p/common/u.c"
	mini_build t u
	assertNotEquals "the compiler split a .cold part" "" \
		"$(readelf -sW "$T/p/common/t.o" | awk '$8 == "cold_user.cold"')"
	engine
	assert_built
	assertEquals "funcs: the parent only" "cold_user" "$(funcs | cut -d' ' -f1)"
	assert_out_has "changed common/t.c cold_user" "copied common/t.c cold_user.cold"
	assert_has "$(syms)" "1 t#cold_user.cold" "the cold part is in the payload"
	assertEquals "the copy jumps into its own cold part, not the hypervisor's" "" \
		"$(syms | grep 'ABS.*cold')"
}

. shunit2
