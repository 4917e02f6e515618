#!/bin/bash
# The `make check` tier "python": pytest on the xen_hotpatch bindings
# (tests/python/test_*.py) against the simulated hypervisor, with the
# fixture payloads of tests/fixtures/make-set.sh; metrics checked with
# promtool. The extension is the ASan/UBSan build (build/asan/python, from
# `make asan`), loaded with the sanitizer runtimes preloaded into Debian's
# python3; XHP_PY_PLAIN=1 uses the plain build (build/python) instead.
# Prints pytest's own summary line, then "N passed, N failed[, N skipped]".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export XHP_TOP="$top"
tier_name=python
# shellcheck source=tests/lib/pytest-tier.sh
. "$top/tests/lib/pytest-tier.sh"

if [ "${XHP_PY_PLAIN:-0}" = 1 ]; then
	b=build
	export XHP_BIN="$top/build/xen-hotpatch" XHP_SIM_BIN="$top/build/xen-hotpatch-sim"
	make -s all python >/dev/null || tier_die "make python failed"
	XHP_PY_PRELOAD=
else
	b=build/asan
	export XHP_BIN="${XHP_BIN:-$top/build/asan/xen-hotpatch}"
	export XHP_SIM_BIN="${XHP_SIM_BIN:-$top/build/asan/xen-hotpatch-sim}"
	# incremental: also copies the package's .py files
	make -s asan >/dev/null || tier_die "make asan failed"
	# the interpreter is not instrumented: the runtimes come first (for
	# pytest only; the tool binaries it runs carry their own)
	XHP_PY_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
	export PYTHONMALLOC=malloc
fi
export PYTHONPATH="$top/$b/python"
command -v promtool >/dev/null || tier_die "promtool is missing (Debian's prometheus; tests/install-deps.sh installs it)"
echo "python: $PYTHON $($PYTHON -c 'import sys; print(sys.version.split()[0])'), xen_hotpatch from $PYTHONPATH"
tier_fixtures
pytest_tier tests/python "$@"
