#!/bin/bash
# shellcheck disable=SC2317 # check_* functions are called through t()
# shellcheck disable=SC2015 # "A && B || { say; return 1; }": any failure is the test's failure
# shellcheck disable=SC2016 # ${...} and $1 in single quotes: dpkg formats, sh -c scripts
# tests/kit/run.sh: the kit tier (issue 9: kits, Xen with livepatch as RPMs,
# kit packages, the xen-hotpatch-build package). Real downloads from the
# Debian archive, real hypervisor builds with the real compiler, real
# rpmbuild, dpkg-buildpackage, lintian, rpmlint, apt in a debootstrap root
# and rpm in a test root.
#
#  - Debian's xen 4.17.5+72: `xen-hotpatch-build kit --debian` (built once,
#    cached in build/cache/kits/; tests/kit/lib.sh) must be the archive's
#    hypervisor to the bit, checked here against the archive's own packages
#    (downloaded by this test, not by the tool); kit.env, struct sizes;
#    kit-lib.sh recompiles objects byte for byte in another folder and finds
#    the objects a file feeds.
#  - kit_load refuses altered kits (build-id, compiler, package versions,
#    format, a kit.env line that is not KEY='value'); `kit` refuses bad
#    input, changes nothing, and an interrupted kit build leaves nothing.
#  - A build in a deliberately altered environment (a compiler wrapper that
#    adds one code-generation flag) is refused: build-id mismatch. It takes a
#    full hypervisor build, so its result is kept per inputs (the kit scripts
#    and the wrapper): when the same inputs were refused before it is reported
#    as skipped, not passed (XHP_KIT_RERUN=1 runs it again).
#  - spec/xen-livepatch.spec.in (make xen-livepatch-rpm, cached per inputs): the
#    hypervisor package, its kit subpackage (the kit of that very build,
#    made by `kit --source`), rpmlint.
#  - Kit packages (xen-hotpatch-mkpkg --kit) of two hypervisor builds: lintian
#    and rpmlint clean, installed side by side with apt in a debootstrap root
#    (their exact compiler Depends resolved from the archive; the installed
#    kits load there with the installed xen-hotpatch-build) and with rpm in a
#    test root; one removed, the other intact.
# Ends with "N passed, N failed". Work files stay in build/tests-kit/.
set -u
export LC_ALL=C

top=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export XHP_TOP=$top
work=$top/build/tests-kit
xhb=$top/scripts/xen-hotpatch-build
mkpkg=$top/scripts/xen-hotpatch-mkpkg
DEBV=4.17.5+72-g01140da4e8-1
DEBID=39a640e6f1412319235087391df9f1c5e13ae920	# payload-builds.md: the archive's build-id
HVPKG=xen-hypervisor-4.17-amd64
MAINT="xen-hotpatch tests <tests@example.org>"

# shellcheck source=tests/lib/checks.sh
. "$top/tests/lib/checks.sh"
# shellcheck source=tests/kit/lib.sh
. "$top/tests/kit/lib.sh"
# shellcheck source=tests/deb/lib.sh
. "$top/tests/deb/lib.sh"
deb_roots_cleanup_on_exit
# lib FUNCTION ARGS...: a kit-lib.sh function in a POSIX shell, as the payload builder runs it
lib() { sh -c '. "$1/scripts/kit-lib.sh"; XHP_PROG=kit-test; f=$2; shift 2; "$f" "$@"' sh "$top" "$@"; }
# libk KIT FUNCTION ARGS...: the same after kit_load KIT
libk() { sh -c '. "$1/scripts/kit-lib.sh"; XHP_PROG=kit-test; kit_load "$2" || exit 1; f=$3; shift 3; "$f" "$@"' sh "$top" "$@"; }
kv() { sed -n "s/^$2='\(.*\)'$/\1/p" "$1/kit.env"; }
# refused STATUS ERE CMD...: CMD exits with STATUS (1 refused, 2 usage) and
# says something matching ERE.
refused() {
	local st=$1 re=$2 out rc=0
	shift 2
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -eq "$st" ] || { echo "exit $rc, expected $st:"; printf '%s\n' "$out"; return 1; }
	printf '%s\n' "$out" | grep -Eq -- "$re" || { echo "no /$re/ in:"; printf '%s\n' "$out"; return 1; }
}

# ---- prerequisites -----------------------------------------------------------
for c in apt-get dpkg-source dpkg-deb dpkg-parsechangelog x86_64-linux-gnu-gcc flex bison python3 \
	readelf objcopy rpmbuild rpm rpmlint rpm2cpio cpio lintian dpkg-buildpackage dpkg-scanpackages \
	debootstrap chroot flock; do
	command -v "$c" > /dev/null 2>&1 || fatal "prerequisite: $c not installed (tests/install-deps.sh)"
done
[ "$(id -u)" -eq 0 ] || fatal "prerequisite: root (debootstrap, chroot, rpm --root)"

for r in "$work"/root-*; do [ -d "$r" ] && deb_root_done "$r"; done
rm -rf --one-file-system "$work"
mkdir -p "$work/log" "$work/home"
tier_start=$(date +%s)
# Debian's rpm keeps its database in ~/.rpmdb: a private HOME
export HOME=$work/home
printf '%%_dbpath /var/lib/rpm\n' > "$HOME/.rpmmacros"

