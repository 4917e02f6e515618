#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# What the engine refuses: exit 1, one line naming the file, the symbol and
# the reason, and nothing written.
# shellcheck source=tests/builder/lib.sh
. "$(dirname "$0")/lib.sh"

test_changed_initialised_data() {
	cat <<'EOF' | orig t
static int limit = 5;
void set_limit(int v) { limit = v; }
int over(int x) { return x > limit; }
EOF
	sed 's/limit = 5/limit = 6/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_refused "common/t.c: limit: changed initialised data"
}

test_changed_variable_size() {
	cat <<'EOF' | orig t
static int table[4];
int *slot(int i) { return &table[i & 3]; }
EOF
	sed -e 's/table\[4\]/table[8]/' -e 's/i & 3/i \& 7/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_refused "common/t.c: table: size changed from 16 to 32 bytes"
}

test_changed_global_readonly_data() {
	cat <<'EOF' | orig t
const int primes[3] = { 2, 3, 5 };
int nth(int i) { return primes[i % 3]; }
EOF
	sed 's/{ 2, 3, 5 }/{ 2, 3, 7 }/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_refused "common/t.c: primes: changed global read-only data"
}

test_writable_data_pointing_at_changed_readonly_data() {
	cat <<'EOF' | orig t
static const char msg[] = "old";
static const char *cur = msg;
void set(const char *p) { cur = p; }
const char *get(void) { return cur; }
EOF
	sed 's/"old"/"new"/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_refused "common/t.c: cur: writable data refers to changed read-only data msg"
}

test_changed_init_code() {
	cat <<'EOF' | orig t
int __init setup_thing(void) { return printk("setting up\n"); }
int run(void) { return 1; }
EOF
	sed 's/"setting up\\n"/"setting up!\\n"/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_refused "common/t.c: setup_thing: changed __init code"
}

test_changed_init_data() {
	cat <<'EOF' | orig t
static int __initdata boot_limit = 3;
int __init get_boot_limit(void) { return boot_limit; }
EOF
	sed 's/boot_limit = 3/boot_limit = 4/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_refused "common/t.c: boot_limit: changed __init data"
}

test_reference_to_init_data() {
	cat <<'EOF' | orig t
static int __initdata boot_limit = 3;
int __init get_boot_limit(void) { return boot_limit; }
int run(void) { return 1; }
EOF
	sed 's/int run(void) { return 1; }/int run(void) { return boot_limit; }/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_refused "common/t.c: run: refers to __init boot_limit, which is freed after boot"
}

test_reference_to_init_data_the_original_made_stays() {
	cat <<'EOF' | orig t
static int __initdata boot_limit = 3;
int booting = 1;
int __init get_boot_limit(void) { return boot_limit; }
int run(void) { return booting ? boot_limit : 1; }
EOF
	sed 's/booting ? boot_limit : 1;/booting ? boot_limit : 2;/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_built
	assert_has "$(syms)" "ABS common/t.c#boot_limit" "the boot-time path keeps its reference"
}

test_hypervisor_code_differs_from_the_kit_object() {
	echo 'int f(int x) { return x + 1; }' | orig t
	echo 'int f(int x) { return x + 2; }' | patched t
	mini_build t
	# the "hypervisor" was built from other code of the same size
	echo 'int f(int x) { return x + 3; }' >"$T/o/common/t.c"
	cc_obj "$T/o" t
	ld -T "$BT_MINI/xen.lds" --build-id=sha1 -e 0 --no-warn-rwx-segments -o "$T/xen-syms" \
		"$T/o/common/t.o" "$T/stubs.o" || fail "relinking"
	echo 'int f(int x) { return x + 1; }' >"$T/o/common/t.c"
	cc_obj "$T/o" t
	engine
	assert_refused "common/t.c: f: the hypervisor's code differs from the kit's object"
}

test_new_per_cpu_variable() {
	echo 'int f(int x) { return x + 1; }' | orig t
	cat <<'EOF' | patched t
static int __attribute__((section(".bss.percpu"))) per_cpu__hits;
int f(int x) { per_cpu__hits++; return x + 1; }
EOF
	mini_build t
	engine
	assert_refused "common/t.c: per_cpu__hits: a new per-CPU variable"
}

test_function_too_small_for_a_jump() {
	EXTRA_CFLAGS="-mfunction-return=keep"
	cat <<'EOF' | orig t
void nothing(void) { }
EOF
	echo 'void nothing(void) { global_counter++; }' | patched t
	mini_build t
	assertEquals "a 1-byte function" 1 "$(readelf -sW "$T/xen-syms" | awk '$8 == "nothing" { print $3 }')"
	engine
	assert_refused "common/t.c: nothing: 1 bytes: too small for a jump (Xen needs at least 5)"
}

test_endbr_function_needs_nine_bytes() {
	EXTRA_CFLAGS="-mfunction-return=keep"
	cat <<'EOF' | orig t
static int cf_check zero(void) { return 0; }
int (*zero_fn)(void) = zero;
EOF
	sed 's/return 0;/return 1;/' "$T/o/common/t.c" | patched t
	mini_build t
	engine
	assert_refused "common/t.c: zero: 7 bytes: too small for a jump (Xen needs at least 9)"
}

test_payload_over_xen_s_size_limit() {
	echo 'int f(int x) { return x + 1; }' | orig t
	cat <<'EOF' | patched t
static const char big[3 << 20] = { 1 };
int f(int x) { return x + big[x & 0xffff]; }
EOF
	mini_build t
	echo previous >"$OUT"
	engine
	assert_rc 1
	assert_err_line "$OUT: " "more than the 2097152 Xen takes for a payload"
	assertEquals "what was at the output is untouched" "previous" "$(cat "$OUT")"
}

test_nothing_changed() {
	echo 'int f(int x) { return x + 1; }' | orig t
	same t
	mini_build t
	engine
	assert_refused "common/t.c: the patch changes no function the hypervisor runs: nothing to patch"
}

test_only_data_added() {
	echo 'int f(int x) { return x + 1; }' | orig t
	printf 'int f(int x) { return x + 1; }\nint unused_new;\n' | patched t
	mini_build t
	engine
	assert_refused "nothing to patch"
}

test_undefined_symbol() {
	echo 'int f(int x) { return x + 1; }' | orig t
	printf 'int nowhere(int);\nint f(int x) { return nowhere(x); }\n' | patched t
	mini_build t
	engine
	assert_refused "common/t.c: f: refers to nowhere, which xen-syms does not define"
}

test_unsupported_relocation() {
	EXTRA_CFLAGS=""
	echo 'int f(int x) { return x + 1; }' | orig t
	cat <<'EOF' | patched t
extern int far_away[];
long f(int x) { long v; asm("movl $far_away, %k0" : "=r" (v)); return v + x; }
EOF
	printf 'int far_away[4];\n' >"$T/o/common/u.c"
	cp "$T/o/common/u.c" "$T/p/common/u.c"
	mini_build t u
	engine
	assert_refused "common/t.c: f: relocation type 10 (R_X86_64_32) against far_away"
}

test_corrupt_object() {
	echo 'int f(int x) { return x + 1; }' | orig t
	echo 'int f(int x) { return x + 2; }' | patched t
	mini_build t
	printf 'not an object' >"$T/p/common/t.o"
	engine
	assert_refused "$T/p/common/t.o: not an ELF"
}

. shunit2
