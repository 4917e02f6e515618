#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# What the engine writes, run: tests/builder/mini/harness.c loads a payload
# as Xen does (sections, SHN_ABS symbols, R_X86_64_64/PC32/PLT32 with range
# checks, a jmp over each replaced function, load hooks) into a user-space
# stand-in for the hypervisor, and the result must print what the patched
# build prints.
# shellcheck source=tests/builder/lib.sh
. "$(dirname "$0")/lib.sh"

test_literal_new_static_new_function() {
	cat <<'EOF2' | orig t
static int counter;
static int __attribute__((noinline)) helper(int x) { return x * 3 + counter++; }
int user(int x) { printk("hello %d\n", x); return helper(x) + global_counter; }
int test_main(void) { int i, s = 0; for (i = 0; i < 3; i++) s += user(i); printk("sum %d\n", s); return 0; }
EOF2
	cat <<'EOF2' | patched t
static int counter;
static int calls;
static int __attribute__((noinline)) helper(int x) { return x * 3 + counter++; }
static int __attribute__((noinline)) twice(int x) { calls++; return 2 * x + calls; }
int user(int x) { printk("patched hello %d (%d)\n", x, calls); return twice(helper(x)) + global_counter; }
int test_main(void) { int i, s = 0; for (i = 0; i < 3; i++) s += user(i); printk("sum %d\n", s); return 0; }
EOF2
	run_build t
	engine
	assert_built
	assert_runs_patched
}

test_jump_table() {
	EXTRA_CFLAGS="-fjump-tables"
	cat <<'EOF2' | orig t
int __attribute__((noinline)) pick(int x)
{
	switch (x) {
	case 0: return printk("zero\n");
	case 1: return 17; case 2: return 29; case 3: return 31; case 4: return 43;
	case 5: return 59; case 6: return 61; case 7: return 73; case 8: return 89;
	default: return -1;
	}
}
int test_main(void) { int i; for (i = -1; i < 10; i++) printk("%d:%d ", i, pick(i)); printk("\n"); return 0; }
EOF2
	sed -e 's/return 43;/return 44;/' -e 's/"zero\\n"/"zero!\\n"/' "$T/o/common/t.c" | patched t
	run_build t
	engine
	assert_built
	assert_runs_patched
}

test_changed_table_and_its_users() {
	cat <<'EOF2' | orig t
static const char *const names[] = { "zero", "one", "two" };
const char * __attribute__((noinline)) name_of(int i) { return names[i % 3]; }
int test_main(void) { int i; for (i = 0; i < 3; i++) printk("%s ", name_of(i)); printk("\n"); return 0; }
EOF2
	sed 's/"one"/"uno"/' "$T/o/common/t.c" | patched t
	run_build t
	engine
	assert_built
	assert_runs_patched
}

test_calls_across_objects_and_function_pointers() {
	cat <<'EOF2' | orig t
int base(int x);
static int __attribute__((noinline)) op_add(int x) { return base(x) + 1; }
static int (*const ops[])(int) = { op_add };
int __attribute__((noinline)) run_op(int x) { return ops[0](x); }
int test_main(void) { printk("%d %d\n", run_op(1), run_op(2)); return 0; }
EOF2
	cat <<'EOF2' | patched t
int base(int x);
int extra(int x);
static int __attribute__((noinline)) op_add(int x) { return extra(base(x)) + 1; }
static int (*const ops[])(int) = { op_add };
int __attribute__((noinline)) run_op(int x) { return ops[0](x); }
int test_main(void) { printk("%d %d\n", run_op(1), run_op(2)); return 0; }
EOF2
	echo 'int base(int x) { return 10 * x; }' | orig u
	printf 'int base(int x) { return 10 * x; }\nint extra(int x) { return x + 100; }\n' | patched u
	run_build t u
	engine
	assert_built
	assert_out_has "changed common/t.c op_add" "new common/u.c extra"
	assert_runs_patched
}