# ---- the archive's own packages, the reference of the proof -------------------
say "Debian's $HVPKG $DEBV and -dbg (apt-get download, for the reference)"
ARCH=$KIT_TEST_CACHE/kit-tests/archive-$DEBV
mkdir -p "$ARCH"
if ! ls "$ARCH"/*-dbg_*.deb > /dev/null 2>&1 || ! ls "$ARCH"/"$HVPKG"_*.deb > /dev/null 2>&1; then
	(cd "$ARCH" && apt-get -q download "$HVPKG=$DEBV" "$HVPKG-dbg=$DEBV") > "$work/log/download.log" 2>&1 ||
		{ tail -n 5 "$work/log/download.log"; fatal "apt-get download $HVPKG=$DEBV and -dbg"; }
fi
REF=$work/archive
for d in "$ARCH"/*.deb; do dpkg-deb -x "$d" "$REF"; done
REF_SYMS=$REF/usr/lib/debug/boot/xen-syms-4.17-amd64
REF_ID=$(LC_ALL=C readelf -n "$REF_SYMS" | sed -n 's/^ *Build ID: //p')
t "the archive's -dbg xen-syms has the build-id the reference names ($DEBID)" eq "$REF_ID" "$DEBID" build-id

# ---- kit --debian -------------------------------------------------------------
say "xen-hotpatch-build kit --debian $DEBV (cached in $KIT_TEST_CACHE/kits)"
if ! kit_test_debian "$DEBV"; then
	fatal "xen-hotpatch-build kit --debian $DEBV makes a kit that loads"
fi
ok "xen-hotpatch-build kit --debian $DEBV makes a kit that loads ($KIT)"

check_proof() {
	eq "$(kv "$KIT" XEN_BUILD_ID)" "$REF_ID" "kit.env XEN_BUILD_ID" &&
		eq "$(lib kit_build_id "$KIT/xen-syms")" "$REF_ID" "the kit's xen-syms" &&
		cmp "$KIT/xen-syms" "$REF_SYMS" &&
		gzip -dc "$REF/boot/xen-4.17-amd64.gz" | cmp - "$KIT/tree/xen/xen" &&
		cmp "$KIT/config" "$REF/boot/xen-4.17-amd64.config"
}
t "the kit is the archive's hypervisor: build-id, xen-syms byte for byte (-dbg), image (xen.gz), config" check_proof

check_debian_env() {
	local sde
	sde=$(dpkg-parsechangelog -l "$KIT/tree/debian/changelog" -STimestamp)
	eq "$(kv "$KIT" XHP_KIT_FORMAT)" 1 format && eq "$(kv "$KIT" KIT_ORIGIN)" debian origin &&
		eq "$(kv "$KIT" XEN_VERSION)" "$DEBV" XEN_VERSION &&
		eq "$(kv "$KIT" KIT_CC)" x86_64-linux-gnu-gcc KIT_CC &&
		eq "$(kv "$KIT" KIT_CC_PACKAGE)/$(kv "$KIT" KIT_CC_PACKAGE_VERSION)" gcc-12/12.2.0-14+deb12u1 compiler &&
		eq "$(kv "$KIT" KIT_BINUTILS_PACKAGE)/$(kv "$KIT" KIT_BINUTILS_PACKAGE_VERSION)" \
			binutils-x86-64-linux-gnu/2.40-2 binutils &&
		eq "$(kv "$KIT" KIT_ENV_SOURCE_DATE_EPOCH)" "$sde" "SOURCE_DATE_EPOCH (changelog)" &&
		eq "$(kv "$KIT" KIT_ENV_DEB_VERSION)" "$DEBV" DEB_VERSION &&
		eq "$(kv "$KIT" KIT_ENV_DEB_MAINTAINER)" "$(sed -n 's/^Maintainer: //p' "$KIT/tree/debian/control")" DEB_MAINTAINER &&
		eq "$(kv "$KIT" KIT_ENV_XEN_BUILD_DATE)" "$(date -u -d "@$sde")" XEN_BUILD_DATE &&
		grep -q "^KIT_MAKE_EXTRA_CFLAGS_XEN_CORE='-ffile-prefix-map=$(kv "$KIT" KIT_BUILD_DIR)=\. " "$KIT/kit.env" &&
		# the version strings Debian's patch embeds, in the rebuilt compile.h
		grep -q '"Debian"' "$KIT/tree/xen/include/xen/compile.h" &&
		grep -q "\"$DEBV\"" "$KIT/tree/xen/include/xen/compile.h"
}
t "kit.env: format 1, Debian's compiler and binutils versions, Debian's build environment and make variables" \
	check_debian_env

check_sizes() {
	eq "$(kv "$KIT" KIT_SIZE_BUG_FRAME) $(kv "$KIT" KIT_SIZE_ALT_INSTR) $(kv "$KIT" KIT_SIZE_EXCEPTION_TABLE_ENTRY) $(kv "$KIT" KIT_SIZE_LIVEPATCH_FUNC)" \
		"8 14 8 104" "bug_frame alt_instr exception_table_entry livepatch_func"
}
t "special-section entry sizes from DWARF (payload-builds.md: 8, 14, 8; livepatch_func v2: 104)" check_sizes

# kit_object_cmd in a copy of the tree at another path: every object rebuilt
# byte for byte (a C object, assembler, an .init.o, a symlinked EFI source)
check_recompile() {
	local copy=$work/elsewhere/with/a/longer/path o cmd
	mkdir -p "$copy"
	cp -a "$KIT/tree/xen" "$copy/xen" || return 1
	for o in xen/common/kernel.o xen/arch/x86/x86_64/entry.o xen/common/bunzip2.init.o \
		xen/arch/x86/efi/boot.init.o xen/arch/x86/hvm/vmx/vmx.o xen/common/version.o; do
		rm -f "$copy/$o" "$copy/${o%.init.o}.o"
		cmd=$(libk "$KIT" kit_object_cmd "$o" "$copy") || return 1
		case $cmd in "cd '$copy/xen' && "*) ;; *) echo "$o: command does not start in the copy: $cmd"; return 1 ;; esac
		if printf '%s\n' "$cmd" | grep -qF "$(kv "$KIT" KIT_BUILD_DIR)"; then
			echo "$o: the command still names the kit's build folder"; return 1
		fi
		sh -c "$cmd" > "$work/log/recompile.log" 2>&1 || { cat "$work/log/recompile.log"; return 1; }
		cmp "$copy/$o" "$KIT/tree/$o" || return 1
	done
	rm -rf "$work/elsewhere"
}
t "kit_object_cmd: objects rebuilt in another folder are the originals byte for byte" check_recompile

check_objects_using() {
	local l n
	# common/compat/kernel.o builds common/kernel.c again (#include "../kernel.c")
	l=$(libk "$KIT" kit_objects_using xen/common/kernel.c) && printf '%s\n' "$l" | grep -qx xen/common/kernel.o &&
		printf '%s\n' "$l" | grep -qx xen/common/compat/kernel.o || { echo "kernel.c: $l"; return 1; }
	l=$(libk "$KIT" kit_objects_using xen/include/xen/compile.h) && printf '%s\n' "$l" | grep -qx xen/common/version.o || { echo "compile.h: $l"; return 1; }
	l=$(libk "$KIT" kit_objects_using xen/common/efi/boot.c) && printf '%s\n' "$l" | grep -qx xen/arch/x86/efi/boot.init.o || { echo "efi/boot.c: $l"; return 1; }
	l=$(libk "$KIT" kit_objects_using xen/common/bunzip2.c) && eq "$l" xen/common/bunzip2.init.o bunzip2.c || return 1
	n=$(libk "$KIT" kit_objects_using xen/include/xen/lib.h | wc -l) && [ "$n" -gt 200 ] || { echo "lib.h: $n objects"; return 1; }
	l=$(libk "$KIT" kit_objects_using xen/common/no-such-file.c) && eq "$l" "" "an unknown file" || return 1
	refused 1 'not a file under xen/' libk "$KIT" kit_objects_using tools/misc/xen-livepatch.c &&
		refused 1 'no kit loaded' lib kit_objects_using xen/common/kernel.c &&
		refused 1 'no kit loaded' lib kit_object_cmd xen/common/kernel.o
}
t "kit_objects_using: a source, a generated header, a symlinked source, an .init.o, a common header, nothing unknown" \
	check_objects_using

# ---- kit_load refuses altered kits ------------------------------------------
say "kit_load on altered copies of the kit"
# alter NAME SED-EXPRESSION: a hard-linked copy of the kit with kit.env rewritten
alter() {
	local d=$work/altered/$1
	mkdir -p "$work/altered"
	cp -al "$KIT" "$d" && rm "$d/kit.env" && sed -e "$2" "$KIT/kit.env" > "$d/kit.env" && echo "$d"
}
t "kit_load: xen-syms is not the build-id kit.env names" \
	refused 1 "xen-syms has build-id $DEBID, kit.env says 0123456789abcdef0123456789abcdef01234567" \
	lib kit_load "$(alter id "s/^XEN_BUILD_ID=.*/XEN_BUILD_ID='0123456789abcdef0123456789abcdef01234567'/")"
