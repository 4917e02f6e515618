# shellcheck shell=bash
# tests/kit/lib.sh: kits and the xen-livepatch RPMs for the test tiers, made
# once with the real tools and cached under build/cache (shared by the kit,
# builder and realxen tiers; a lock serialises makers of one entry).
#
#   kit_test_debian VERSION    KIT=build/cache/kits/<build-id>/ (KIT_ID=<build-id>):
#                              Debian's xen VERSION as `xen-hotpatch-build kit
#                              --debian` makes it; built when missing or when it no
#                              longer loads (a new kit format, another compiler)
#   kit_test_xen_rpm           XEN_RPM_DIR=build/cache/xen-livepatch/<key>/ with
#                              RPMS/, SRPMS/, SPECS/ (`make xen-livepatch-rpm`, the key a hash of
#                              its inputs), XEN_RPM_KIT=build/cache/kits/<its build-id>
#                              (the kit subpackage unpacked), XEN_RPM_ID;
#                              build/cache/xen-livepatch/latest points at it
#   kit_loads DIR              kit_load of scripts/kit-lib.sh, quietly
#   KIT_TEST_ORIG              Debian's orig tarball of VERSION (after kit_test_debian)
#   kit_test_altered VERSION BUILD-ID
#                              `kit --debian VERSION` through a compiler wrapper
#                              that adds one code-generation flag (same --version)
#                              must be refused (build-id mismatch, nothing left);
#                              a full build, so done once per inputs: 0 when the
#                              refusal is on record in KIT_TEST_ALTERED (made now
#                              or before: its mtime says), 1 otherwise
#   nothing_at PATH            no PATH and no kit build's temporary beside it
#
# A build's duration goes to <entry>.seconds next to it (make bench reads it).

KIT_TEST_CACHE=${KIT_TEST_CACHE:-$XHP_TOP/build/cache}
KIT_TEST_DOWNLOADS=$KIT_TEST_CACHE/xen-hotpatch-build

kit_loads() {
	sh -c '. "$1/scripts/kit-lib.sh" && XHP_PROG=kit-test kit_load "$2"' sh "$XHP_TOP" "$1" >/dev/null 2>&1
}

# kit_test_lock NAME / kit_test_unlock: one maker of a cache entry at a time.
kit_test_lock() {
	mkdir -p "$KIT_TEST_CACHE/kits"
	exec {KIT_TEST_LOCK_FD}>"$KIT_TEST_CACHE/kits/.$1.lock"
	flock "$KIT_TEST_LOCK_FD"
}
kit_test_unlock() { exec {KIT_TEST_LOCK_FD}>&-; }

kit_test_debian() {
	local version=$1 link=$KIT_TEST_CACHE/kits/debian-$1 t0 tmp rc=0
	kit_test_lock "debian-$version"
	if [ -L "$link" ] && kit_loads "$link"; then
		:
	else
		echo "kit: building the kit of Debian's xen $version (once; cached in $KIT_TEST_CACHE/kits)"
		tmp=$KIT_TEST_CACHE/kits/.new-debian-$version
		rm -rf "$tmp"
		t0=$(date +%s)
		if "$XHP_TOP/scripts/xen-hotpatch-build" kit --debian "$version" -o "$tmp" \
			--cache "$KIT_TEST_DOWNLOADS"; then
			KIT_ID=$(sed -n "s/^XEN_BUILD_ID='\(.*\)'$/\1/p" "$tmp/kit.env")
			rm -rf "${KIT_TEST_CACHE:?}/kits/$KIT_ID"
			mv "$tmp" "$KIT_TEST_CACHE/kits/$KIT_ID" &&
				ln -sfn "$KIT_ID" "$link" &&
				echo $(($(date +%s) - t0)) > "$KIT_TEST_CACHE/kits/$KIT_ID.seconds" || rc=1
		else
			rc=1
		fi
	fi
	kit_test_unlock
	[ "$rc" -eq 0 ] || return 1
	KIT=$(cd "$link" && pwd -P)
	KIT_ID=$(basename "$KIT")
	KIT_TEST_ORIG=$(find "$KIT_TEST_DOWNLOADS/debian/xen_$version" -name '*.orig.tar.*' | head -n 1)
}

# What the xen-livepatch RPMs are made of: a new input is a new build.
kit_test_xen_rpm_key() {
	(cd "$XHP_TOP" && cat spec/xen-livepatch.spec.in spec/xen-livepatch.config spec/macros.xen-hotpatch-kit \
		spec/xen_hotpatch_kit.attr spec/xen-hotpatch-kit-rpmdeps scripts/build-kit.sh scripts/kit-lib.sh \
		scripts/mkpkg-kit-rpm.sh && sed -n '/^xen-livepatch-rpm:/,/^$/p' Makefile &&
		basename "$KIT_TEST_ORIG") | sha256sum | cut -c1-16
}

