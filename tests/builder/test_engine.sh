#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# The diff engine on small objects: what a changed function takes into the
# payload (new functions, literals, statics), how it reaches what the
# hypervisor keeps (SHN_ABS symbols at xen-syms addresses), the notes and
# .modinfo, and that the project's payload reader accepts every result.
# shellcheck source=tests/builder/lib.sh
. "$(dirname "$0")/lib.sh"

# xen-syms address of a symbol (hex, no 0x)
xaddr() {
	readelf -sW "$T/xen-syms" | awk -v n="$1" '$8 == n { print $2; exit }'
}
xsize() {
	readelf -sW "$T/xen-syms" | awk -v n="$1" '$8 == n { print $3; exit }'
}

base_source() {
	cat <<'EOF'
static int counter;
static const char *const names[] = { "zero", "one", "two" };
static int __attribute__((noinline)) helper(int x) { return x * 3 + counter++; }
const char *name_of(int i) { return names[i & 1]; }
int user(int x)
{
	printk("hello %d\n", x);
	return helper(x) + global_counter;
}
EOF
}

test_changed_function_with_a_new_literal() {
	base_source | orig t
	base_source | sed 's/"hello %d\\n"/"patched hello %d\\n"/' | patched t
	mini_build t
	engine --modinfo version=3
	assert_built
	assertEquals "funcs" "user $(xsize user) $(readelf -sW "$T/p/common/t.o" | awk '$8 == "user" { print $3 }')" "$(funcs)"
	assert_out_has "changed common/t.c user" "build-id "
	assert_has "$(strings_of .rodata.str)" "patched hello %d\n" "the new literal is in the payload"
	assert_lacks "$(strings_of .rodata.str)" "zero" "unused strings stay out"
	# what the hypervisor keeps is reached by address
	assert_has "$(syms)" "ABS common/t.c#helper" "static helper by its run-time name"
	assert_has "$(syms)" "ABS global_counter" "global by name"
	assert_has "$(syms)" "ABS printk" "called function"
	assertEquals "helper's address" "$(xaddr helper)" \
		"$(readelf -sW "$OUT" | awk '$8 == "common/t.c#helper" { print $2 }')"
	# no undefined symbol: Xen looks nothing up by name
	assertEquals "undefined symbols" "" "$(readelf -sW "$OUT" | awk 'NR > 4 && $7 == "UND"')"
	assertEquals "notes" "t $XEN_ID $XEN_ID 3" "$(info_q name,depends,xen_depends,version)"
	assertEquals "own build-id" "$(sed -n 's/^build-id //p' "$T/out")" "$(info_q build_id)"
	assertEquals "modinfo" "name=t;version=3" "$(info_q modinfo)"
}

test_new_function_and_new_static() {
	base_source | orig t
	base_source | sed -e 's/^static int counter;/static int counter;\nstatic int calls;\nstatic int __attribute__((noinline)) twice(int x) { calls++; return 2 * x; }/' \
		-e 's/return helper(x) + global_counter;/return twice(helper(x)) + global_counter;/' | patched t
	mini_build t
	engine
	assert_built
	assert_out_has "changed common/t.c user" "new common/t.c twice" "new common/t.c calls"
	assertEquals "only the changed function is patched" "user" "$(funcs | cut -d' ' -f1)"
	assert_has "$(syms)" "1 user" "the replacement carries the old name"
	assert_has "$(syms)" "1 t#twice" "a new function is named after the payload"
	assert_has "$(syms)" "$(secidx .bss) t#calls" "a new static lives in the payload's .bss"
	assertEquals "a payload with data is unsafe to reapply" "false" \
		"$("$XHP_BIN" --json info "$OUT" | jq -r '.[0].safe_to_reapply')"
	assert_has "$(syms)" "ABS common/t.c#helper" "the existing static function stays the hypervisor's"
}

test_changed_readonly_static_takes_its_users_along() {
	base_source | orig t
	base_source | sed 's/"one"/"uno"/' | patched t
	mini_build t
	engine
	assert_built
	assert_out_has "changed common/t.c name_of" "copied common/t.c names"
	assertEquals "name_of is replaced" "name_of" "$(funcs | cut -d' ' -f1)"
	assert_has "$(strings_of .rodata.str)" "uno" "the table's strings come along"
	assert_lacks "$(syms)" "common/t.c#names" "the old table is not used"
}