altsyms() {
	local d
	d=$(alter syms 's/^$//') && rm "$d/xen-syms" && objcopy --remove-section .note.gnu.build-id "$KIT/xen-syms" "$d/xen-syms" &&
		refused 1 'xen-syms is missing or has no build-id' lib kit_load "$d"
}
t "kit_load: a xen-syms without build-id" altsyms
t "kit_load: another compiler on this host than the kit's" \
	refused 1 "this host's compiler is 'x86_64-linux-gnu-gcc \(Debian 12\.2\.0-14\+deb12u1\) 12\.2\.0', the kit was built with 'x86_64-linux-gnu-gcc \(Debian 12\.2\.0-99\) 12\.2\.0'" \
	lib kit_load "$(alter cc "s/12.2.0-14+deb12u1) 12.2.0'\$/12.2.0-99) 12.2.0'/")"
t "kit_load: another binutils package version" \
	refused 1 "package binutils-x86-64-linux-gnu is 2\.40-2 here, the kit was built with 2\.40-9" \
	lib kit_load "$(alter binutils "s/^KIT_BINUTILS_PACKAGE_VERSION=.*/KIT_BINUTILS_PACKAGE_VERSION='2.40-9'/")"
t "kit_load: a kit format this tool does not read" \
	refused 1 "format '2', this tool reads format 1" \
	lib kit_load "$(alter format "s/^XHP_KIT_FORMAT=.*/XHP_KIT_FORMAT='2'/")"