kit_test_xen_rpm() {
	local key base d t0 kitrpm rc=0
	[ -f "${KIT_TEST_ORIG:-}" ] || { echo "kit: no orig tarball (kit_test_debian first)"; return 1; }
	key=$(kit_test_xen_rpm_key)
	base=$KIT_TEST_CACHE/xen-livepatch
	d=$base/$key
	mkdir -p "$base"
	kit_test_lock "xen-livepatch-$key"
	if [ ! -f "$d/done" ]; then
		echo "kit: make xen-livepatch-rpm (once for these inputs; cached in $d)"
		# the packages and kit of older inputs are of no use any more
		if [ -L "$base/latest" ] && [ -f "$base/latest/kit-id" ]; then
			rm -rf "${KIT_TEST_CACHE:?}/kits/$(cat "$base/latest/kit-id")"
		fi
		[ ! -L "$base/latest" ] || rm -rf "$(readlink -f "$base/latest")" "$base/latest"
		rm -rf "$d"
		t0=$(date +%s)
		if make -C "$XHP_TOP" --no-print-directory xen-livepatch-rpm XEN_ORIG="$KIT_TEST_ORIG" B="$d" \
			> "$d.log" 2>&1; then
			echo $(($(date +%s) - t0)) > "$d/seconds"
			# the build tree and buildroot are gigabytes: keep the packages
			mv "$d/xen-rpm/RPMS" "$d/xen-rpm/SRPMS" "$d/xen-rpm/SPECS" "$d/" && rm -rf "$d/xen-rpm" &&
				touch "$d/done" || rc=1
		else
			grep -v '^+ ' "$d.log" | tail -n 25
			rc=1
		fi
	fi
	if [ "$rc" -eq 0 ]; then
		kitrpm=$(find "$d/RPMS" -name 'xen-hotpatch-kit-*.rpm' | head -n 1)
		XEN_RPM_ID=$(rpm -qp --provides "$kitrpm" 2>/dev/null | sed -n 's/^xen-hotpatch-kit(\([0-9a-f]*\))$/\1/p')
		XEN_RPM_KIT=$KIT_TEST_CACHE/kits/$XEN_RPM_ID
		if [ -z "$XEN_RPM_ID" ]; then
			echo "kit: no xen-hotpatch-kit(<build-id>) in what ${kitrpm:-$d/RPMS (no kit RPM)} provides"
			rc=1
		elif ! kit_loads "$XEN_RPM_KIT"; then
			rm -rf "$XEN_RPM_KIT" "$XEN_RPM_KIT.x"
			mkdir -p "$XEN_RPM_KIT.x"
			if ! (cd "$XEN_RPM_KIT.x" && rpm2cpio "$kitrpm" | cpio -idm --quiet) ||
				! mv "$XEN_RPM_KIT.x/usr/src/xen-hotpatch-kit/$XEN_RPM_ID" "$XEN_RPM_KIT"; then
				echo "kit: unpacking $kitrpm failed"
				rc=1
			fi
			rm -rf "$XEN_RPM_KIT.x"
		fi
		echo "$XEN_RPM_ID" > "$d/kit-id"
		ln -sfn "$key" "$base/latest"
	fi
	kit_test_unlock
	# shellcheck disable=SC2034 # for the caller
	XEN_RPM_DIR=$d
	return "$rc"
}

nothing_at() {
	if [ -e "$1" ] || [ -n "$(find "$(dirname "$1")" -maxdepth 1 -name ".$(basename "$1").kit.*")" ]; then
		echo "left: $(ls -a "$(dirname "$1")")"
		return 1
	fi
}

KIT_TEST_WRAP=$KIT_TEST_CACHE/kit-tests/wrap
kit_test_altered_wrapper() {
	mkdir -p "$KIT_TEST_WRAP"
	printf '#!/bin/sh\nexec /usr/bin/x86_64-linux-gnu-gcc-12 -fno-inline-small-functions "$@"\n' \
		> "$KIT_TEST_WRAP/x86_64-linux-gnu-gcc"
	chmod 0755 "$KIT_TEST_WRAP/x86_64-linux-gnu-gcc"
}

# the result file of these inputs (the wrapper and the kit scripts)
kit_test_altered_result() {
	kit_test_altered_wrapper
	echo "$KIT_TEST_CACHE/kit-tests/altered-env-$(cat "$KIT_TEST_WRAP/x86_64-linux-gnu-gcc" \
		"$XHP_TOP/scripts/build-kit.sh" "$XHP_TOP/scripts/kit-lib.sh" "$XHP_TOP/scripts/xen-hotpatch-build" |
		sha256sum | cut -c1-16).refused"
}

kit_test_altered() {
	local version=$1 id=$2 out=$KIT_TEST_CACHE/kit-tests/altered/k log rc=0
	KIT_TEST_ALTERED=$(kit_test_altered_result)
	log=$KIT_TEST_ALTERED.log
	kit_test_lock altered
	if [ ! -f "$KIT_TEST_ALTERED" ]; then
		rm -rf "$(dirname "$out")" && mkdir -p "$(dirname "$out")"
		PATH=$KIT_TEST_WRAP:$PATH "$XHP_TOP/scripts/xen-hotpatch-build" kit --debian "$version" -o "$out" \
			--cache "$KIT_TEST_DOWNLOADS" > "$log" 2>&1 || rc=$?
		if [ "$rc" -ne 1 ]; then
			echo "exit $rc"; tail -n 5 "$log"; rc=1
		elif ! grep -q "the rebuilt hypervisor has build-id [0-9a-f]*, Debian's xen $version has $id:" "$log"; then
			tail -n 5 "$log"; rc=1
		elif ! nothing_at "$out"; then
			rc=1
		else
			{ date -u; grep 'rebuilt hypervisor' "$log"; } > "$KIT_TEST_ALTERED"
			rc=0
		fi
	fi
	kit_test_unlock
	return "$rc"
}
