#!/bin/bash
# Tier "lint": every shell script of the project is shellcheck-clean (one test
# a file; .shellcheckrc makes shellcheck follow sourced files), and the
# scripts that run on a host's /bin/sh (maintainer scripts, hooks, mkpkg)
# parse with dash.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
pass=0 fail=0
if ! command -v shellcheck >/dev/null; then
	echo "lint: shellcheck not installed (tests/install-deps.sh)"
	echo "0 passed, 1 failed"
	exit 1
fi
while read -r f; do
	head -c 64 "$f" | grep -qE '^#!.*(sh|bash)' || case $f in debian/*.post* | debian/*.pre*) ;; *) continue ;; esac
	if out=$(shellcheck -f gcc "$f" 2>&1); then
		pass=$((pass + 1))
		echo "ok   shellcheck $f"
	else
		fail=$((fail + 1))
		echo "FAIL shellcheck $f"
		printf '%s\n' "$out" | sed 's/^/     | /'
	fi
	if head -n 1 "$f" | grep -qE '^#! ?/bin/sh'; then
		if dash -n "$f" 2>/dev/null; then
			pass=$((pass + 1))
			echo "ok   dash -n $f"
		else
			fail=$((fail + 1))
			echo "FAIL dash -n $f"
		fi
	fi
done < <(git ls-files -co --exclude-standard | grep -E '\.sh$|^dracut/|^scripts/|^tests/|^debian/[^/]*\.(postinst|postrm|preinst|prerm)$|^\.ci/' | sort -u)
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
