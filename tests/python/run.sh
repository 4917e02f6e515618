#!/bin/bash
# The `make check` tier "python": pytest (Debian's python3-pytest, run by
# Debian's /usr/bin/python3, never a pyenv one from PATH) on the xen_hotpatch
# bindings against the simulated hypervisor, with the fixture payloads of
# tests/fixtures/make-set.sh. The extension is the ASan/UBSan build
# (build/asan/python, from `make asan`), loaded with the sanitizer runtimes
# preloaded; XHP_PY_PLAIN=1 uses the plain build (build/python) instead.
# Prints pytest's own summary line, then "N passed, N failed[, N skipped]".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export XHP_TOP="$top"
PYTHON=/usr/bin/python3
export XHP_PY_FX="${XHP_PY_FX:-$top/build/py-fixtures}"

die() {
	echo "python: $*"
	echo "0 passed, 1 failed"
	exit 1
}

if [ "${XHP_PY_PLAIN:-0}" = 1 ]; then
	b=build
	preload=
	export XHP_BIN="$top/build/xen-hotpatch" XHP_SIM_BIN="$top/build/xen-hotpatch-sim"
	make -s python all >/dev/null || die "make python failed"
else
	b=build/asan
	export XHP_BIN="${XHP_BIN:-$top/build/asan/xen-hotpatch}"
	export XHP_SIM_BIN="${XHP_SIM_BIN:-$top/build/asan/xen-hotpatch-sim}"
	# incremental: also copies the package's .py files
	make -s asan >/dev/null || die "make asan failed"
	# the interpreter is not instrumented: the runtimes come first (for
	# pytest only; conftest.py drops them for the tool binaries it runs)
	preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
	export PYTHONMALLOC=malloc
fi
export PYTHONPATH="$top/$b/python"
export PYTHONDONTWRITEBYTECODE=1
$PYTHON -c 'import pytest' 2>/dev/null || die "python3-pytest is missing (tests/install-deps.sh installs it)"

echo "python: $PYTHON $($PYTHON -c 'import sys; print(sys.version.split()[0])'), xen_hotpatch from $PYTHONPATH"
echo "python: forging the fixture payloads into $XHP_PY_FX"
tests/fixtures/make-set.sh "$XHP_PY_FX" 5eed0c11c11c11c11c11c11c11c11c11c11c11c1 >/dev/null ||
	die "tests/fixtures/make-set.sh failed"

xml=$top/build/test-logs/python-junit.xml
mkdir -p "${xml%/*}"
rm -f "$xml"
LD_PRELOAD=$preload $PYTHON -m pytest -p no:cacheprovider -rs -v --junitxml="$xml" "$@" tests/python
rc=$?
if [ ! -f "$xml" ]; then
	die "pytest wrote no results (exit $rc)"
fi
# pass/fail/skip from the JUnit file: errors (setup failures) count as failed
read -r tests failures errors skipped < <($PYTHON - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
s = root if root.tag == "testsuite" else root.find("testsuite")
print(*(int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")))
PY
)
failed=$((failures + errors))
passed=$((tests - failed - skipped))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "python: pytest exited $rc with no failed test"
	failed=1
fi
line="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