t "kit_load: a kit.env without a required key" \
	refused 1 'kit\.env has no KIT_SIZE_ALT_INSTR' lib kit_load "$(alter key '/^KIT_SIZE_ALT_INSTR=/d')"
inject() {
	local d
	d=$(alter inject "s|^KIT_CC=.*|KIT_CC=\$(touch $work/injected)|") || return 1
	refused 1 "kit\.env line [0-9]+ is not a kit KEY='value' line" lib kit_load "$d" || return 1
	[ ! -e "$work/injected" ] || { echo "kit.env was run"; return 1; }
	# a quoted value, but not a kit's name: it would set the caller's PATH
	printf "PATH='%s'\n" "$work" >> "$d/kit.env.new" && sed '/^KIT_CC=/d' "$KIT/kit.env" >> "$d/kit.env.new" &&
		printf "KIT_CC='x86_64-linux-gnu-gcc'\n" >> "$d/kit.env.new" && mv "$d/kit.env.new" "$d/kit.env" &&
		refused 1 "kit\.env line 1 is not a kit KEY='value' line" lib kit_load "$d" || return 1
	# a value with terminal escapes is shown escaped
	sed "s/^XEN_BUILD_ID=.*/XEN_BUILD_ID='\x1b[31mred'/" "$KIT/kit.env" > "$d/kit.env" &&
		refused 1 "XEN_BUILD_ID '\?\[31mred' is not lower-case hex" lib kit_load "$d"
}
t "kit_load: a kit.env line that is not a kit KEY='value' (command substitution, PATH) is refused, never run; unprintable values escaped" inject
t "kit_load: not a kit" refused 1 'no kit\.env \(not a kit\)' lib kit_load "$work/log"
rm -rf "$work/altered"

# ---- kit: bad input changes nothing --------------------------------------------
say "xen-hotpatch-build kit: refusals"
t "usage: no -o" refused 2 'say where the kit goes' "$xhb" kit --debian "$DEBV"
t "usage: --debian and --source" refused 2 'say --debian VERSION, or --source' \
	"$xhb" kit --debian "$DEBV" --source "$work" --config /dev/null -o "$work/x"
t "usage: an unknown subcommand" refused 2 'unknown subcommand' "$xhb" frobnicate
t "usage: an option without its value" refused 2 '-o needs a value' "$xhb" kit --debian "$DEBV" -o
bad_version() {
	refused 1 'not a Debian version of xen' "$xhb" kit --debian 'x; rm -rf /' -o "$work/r1" &&
		refused 1 "Debian's $HVPKG 4\.17\.5\+72-g01140da4e8-99 is not in this host's apt sources" \
			"$xhb" kit --debian 4.17.5+72-g01140da4e8-99 -o "$work/r1" --cache "$KIT_TEST_DOWNLOADS" &&
		nothing_at "$work/r1"
}
t "kit --debian: a malformed version, a version the archive does not have; nothing written" bad_version
existing() {
	mkdir -p "$work/full" && echo keep > "$work/full/mine" &&
		refused 1 'exists \(give a new or empty folder\)' "$xhb" kit --debian "$DEBV" -o "$work/full" &&
		[ "$(cat "$work/full/mine")" = keep ] && [ "$(ls -A "$work/full")" = mine ]
}
t "kit: an -o folder that holds something is refused and left as it is" existing
no_livepatch() {
	mkdir -p "$work/src/xen" && touch "$work/src/xen/Makefile" &&
		printf 'CONFIG_DEBUG=n\n# CONFIG_LIVEPATCH is not set\n' > "$work/nolp.config" &&
		refused 1 "$work/nolp.config: CONFIG_LIVEPATCH is not set" \
			"$xhb" kit --source "$work/src" --config "$work/nolp.config" -o "$work/r2" &&
		nothing_at "$work/r2" &&
		refused 1 "not a Xen source tree \(no xen/Makefile\)" \
			"$xhb" kit --source "$work/log" --config "$top/spec/xen-livepatch.config" -o "$work/r2" &&
		refused 1 "no such file" "$xhb" kit --source "$work/src" --config "$work/none.config" -o "$work/r2"
}
t "kit --source: a config without CONFIG_LIVEPATCH, a folder that is not Xen, a missing config; nothing written" \
	no_livepatch

# An interrupted kit build (SIGTERM while make runs) stops its make and leaves
# nothing: no kit, no work folder, no compiler still running in it.
interrupted() {
	local out=$work/int/k pid rc=0
	mkdir -p "$work/int"
	"$xhb" kit --debian "$DEBV" -o "$out" --cache "$KIT_TEST_DOWNLOADS" > "$work/log/int.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 300); do
		grep -qs -- '-c common/' "$work/int"/.k.kit.*/build.log && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ] || { echo "exit $rc"; cat "$work/log/int.log"; return 1; }
	grep -q 'interrupted; nothing written' "$work/log/int.log" || { cat "$work/log/int.log"; return 1; }
	sleep 1
	nothing_at "$out" || return 1
	if pgrep -f "$work/int/" > /dev/null; then echo "still running:"; pgrep -af "$work/int/"; return 1; fi
}
t "kit: SIGTERM during the build stops make and leaves nothing" interrupted

