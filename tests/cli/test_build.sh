#!/bin/sh
# Building: without libxenctrl the tool says so; make install lays out the
# deliverables where DESIGN.md section 4 puts them.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

oneTimeSetUp() {
	NOXEN=$XHP_TOP/build/noxen
	make -s -C "$XHP_TOP" B="$NOXEN" WITH_XEN=no all >/dev/null 2>&1
}

test_built_without_xen_says_so() {
	assertTrue "noxen build" "[ -x '$NOXEN/xen-hotpatch' ]"
	"$NOXEN/xen-hotpatch" --backend xen --root "$R" status >"$T/out" 2>"$T/err"
	assertEquals "exit" 1 "$?"
	assertContains "$(cat "$T/err")" "built without Xen support"
	assertContains "$("$NOXEN/xen-hotpatch" version)" "built without Xen support"
	# the simulated backend still works in such a build
	put zz-base
	"$NOXEN/xen-hotpatch" --root "$R" apply >"$T/out" 2>"$T/err"
	assertEquals "sim apply exit" 0 "$?"
	assertEquals "zz-base" "$(applied)"
}

test_xen_backend_compiled_in() {
	assertContains "$("$XHP_BIN" version)" "xen backend: libxenctrl"
	assertTrue "links libxenctrl" "ldd '$XHP_BIN' | grep -q libxenctrl"
}

test_xen_backend_without_a_hypervisor() {
	# this machine is no dom0: the xen backend refuses clearly, exit 1
	if [ -e /dev/xen/privcmd ]; then
		startSkipping
	fi
	xhp --backend xen status
	assertEquals "exit" 1 "$RC"
	assertContains "$(cat "$T/err")" "no Xen hypervisor here"
	assertEquals "one line" 1 "$(wc -l <"$T/err")"
}

test_make_install_layout() {
	D=$T/dest
	make -s -C "$XHP_TOP" install DESTDIR="$D" PREFIX=/usr >/dev/null 2>&1
	for f in /usr/sbin/xen-hotpatch /usr/bin/xen-hotpatch-sim /etc/xen-hotpatch/xen-hotpatch.conf \
		/usr/lib/systemd/system/xen-hotpatch.service \
		/usr/lib/dracut/modules.d/95xen-hotpatch/module-setup.sh \
		/usr/share/initramfs-tools/hooks/xen-hotpatch \
		/usr/share/initramfs-tools/scripts/init-bottom/xen-hotpatch \
		/usr/lib/rpm/macros.d/macros.xen-hotpatch /usr/bin/xen-hotpatch-mkpkg \
		/usr/bin/dh_xen_hotpatch; do
		assertTrue "installed $f" "[ -e '$D$f' ]"
	done
	assertTrue "payload folder" "[ -d '$D/usr/lib/xen-hotpatch' ]"
	assertTrue "conf.d" "[ -d '$D/etc/xen-hotpatch/conf.d' ]"
}

# shellcheck disable=SC1091
. shunit2
