#!/bin/bash
# The `make check` tier "unit": run every cmocka unit test binary, one per
# tests/unit/test-*.c, preferring the sanitizer build (build/asan/unit/, made
# by `make asan`) and falling back to build/unit/ (`make unit`). Counts
# cmocka's tests, not binaries, and ends with "N passed, N failed" (and
# ", N skipped" when a test called cmocka's skip()). A binary
# that is missing, crashes or exits non-zero without a failed test counts as
# one failure. Test data is found through XHP_TOP (the repository).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export XHP_TOP="${XHP_TOP:-$top}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

srcs=(tests/unit/test-*.c)
if [ ! -e "${srcs[0]}" ]; then
	echo "unit: no tests/unit/test-*.c"
	echo "0 passed, 0 failed"
	exit 0
fi
if ! ls build/asan/unit/test-* build/unit/test-* >/dev/null 2>&1; then
	echo "unit: no unit test binaries; running make unit"
	make -s unit || true
fi

# shellcheck source=tests/lib/checks.sh
. "$top/tests/lib/checks.sh"
for src in "${srcs[@]}"; do
	name=$(basename "$src" .c)
	bin=""
	for d in build/asan/unit build/unit; do
		if [ -x "$d/$name" ]; then
			bin=$d/$name
			break
		fi
	done
	if [ -z "$bin" ]; then
		echo "unit: $name: not built (make asan or make unit)"
		fail=$((fail + 1))
		continue
	fi
	echo "-- $bin"
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' | tail -n 1)
	s=$(printf '%s\n' "$out" | sed -nE 's/^\[  SKIPPED \] ([0-9]+) test.*/\1/p' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	s=${s:-0}
	if ! printf '%s\n' "$out" | grep -qE '^\[==========\] [0-9]+ test\(s\) run'; then
		echo "unit: $name did not finish (exit $rc)"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "unit: $name exited $rc"
		f=1
	fi
	echo "-- $name: $(summary "$p" "$f" "$s")"
	pass=$((pass + p))
	fail=$((fail + f))
	skipped=$((skipped + s))
done
summary "$pass" "$fail" "$skipped"
[ "$fail" -eq 0 ]