# ---- the altered environment (a full build; result kept per inputs) ----------
say "kit --debian in a deliberately altered environment (compiler wrapper)"
# kit_test_altered (tests/kit/lib.sh) runs once per inputs, possibly already
# in the background of this make check (tests/kit/prepare.sh): a result made
# before this run is reported as skipped (XHP_KIT_RERUN=1 runs it again).
altered_claim="a hypervisor rebuilt in an altered environment is refused: build-id mismatch, nothing written"
[ -z "${XHP_KIT_RERUN:-}" ] || rm -f "$(kit_test_altered_result)"
if kit_test_altered "$DEBV" "$DEBID" > "$work/log/altered-test.out" 2>&1; then
	if [ "$(stat -c %Y "$KIT_TEST_ALTERED")" -lt "${XHP_RUN_START:-$tier_start}" ]; then
		skip "$altered_claim" \
			"these inputs were refused at $(head -n 1 "$KIT_TEST_ALTERED"); XHP_KIT_RERUN=1 runs it again"
	else
		ok "$altered_claim"
	fi
else
	ko "$altered_claim"
	indent < "$work/log/altered-test.out"
fi

# ---- Xen with livepatch as RPMs ---------------------------------------------------
say "spec/xen-livepatch.spec.in (make xen-livepatch-rpm; cached per inputs)"
if ! kit_test_xen_rpm; then
	ko "make xen-livepatch-rpm builds the hypervisor package and its kit subpackage"
	finish
fi
XV=4.17.5+72-1
HVRPM=$XEN_RPM_DIR/RPMS/x86_64/xen-livepatch-$XV.x86_64.rpm
KITRPM=$XEN_RPM_DIR/RPMS/x86_64/xen-hotpatch-kit-$XV-$XV.x86_64.rpm
[ -f "$HVRPM" ] && [ -f "$KITRPM" ] ||
	fatal "make xen-livepatch-rpm builds xen-livepatch-$XV and xen-hotpatch-kit-$XV ($(ls "$XEN_RPM_DIR/RPMS/x86_64"))"
ok "make xen-livepatch-rpm builds xen-livepatch-$XV and the kit subpackage xen-hotpatch-kit-$XV ($XEN_RPM_DIR)"

check_hv_rpm() {
	local x=$work/hvrpm f o id
	mkdir -p "$x" && (cd "$x" && rpm2cpio "$HVRPM" | cpio -idm --quiet) || return 1
	eq "$(rpm -qlp "$HVRPM" | tr '\n' ' ')" \
		"/boot/xen-$XV.config /boot/xen-$XV.gz /boot/xen-$XV.map /usr/lib/debug/boot/xen-syms-$XV " files || return 1
	for o in LIVEPATCH FAST_SYMBOL_LOOKUP ENFORCE_UNIQUE_SYMBOLS DEBUG_INFO; do
		grep -qx "CONFIG_$o=y" "$x/boot/xen-$XV.config" || { echo "no CONFIG_$o=y"; return 1; }
	done
	f=$x/usr/lib/debug/boot/xen-syms-$XV
	readelf -S "$f" | grep -q ' \.debug_info ' || { echo "xen-syms without DWARF"; return 1; }
	id=$(lib kit_build_id "$f") && eq "$id" "$XEN_RPM_ID" "xen-syms build-id vs the kit subpackage's" || return 1
	# the image in /boot is the kit's hypervisor, and its xen-syms the kit's
	gzip -dc "$x/boot/xen-$XV.gz" | cmp - "$XEN_RPM_KIT/tree/xen/xen" && cmp "$f" "$XEN_RPM_KIT/xen-syms"
}
t "hypervisor package: /boot/xen-$XV.{gz,config,map}, xen-syms with DWARF; LIVEPATCH, FAST_SYMBOL_LOOKUP, ENFORCE_UNIQUE_SYMBOLS, DEBUG_INFO; the kit's very build" \
	check_hv_rpm

check_kit_rpm() {
	local req
	eq "$(rpm -qlp "$KITRPM" | sed -n 2p)" "/usr/src/xen-hotpatch-kit/$XEN_RPM_ID" "kit folder" || return 1
	rpm -qp --provides "$KITRPM" | grep -qx "xen-hotpatch-kit($XEN_RPM_ID)" || { rpm -qp --provides "$KITRPM"; return 1; }
	req=$(rpm -qp --requires "$KITRPM" | grep -v '^rpmlib(')
	# the compiler and linker the kit was built with (not rpm-owned on this host:
	# their paths), the weak xen-hotpatch-build, and nothing from the tree
	eq "$(printf '%s\n' "$req" | tr '\n' ' ')" "/usr/bin/gcc /usr/bin/ld " "Requires" &&
		rpm -qp --recommends "$KITRPM" | grep -qx xen-hotpatch-build
}
t "kit subpackage: /usr/src/xen-hotpatch-kit/<build-id>, Provides xen-hotpatch-kit(<build-id>), Requires the compiler and linker only" \
	check_kit_rpm

