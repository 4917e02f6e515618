# shellcheck shell=bash
# tests/lib/checks.sh: counters and checks shared by the bash test tiers (rpm,
# deb, boot); a tier sources it and ends with `finish`, which prints the plain
# "N passed, N failed" line that tests/run-all.sh adds up.
pass=0
fail=0
ok() {
	pass=$((pass + 1))
	printf 'ok   %s\n' "$*"
}
ko() {
	fail=$((fail + 1))
	printf 'FAIL %s\n' "$*"
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
# finish: the summary line; the exit status says whether anything failed.
finish() {
	echo
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
# fatal WHAT: a prerequisite is missing: count it and stop here.
fatal() {
	ko "$*"
	finish
}