test_renumbered_statics_keep_their_identity() {
	cat <<'EOF' | orig t
int a(void) { static int n; return ++n; }
int b(void) { static int n; return n += 2; }
EOF
	cat <<'EOF' | patched t
int z(void) { static int n; return n--; }
int a(void) { static int n; return ++n; }
int b(void) { static int n; return n += 3; }
EOF
	mini_build t
	engine
	assert_built
	assert_out_has "changed common/t.c b" "new common/t.c z"
	assertEquals "a is untouched" "b" "$(funcs | cut -d' ' -f1)"
	# b's counter is the hypervisor's b's counter, whatever GCC numbered it
	_bn=$(relas .text.b "$T/o/common/t.o" | sed -n 's/^R_X86_64_PC32 \.bss\.\(n\.[0-9]*\).*/\1/p' | head -n 1)
	assertNotEquals "b's static in the original" "" "$_bn"
	assert_has "$(syms)" "ABS common/t.c#$_bn" "b's static by its original name"
	assertEquals "z's static is new" "1" "$(syms | grep -c '^[0-9]* t#n\.')"
}

test_new_boot_time_entry_is_reported_ignored() {
	echo 'int f(int x) { return x + 1; }' | orig t
	cat <<'EOF' | patched t
static int opt_new;
static const struct { const char *name; int *var; } __setup_opt_new
	__attribute__((section(".init.setup"), used)) = { "opt-new", &opt_new };
int f(int x) { return x + opt_new; }
EOF
	mini_build t
	engine
	assert_built
	assert_out_has "changed common/t.c f" "ignored common/t.c __setup_opt_new (new entry of .init.setup: read at boot only)"
}

# A static added before numbered table entries nobody refers to (Xen's
# __setup_*.N parameter entries) renumbers them: they are still the
# original's, not new entries to report as ignored, and the live static
# next to them stays the hypervisor's.
test_renumbered_unused_entries_are_not_new() {
	cat <<'EOF' | orig t
int f(int x)
{
	static int calls;
	static const struct { const char *n; int *v; } entry
		__attribute__((section(".init.setup"), used)) = { "calls", &calls };
	return x + ++calls;
}
EOF
	cat <<'EOF' | patched t
int f(int x)
{
	static int added;
	static int calls;
	static const struct { const char *n; int *v; } entry
		__attribute__((section(".init.setup"), used)) = { "calls", &calls };
	added += x;
	return x + ++calls;
}
EOF
	mini_build t
	_on=$(readelf -sW "$T/o/common/t.o" | awk '$8 ~ /^entry\./ { print $8 }')
	_pn=$(readelf -sW "$T/p/common/t.o" | awk '$8 ~ /^entry\./ { print $8 }')
	assertNotEquals "GCC renumbered the entry (else this tests nothing)" "$_on" "$_pn"
	engine
	assert_built
	assert_lacks "$(cat "$T/out")" "ignored" "the renumbered entry is not new"
	assert_out_has "changed common/t.c f" "new common/t.c added."
	assert_has "$(syms | sed 's/\.[0-9]*$//')" "ABS common/t.c#calls" "the live counter is the hypervisor's"
}

test_same_build_same_id_other_name_other_id() {
	base_source | orig t
	base_source | sed 's/helper(x) +/helper(x + 1) +/' | patched t
	mini_build t
	engine
	_id1=$(info_q build_id)
	rm -f "$OUT"
	engine
	assertEquals "a rebuild gives the same build-id" "$_id1" "$(info_q build_id)"
	rm -f "$OUT"
	PNAME=other engine
	assertNotEquals "another name gives another build-id" "$_id1" "$(info_q build_id)"
}

test_usage_errors_exit_2() {
	base_source | orig t
	same t
	mini_build t
	"$XHP_DIFF_BIN" --xen-syms "$T/xen-syms" -o "$OUT" "$T/o/common/t.o" >"$T/out" 2>"$T/err"
	assertEquals "missing --name" 2 "$?"
	"$XHP_DIFF_BIN" --xen-syms "$T/xen-syms" --name t -o "$OUT" "$T/o/common/t.o" "$T/p/common/t.o" >"$T/out" 2>"$T/err"
	assertEquals "incomplete triple" 2 "$?"
	"$XHP_DIFF_BIN" --xen-syms "$T/xen-syms" --name 'a b' -o "$OUT" "$T/o/common/t.o" "$T/p/common/t.o" x >"$T/out" 2>"$T/err"
	assertEquals "bad name" 2 "$?"
	"$XHP_DIFF_BIN" --xen-syms "$T/xen-syms" --name t --modinfo novalue -o "$OUT" "$T/o/common/t.o" "$T/p/common/t.o" x >"$T/out" 2>"$T/err"
	assertEquals "bad --modinfo" 2 "$?"
	assertFalse "nothing written" "[ -e '$OUT' ]"
}

test_wrong_hypervisor_is_refused() {
	base_source | orig t
	base_source | sed 's/helper(x) +/helper(x + 1) +/' | patched t
	mini_build t
	engine --xen-id 0123456789abcdef0123456789abcdef01234567
	assert_refused "xen-syms" "but the kit is for 0123456789abcdef0123456789abcdef01234567"
}

. shunit2