check_source_kit() {
	eq "$(kv "$XEN_RPM_KIT" KIT_ORIGIN)" source origin && eq "$(kv "$XEN_RPM_KIT" XEN_VERSION)" "$XV" XEN_VERSION &&
		eq "$(date -u -d "@$(kv "$XEN_RPM_KIT" KIT_ENV_SOURCE_DATE_EPOCH)" +%F)" \
			"$(date -u -d "@$(rpm -qp --qf '%{CHANGELOGTIME}' "$HVRPM")" +%F)" \
			"SOURCE_DATE_EPOCH (the day of the spec's changelog)" &&
		eq "$(kv "$XEN_RPM_KIT" KIT_MAKE_XEN_VENDORVERSION)" "+72-1" "--make XEN_VENDORVERSION" &&
		eq "$(kv "$XEN_RPM_KIT" KIT_SIZE_ALT_INSTR)" 14 "alt_instr size" &&
		kit_loads "$XEN_RPM_KIT" || return 1
	# the copy named through a symbolic link: DWARF records the physical folder
	local copy=$work/srckit o=xen/common/livepatch.o cmd
	mkdir -p "$copy.real" && ln -s srckit.real "$copy" && cp -a "$XEN_RPM_KIT/tree/xen" "$copy/xen" &&
		rm -f "$copy/$o" && cmd=$(libk "$XEN_RPM_KIT" kit_object_cmd "$o" "$copy") &&
		sh -c "$cmd" > /dev/null 2>&1 && cmp "$copy/$o" "$XEN_RPM_KIT/tree/$o"
	local rc=$?
	rm -rf "$copy" "$copy.real"
	return "$rc"
}
t "kit --source (inside the spec): origin source, the hypervisor's own version, make variables recorded; loads; an object with DWARF recompiles byte for byte in a copy reached through a symlink" \
	check_source_kit