test_code_parked_after_the_function() {
	# Xen's UNLIKELY_START puts code in ".subsection 1": after the
	# function's symbol, in the same section
	cat <<'EOF2' | orig t
int __attribute__((noinline)) sub(int x)
{
	int r;
	asm volatile("test %1, %1\n jz 2f\n mov %1, %0\n3:\n .subsection 1\n"
		     "2: mov $7, %0\n jmp 3b\n .subsection 0" : "=&r" (r) : "r" (x));
	return r + 1;
}
int test_main(void) { printk("%d %d\n", sub(0), sub(5)); return 0; }
EOF2
	sed 's/return r + 1;/return r + 2;/' "$T/o/common/t.c" | patched t
	run_build t
	engine
	assert_built
	assert_runs_patched
}

test_changed_gcc_clone_moves_its_callers() {
	# GCC clones scale() with k=3 propagated; once b() passes 4 the clone
	# keeps k: same name, another calling convention. It is not patched in
	# place: both callers are replaced and call the new copy
	cat <<'EOF2' | orig t
static int __attribute__((noinline)) scale(const int *p, int k, int unused) { return *p * k + 1; }
int __attribute__((noinline)) a(int x) { return scale(&x, 3, 0); }
int __attribute__((noinline)) b(int x) { return scale(&x, 3, 1) + 1; }
int test_main(void) { printk("%d %d\n", a(2), b(5)); return 0; }
EOF2
	sed 's/return scale(&x, 3, 1) + 1;/return scale(\&x, 4, 1) + 1;/' "$T/o/common/t.c" | patched t
	run_build t
	engine
	assert_built
	assert_lines "a
b" "$(funcs | cut -d' ' -f1)" "both callers are replaced, the clone is not patched"
	assert_out_has "copied common/t.c scale.constprop.0.isra.0"
	assert_runs_patched
}

test_small_variables_of_a_shared_section() {
	# 1-byte options side by side in .data.read_mostly, read with
	# "cmpb $0, x(%rip)": which one a reference means depends on the
	# instruction's length. The patch adds one more, moving the others.
	cat <<'EOF2' | orig t
static _Bool __read_mostly opt_a = 1;
static _Bool __read_mostly opt_b;
static _Bool __read_mostly opt_c = 1;
void __attribute__((noinline)) set_opts(int a, int b, int c) { opt_a = a; opt_b = b; opt_c = c; }
int __attribute__((noinline)) check(void) { return (opt_a ? 1 : 0) + (opt_b ? 2 : 0) + (opt_c ? 4 : 0); }
int test_main(void) { printk("%d ", check()); set_opts(0, 1, 1); printk("%d\n", check()); return 0; }
EOF2
	cat <<'EOF2' | patched t
static _Bool __read_mostly opt_new = 1;
static _Bool __read_mostly opt_a = 1;
static _Bool __read_mostly opt_b;
static _Bool __read_mostly opt_c = 1;
void __attribute__((noinline)) set_opts(int a, int b, int c) { opt_a = a; opt_b = b; opt_c = c; }
int __attribute__((noinline)) check(void) { return (opt_a ? 1 : 0) + (opt_b ? 2 : 0) + (opt_c ? 4 : 0) + (opt_new ? 8 : 0); }
int test_main(void) { printk("%d ", check()); set_opts(0, 1, 1); printk("%d\n", check()); return 0; }
EOF2
	run_build t
	engine
	assert_built
	assertEquals "funcs" "check" "$(funcs | cut -d' ' -f1)"
	assert_runs_patched
}

test_load_hook_runs() {
	cat <<'EOF2' | orig t
int f(int x) { return x + 1; }
int test_main(void) { printk("%d %d\n", f(1), global_counter); return 0; }
EOF2
	cat <<'EOF2' | patched t
int f(int x) { return x + 2; }
static void on_load(void) { global_counter = 42; }
HOOK(load, on_load);
int test_main(void) { printk("%d %d\n", f(1), global_counter); return 0; }
EOF2
	run_build t
	engine
	assert_built
	"$T/hv" "$OUT" >"$T/run.got" 2>&1
	assertEquals "the replacement and the hook ran" "3 42" "$(cat "$T/run.got")"
}

. shunit2
