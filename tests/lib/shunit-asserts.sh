# shellcheck shell=sh
# tests/lib/shunit-asserts.sh: assertions on one run of a command, shared by
# the shunit2 tiers (cli, builder). The caller sets LAST (the command line,
# for messages) and RC (its exit status), and leaves its output in $T/out and
# $T/err.

_ctx() {
	printf '%s\n  --- stdout:\n%s\n  --- stderr:\n%s' "$LAST" "$(cat "$T/out" 2>/dev/null)" \
		"$(cat "$T/err" 2>/dev/null)"
}

# assert_rc EXPECTED
assert_rc() {
	assertEquals "exit status of: $(_ctx)" "$1" "$RC"
}

# assert_out_has STRING... / assert_err_has STRING...: fixed strings
assert_out_has() {
	for _s in "$@"; do
		grep -qF -- "$_s" "$T/out" || fail "stdout lacks '$_s': $(_ctx)"
	done
}
assert_err_has() {
	for _s in "$@"; do
		grep -qF -- "$_s" "$T/err" || fail "stderr lacks '$_s': $(_ctx)"
	done
}
assert_out_lacks() {
	for _s in "$@"; do
		if grep -qF -- "$_s" "$T/out"; then fail "stdout has '$_s': $(_ctx)"; fi
	done
}
assert_err_lacks() {
	for _s in "$@"; do
		if grep -qF -- "$_s" "$T/err"; then fail "stderr has '$_s': $(_ctx)"; fi
	done
}

# assert_err_line STRING...: stderr is exactly one line and holds each STRING
assert_err_line() {
	assertEquals "stderr lines of: $(_ctx)" 1 "$(wc -l <"$T/err")"
	assert_err_has "$@"
}

# assert_err_empty
assert_err_empty() {
	assertEquals "stderr of: $(_ctx)" "" "$(cat "$T/err")"
}

# assert_json_out FILTER EXPECTED: jq -r FILTER of stdout
assert_json_out() {
	assertEquals "jq '$1' of stdout of: $(_ctx)" "$2" "$(jq -r "$1" "$T/out" 2>&1)"
}