rpmlint_clean() { # LOG RC FILES...
	local log=$1 rc=$2
	shift 2
	rpmlint -r "$rc" "$@" > "$log" 2>&1
	if grep -E '^[^ ]+: E: |[0-9]+ errors' "$log" | grep -vq ' 0 errors'; then grep -E ': E: |errors' "$log" | tail -n 20; return 1; fi
}
cat "$top/spec/kit.rpmlintrc" "$top/spec/xen-livepatch.rpmlintrc" > "$work/xen-livepatch.rpmlintrc"
t "rpmlint: xen-livepatch, its kit subpackage, SRPM and spec have no error" \
	rpmlint_clean "$work/log/rpmlint-xen.log" "$work/xen-livepatch.rpmlintrc" \
	"$HVRPM" "$KITRPM" "$XEN_RPM_DIR"/SRPMS/*.src.rpm "$XEN_RPM_DIR/SPECS/xen-livepatch.spec"

# ---- kit packages -------------------------------------------------------------------
say "xen-hotpatch-mkpkg --kit: the Debian kit and the spec's kit"
D=$work/debs
mkdir -p "$D" "$work/rpms"
DEBPKG=xen-hotpatch-kit-$DEBV
SRCPKG=xen-hotpatch-kit-$XV
mkdebs() {
	"$mkpkg" --kit "$KIT" --deb --maintainer "$MAINT" --outdir "$D" &&
		"$mkpkg" --kit "$XEN_RPM_KIT" --deb --maintainer "$MAINT" --outdir "$D" &&
		"$mkpkg" --kit "$KIT" --rpm --maintainer "$MAINT" --outdir "$work/rpms"
}
if mkdebs > "$work/log/mkpkg.log" 2>&1; then
	ok "xen-hotpatch-mkpkg --kit --deb (both kits) and --rpm (the Debian kit)"
else
	ko "xen-hotpatch-mkpkg --kit --deb (both kits) and --rpm (the Debian kit)"
	tail -n 20 "$work/log/mkpkg.log" | indent
	finish
fi
DEB1=$D/${DEBPKG}_1-1_amd64.deb
DEB2=$D/${SRCPKG}_1-1_amd64.deb
RPM1=$work/rpms/$DEBPKG-1-1.x86_64.rpm

check_deb_fields() {
	local f
	f=$(dpkg-deb -f "$DEB1" Package Provides Depends Enhances Recommends)
	printf '%s\n' "$f" | grep -qx "Provides: xen-hotpatch-kit-id-$DEBID" &&
		printf '%s\n' "$f" | grep -q "^Depends: .*gcc-12 (= 12\.2\.0-14+deb12u1), binutils-x86-64-linux-gnu (= 2\.40-2)" &&
		printf '%s\n' "$f" | grep -qx "Enhances: $HVPKG (= $DEBV)" &&
		printf '%s\n' "$f" | grep -qx "Recommends: xen-hotpatch-build" || { printf '%s\n' "$f"; return 1; }
	dpkg-deb -c "$DEB1" > "$work/log/deb1.list" && grep -q "\./usr/src/xen-hotpatch-kit/$DEBID/kit\.env$" "$work/log/deb1.list" &&
		ar t "$DEB2" | grep -qx 'data\.tar\.xz' &&
		eq "$(dpkg-deb -f "$DEB2" Provides)" "xen-hotpatch-kit-id-$XEN_RPM_ID" "Provides of the spec kit's .deb"
}
t "kit .debs: xen-hotpatch-kit-<xen version>, Provides the build-id, Depends on the exact gcc-12 and binutils, xz -1 data" \
	check_deb_fields
lintian_clean() {
	lintian --tag-display-limit 0 "$@" > "$work/log/lintian.log" 2>&1
	if grep -E '^[EW]: ' "$work/log/lintian.log"; then return 1; fi
}
t "lintian: no error or warning in the kit .debs" lintian_clean "$DEB1" "$DEB2"
check_rpm1() {
	eq "$(rpm -qp --qf '%{PAYLOADCOMPRESSOR}' "$RPM1") $(rpm -qp --qf '%{PAYLOADCOMPRESSOR}' "$KITRPM")" "zstd zstd" \
		"payload compression" &&
		rpm -qp --provides "$RPM1" | grep -qx "xen-hotpatch-kit($DEBID)" &&
		eq "$(rpm -qp --requires "$RPM1" | grep -v '^rpmlib(' | tr '\n' ' ')" \
			"/usr/bin/x86_64-linux-gnu-gcc /usr/bin/x86_64-linux-gnu-ld " Requires
}
t "kit .rpm: zstd payload (both kit RPMs), Provides xen-hotpatch-kit(<build-id>), Requires the kit's compiler and linker" check_rpm1
t "rpmlint: the kit .rpm has no error (kit.rpmlintrc)" \
	rpmlint_clean "$work/log/rpmlint-kit.log" "$top/spec/kit.rpmlintrc" "$RPM1"

# ---- side by side: apt in a debootstrap root ------------------------------------------
say "the two kit .debs and xen-hotpatch-build in a debootstrap root (apt)"
# The project's packages: those the deb and rpm tiers of this `make check` made
# (build/deb, build/rpm) when no tracked file is newer, else made here.
# project_packages FORMAT: sets PKGDIR
project_packages() {
	local d=$top/build/$1 newest
	newest=$(cd "$top" && git ls-files -z | xargs -0 stat -c '%Y %n' 2>/dev/null | sort -n | tail -n 1 | cut -d' ' -f2-)
	if [ -n "$(find "$d" -name 'xen-hotpatch-build*' -newer "$top/$newest" 2>/dev/null | head -n 1)" ]; then
		PKGDIR=$d
		setup "the $1 packages of this tree's $1 tier ($d)"
		return 0
	fi
	PKGDIR=$work/pkg/$1
	make -C "$top" --no-print-directory "$1" B="$work/pkg" > "$work/log/make-$1.log" 2>&1 ||
		{ grep -v '^+ ' "$work/log/make-$1.log" | tail -n 20; return 1; }
}
if ! project_packages deb > "$work/log/packages-deb.out" 2>&1; then
	ko "make deb builds xen-hotpatch-build"
	indent < "$work/log/packages-deb.out"
	finish
fi
cat "$work/log/packages-deb.out"
BUILDDEB=$(find "$PKGDIR" -name 'xen-hotpatch-build_*.deb' 2>/dev/null | head -n 1)
check_build_deb() {
	local l
	[ -f "$BUILDDEB" ] || { echo "no xen-hotpatch-build .deb in $PKGDIR"; return 1; }
	l=$(dpkg-deb -c "$BUILDDEB" | awk '{print $6}')
	for f in ./usr/bin/xen-hotpatch-build ./usr/share/xen-hotpatch/build/kit-lib.sh \
		./usr/share/xen-hotpatch/build/build-kit.sh ./usr/share/xen-hotpatch/mkpkg/mkpkg-kit.sh \
		./usr/share/xen-hotpatch/mkpkg/mkpkg-kit-deb.sh ./usr/share/man/man1/xen-hotpatch-build.1.gz; do
		printf '%s\n' "$l" | grep -qx -- "$f" || { echo "no $f"; return 1; }
	done
	lintian --tag-display-limit 0 "$BUILDDEB" > "$work/log/lintian-build.log" 2>&1
	if grep -E '^E: ' "$work/log/lintian-build.log"; then return 1; fi
}
t "make deb: xen-hotpatch-build with the command, kit-lib.sh, the kit parts of mkpkg, the man page; lintian no error" \
	check_build_deb

check_build_rpm() {
	local r l f
	project_packages rpm || return 1
	r=$(find "$PKGDIR/RPMS" -name 'xen-hotpatch-build-*.rpm' | head -n 1)
	[ -f "$r" ] || { echo "no xen-hotpatch-build RPM"; return 1; }
	l=$(rpm -qlp "$r")
	for f in /usr/bin/xen-hotpatch-build /usr/share/xen-hotpatch/build/kit-lib.sh \
		/usr/share/xen-hotpatch/build/kit.spec.in /usr/share/xen-hotpatch/mkpkg/mkpkg-kit-rpm.sh \
		/usr/lib/rpm/macros.d/macros.xen-hotpatch-kit /usr/lib/rpm/fileattrs/xen_hotpatch_kit.attr \
		/usr/lib/rpm/xen-hotpatch-kit-rpmdeps; do
		printf '%s\n' "$l" | grep -qx -- "$f" || { echo "no $f"; return 1; }
	done
	printf '%s\n' "$l" | grep -q '^/usr/share/man/man1/xen-hotpatch-build\.1' || { echo "no man page"; return 1; }
	# the kit parts of mkpkg are xen-hotpatch-build's, not xen-hotpatch-rpm-macros'
	if rpm -qlp "$PKGDIR"/RPMS/noarch/xen-hotpatch-rpm-macros-*.rpm | grep -q mkpkg-kit; then
		echo "mkpkg-kit*.sh in two packages"; return 1
	fi
	# with the other packages of the spec: its waivers are for all of them
	rpmlint_clean "$work/log/rpmlint-build.log" "$top/spec/xen-hotpatch.rpmlintrc" \
		"$PKGDIR"/RPMS/*/*.rpm "$PKGDIR"/SRPMS/*.src.rpm
}
t "make rpm: xen-hotpatch-build with the command, kit-lib.sh, kit macros, generator and template, man page; rpmlint no error" \
	check_build_rpm

deb_cache_root || fatal "prepare the cached debootstrap root"
R=$work/root-kits
ROOTS+=("$R")
deb_root_new "$R" || fatal "restore the debootstrap root"
mkdir -p "$R/srv/repo"
cp "$DEB1" "$DEB2" "$BUILDDEB" "$R/srv/repo/"
(cd "$R/srv/repo" && dpkg-scanpackages . /dev/null > Packages 2>/dev/null)
echo 'deb [trusted=yes] file:/srv/repo ./' > "$R/etc/apt/sources.list.d/kits.list"
apt_install_kits() {
	apt_root "$R" update > "$work/log/apt-update.log" 2>&1 || {
		tail -n 5 "$work/log/apt-update.log"; return 1; }
	# by the build-id each provides, as a payload build asks for its kit
	apt_root "$R" install "xen-hotpatch-kit-id-$DEBID" "xen-hotpatch-kit-id-$XEN_RPM_ID" xen-hotpatch-build \
		> "$work/log/apt-install.log" 2>&1 || { tail -n 20 "$work/log/apt-install.log"; return 1; }
	[ -f "$R/usr/src/xen-hotpatch-kit/$DEBID/kit.env" ] && [ -f "$R/usr/src/xen-hotpatch-kit/$XEN_RPM_ID/kit.env" ] &&
		in_root "$R" dpkg-query -W -f '${Version}\n' gcc-12 | grep -qx '12.2.0-14+deb12u1'
}
t "apt installs both kits side by side, by the build-ids they provide, with the exact gcc-12 from the archive" \
	apt_install_kits
installed_loads() {
	local id
	for id in "$DEBID" "$XEN_RPM_ID"; do
		in_root "$R" sh -c '. /usr/share/xen-hotpatch/build/kit-lib.sh && kit_load "$1" && echo "$XEN_BUILD_ID"' \
			sh "/usr/src/xen-hotpatch-kit/$id" > "$work/log/in-root.log" 2>&1 || { cat "$work/log/in-root.log"; return 1; }
		grep -qx "$id" "$work/log/in-root.log" || { cat "$work/log/in-root.log"; return 1; }
	done
	in_root "$R" xen-hotpatch-build kit --help | grep -q -- '--debian VERSION'
}
t "in the root, the installed xen-hotpatch-build loads both installed kits (build-id, compiler, binutils)" installed_loads
remove_one() {
	apt_root "$R" purge "$DEBPKG" > "$work/log/apt-purge.log" 2>&1 || { tail -n 10 "$work/log/apt-purge.log"; return 1; }
	[ ! -e "$R/usr/src/xen-hotpatch-kit/$DEBID" ] && [ -f "$R/usr/src/xen-hotpatch-kit/$XEN_RPM_ID/kit.env" ] &&
		in_root "$R" sh -c '. /usr/share/xen-hotpatch/build/kit-lib.sh && kit_load "$1"' sh "/usr/src/xen-hotpatch-kit/$XEN_RPM_ID"
}
t "purging one kit leaves the other whole" remove_one
deb_root_done "$R"

# ---- side by side: rpm in a test root ---------------------------------------------------
say "the Debian kit .rpm and the spec's kit subpackage in an rpm test root"
RR=$work/rpmroot
# what a distribution's compiler packages provide, for this test root only
toolchain_rpm() {
	local s=$work/toolchain.spec
	cat > "$s" <<-'EOF'
	Name: xhp-kit-testroot-toolchain
	Version: 1
	Release: 1
	Summary: test only: stands for the compiler and binutils packages
	License: GPL-2.0-only
	BuildArch: noarch
	Provides: /usr/bin/gcc /usr/bin/ld /usr/bin/x86_64-linux-gnu-gcc /usr/bin/x86_64-linux-gnu-ld
	%description
	Test only.
	%files
	EOF
	rpmbuild -bb --nodeps --define "_topdir $work/rpmbuild" "$s" > "$work/log/toolchain-rpm.log" 2>&1
}
rpm_side_by_side() {
	toolchain_rpm || { tail -n 5 "$work/log/toolchain-rpm.log"; return 1; }
	rpm --root "$RR" --initdb &&
		rpm --root "$RR" -i "$work"/rpmbuild/RPMS/noarch/xhp-kit-testroot-toolchain-1-1.noarch.rpm &&
		rpm --root "$RR" -i "$RPM1" "$KITRPM" || return 1
	[ "$(rpm --root "$RR" -q --whatprovides "xen-hotpatch-kit($DEBID)")" = "$DEBPKG-1-1.x86_64" ] &&
		[ "$(rpm --root "$RR" -q --whatprovides "xen-hotpatch-kit($XEN_RPM_ID)")" = "$SRCPKG-$XV.x86_64" ] &&
		cmp "$RR/usr/src/xen-hotpatch-kit/$DEBID/xen-syms" "$KIT/xen-syms" &&
		cmp "$RR/usr/src/xen-hotpatch-kit/$XEN_RPM_ID/xen-syms" "$XEN_RPM_KIT/xen-syms" || return 1
	rpm --root "$RR" -e "$SRCPKG" && [ ! -e "$RR/usr/src/xen-hotpatch-kit/$XEN_RPM_ID" ] &&
		kit_loads "$RR/usr/src/xen-hotpatch-kit/$DEBID"
}
t "rpm installs both kits side by side (their Requires met), erasing one leaves the other loading" rpm_side_by_side

finish
