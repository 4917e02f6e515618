# shellcheck shell=bash
# tests/lib/checks.sh: counters and checks shared by the bash test tiers (rpm,
# deb, boot); a tier sources it and ends with `finish`, which prints the
# summary line tests/run-all.sh adds up: "N passed, N failed", followed by
# ", N skipped" when a test was skipped.
#
#   ok WHAT / ko WHAT        a test passed / failed
#   skip WHAT WHY            a test that could not run here: counted as
#                            skipped, never as passed
#   t WHAT COMMAND...        a test: passes when the command succeeds
#   setup WHAT               a setup step that worked: printed, not counted
#                            (a setup step that fails is a failure: ko)
#   fatal WHAT               a prerequisite is missing: one failure, stop
#   eq GOT WANT WHAT         true when GOT is WANT, else says what differed
#   say WHAT                 a section heading
pass=0
fail=0
skipped=0
ok() {
	pass=$((pass + 1))
	printf 'ok   %s\n' "$*"
}
ko() {
	fail=$((fail + 1))
	printf 'FAIL %s\n' "$*"
}
skip() {
	skipped=$((skipped + 1))
	printf 'SKIP %s (%s)\n' "$1" "$2"
}
setup() {
	printf '     setup: %s\n' "$*"
}
indent() { sed 's/^/     | /' | tail -n 40; }
# t WHAT COMMAND...: one test, passing when the command succeeds; on failure,
# what the command printed.
t() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		ko "$what"
		[ -z "$out" ] || printf '%s\n' "$out" | indent
	fi
}
# summary: the closing line (also for tiers that keep their own counters).
summary() { # PASSED FAILED SKIPPED
	if [ "${3:-0}" -gt 0 ]; then
		echo "$1 passed, $2 failed, $3 skipped"
	else
		echo "$1 passed, $2 failed"
	fi
}
# finish: the summary line; the exit status says whether anything failed.
finish() {
	echo
	summary "$pass" "$fail" "$skipped"
	[ "$fail" -eq 0 ]
	exit
}
# fatal WHAT: a prerequisite is missing: count it and stop here.
fatal() {
	ko "$*"
	finish
}

# eq GOT WANT WHAT
eq() {
	[ "$1" = "$2" ] && return 0
	echo "$3: expected '$2', got '$1'"
	return 1
}
say() { echo "-- $*"; }
