#!/bin/bash
# Run shunit2 test files and print "N passed, N failed" counted per test
# function (shunit2 itself counts asserts, and counts a failing last assert
# twice). Usage: tests/lib/shunit-run.sh FILE... ; exit 1 if any test failed.
set -u
export SHUNIT_COLOR=none
pass=0
fail=0
for f in "$@"; do
	echo "-- $f"
	out=$(sh "$f" 2>&1)
	printf '%s\n' "$out"
	# A test name is a line that is a bare identifier starting with "test";
	# it failed if an ASSERT or shunit2:ERROR line follows before the next one.
	counts=$(printf '%s\n' "$out" | awk '
		/^test[A-Za-z0-9_]*$/ { if (cur != "") { if (bad) f++; else p++ } cur=$0; bad=0; next }
		/^ASSERT:/ || /shunit2:ERROR/ { if (cur != "") bad=1 }
		/^Ran [0-9]+ test/ { if (cur != "") { if (bad) f++; else p++ } cur="" }
		END { if (cur != "") { if (bad) f++; else p++ } print p+0, f+0 }')
	ran=$(printf '%s\n' "$out" | sed -n 's/^Ran \([0-9]*\) test.*/\1/p' | tail -n 1)
	set -- "$@"
	p=${counts% *}
	q=${counts#* }
	if [ -z "$ran" ]; then
		echo "-- $f: shunit2 did not finish"
		q=$((q + 1))
	fi
	pass=$((pass + p))
	fail=$((fail + q))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
