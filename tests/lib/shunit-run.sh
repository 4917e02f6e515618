#!/bin/bash
# Run shunit2 test files and print "N passed, N failed" (", N skipped" when a
# test skipped), counted per test function: shunit2 itself counts asserts,
# counts a failing last assert twice, and reports skipped asserts without
# saying which test they belong to.
# Usage: tests/lib/shunit-run.sh FILE... ; exit 1 if any test failed.
#
# A test that calls startSkipping is counted as skipped (unless an assert
# failed before): the files source `shunit2` through PATH, and find first a
# copy of the installed one whose startSkipping also prints "shunit2:SKIP".
set -u
export SHUNIT_COLOR=none
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/checks.sh
. "$here/checks.sh"

real=$(command -v shunit2) || { echo "shunit2 is not installed"; summary 0 1; exit 1; }
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
sed 's/^startSkipping() {/startSkipping() { echo "shunit2:SKIP";/' "$real" >"$shim/shunit2"
if ! grep -q 'shunit2:SKIP' "$shim/shunit2"; then
	echo "$real: no startSkipping() to mark skipped tests with"
	summary 0 1
	exit 1
fi
export PATH="$shim:$PATH"

for f in "$@"; do
	echo "-- $f"
	out=$(sh "$f" 2>&1)
	printf '%s\n' "$out"
	# A test name is a line that is a bare identifier starting with "test";
	# it failed if an ASSERT or shunit2:ERROR line follows before the next
	# one, it skipped if shunit2:SKIP does.
	counts=$(printf '%s\n' "$out" | awk '
		function done() { if (cur != "") { if (bad) f++; else if (sk) s++; else p++ } cur = "" }
		/^test[A-Za-z0-9_]*$/ { done(); cur = $0; bad = 0; sk = 0; next }
		/^ASSERT:/ || /shunit2:ERROR/ { if (cur != "") bad = 1 }
		/^shunit2:SKIP$/ { if (cur != "") sk = 1 }
		/^Ran [0-9]+ test/ { done() }
		END { done(); print p + 0, f + 0, s + 0 }')
	read -r p q s <<<"$counts"
	if ! printf '%s\n' "$out" | grep -q '^Ran [0-9]* test'; then
		echo "-- $f: shunit2 did not finish"
		q=$((q + 1))
	fi
	pass=$((pass + p))
	fail=$((fail + q))
	skipped=$((skipped + s))
done
summary "$pass" "$fail" "$skipped"
[ "$fail" -eq 0 ]
