#!/bin/bash
# shellcheck disable=SC2317 # check_* functions are called through t()
# shellcheck disable=SC2016 # ${...} in single quotes: dpkg formats and substvars
# tests/deb/run.sh: the Debian packaging tier (issue 4). Real dpkg-buildpackage,
# lintian, debhelper, dpkg and apt; the real xen-hotpatch tool from the .debs
# `make deb` builds, installed with apt into debootstrap roots, on the
# simulated hypervisor kept inside each root.
#
#  - `make deb` builds xen-hotpatch, -sim, -dracut, -initramfs-tools,
#    dh-xen-hotpatch, python3-xen-hotpatch and xen-hotpatch-ansible from
#    `make dist`; lintian finds no error and no warning
#    (the waived ones carry their reasons in debian/*.lintian-overrides);
#    every command has its manual page; xen-hotpatch-sim needs no Xen library.
#  - Payloads forged by tests/fixtures/ are packaged by the real
#    scripts/xen-hotpatch-mkpkg --deb (the uninstalled add-on of
#    scripts/debhelper, the tool taken from the built xen-hotpatch .deb);
#    dh_xen_hotpatch is also run on hand-written source packages (malformed
#    payload, chain in one package, control without the substvars).
#  - A root: debootstrap --variant=minbase bookworm, made once and cached as a
#    tarball under build/cache/ (the mirror and suites are the host's apt
#    sources, read at run time), restored fresh per scenario group. The
#    project's .debs and the payload .debs are published in a flat apt
#    repository inside the root; apt takes their Depends (libxenctrl...) from
#    the Debian archive. The root's policy (conf.d) says backend =
#    sim:/var/lib/xen-hotpatch-sim and apply_on_install = always (auto and
#    never for the skip scenarios); /proc is mounted while apt runs, so the
#    tool sees the chroot.
#  - Scenarios 1-7 of issue 4, asserted through `xen-hotpatch-sim
#    ROOT/var/lib/xen-hotpatch-sim show --json` (applied stack, history,
#    actions), ROOT/run/xen-hotpatch/apply.log (one line per converge run),
#    the trigproc lines of ROOT/var/log/dpkg.log, `xen-hotpatch status` run in
#    the root, and apt's output.
# Ends with "N passed, N failed". Work files stay in build/tests-deb/.
set -u
export LC_ALL=C

top=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export XHP_TOP=$top
# shellcheck source=tests/deb/lib.sh
. "$top/tests/deb/lib.sh"
forge=$top/tests/fixtures/forge-payload.sh
mkset=$top/tests/fixtures/make-set.sh
mkpkg=$top/scripts/xen-hotpatch-mkpkg
work=$top/build/tests-deb
P=$work/payloads	# payload files
D=$work/debs		# payload packages
L=$work/logs		# what each step printed
PKG=$work/pkgroot	# the built xen-hotpatch and dh-xen-hotpatch, unpacked
tool=$PKG/usr/sbin/xen-hotpatch
simctl=$PKG/usr/bin/xen-hotpatch-sim

H=$(printf 'xen-hotpatch deb tier: the simulated hypervisor' | sha1sum | cut -c1-40)

# shellcheck source=tests/lib/checks.sh
. "$top/tests/lib/checks.sh"
deb_roots_cleanup_on_exit
# has FILE ERE: FILE has a line matching ERE
has() { grep -Eq -- "$2" "$1" || { echo "no line matching /$2/ in $1:"; tail -n 30 "$1"; return 1; }; }

# ---- prerequisites -----------------------------------------------------------
for c in dpkg-buildpackage dpkg-deb dpkg-scanpackages debootstrap lintian jq pod2man chroot gcc objcopy; do
	command -v "$c" > /dev/null 2>&1 || fatal "prerequisite: $c not installed (tests/install-deps.sh)"
done
[ "$(id -u)" -eq 0 ] || fatal "prerequisite: root (debootstrap, chroot)"

# a run killed while apt ran in a root may have left its /proc mounted
for r in "$work"/root-*; do [ -d "$r" ] && deb_root_done "$r"; done
rm -rf --one-file-system "$work"
mkdir -p "$P" "$D" "$L" "$PKG"

# ---- the project's packages ---------------------------------------------------
say "make deb (dpkg-buildpackage of the working tree)"
if ! make -C "$top" --no-print-directory deb > "$L/make-deb.log" 2>&1; then
	indent < "$L/make-deb.log"
	fatal "make deb"
fi
setup "make deb"
V=$(cd "$top" && dpkg-parsechangelog -S Version)
B=$top/build/deb
deb_of() { echo "$B/${1}_${V}_${2}.deb"; }
TOOL_DEB=$(deb_of xen-hotpatch "$(dpkg --print-architecture)")
DH_DEB=$(deb_of dh-xen-hotpatch all)
SIM_DEB=$(deb_of xen-hotpatch-sim "$(dpkg --print-architecture)")

check_built() {
	local p
	for p in "$TOOL_DEB" "$SIM_DEB" "$DH_DEB" "$(deb_of xen-hotpatch-dracut all)" "$(deb_of xen-hotpatch-initramfs-tools all)"; do
		[ -f "$p" ] || { echo "missing $p"; ls "$B"; return 1; }
	done
}
t "make deb: xen-hotpatch, -sim, -dracut, -initramfs-tools and dh-xen-hotpatch $V" check_built
for p in "$TOOL_DEB" "$SIM_DEB" "$DH_DEB"; do dpkg-deb -x "$p" "$PKG" || fatal "dpkg-deb -x $p"; done
if [ ! -x "$tool" ] || [ ! -x "$simctl" ]; then
	fatal "no usr/sbin/xen-hotpatch in xen-hotpatch or no usr/bin/xen-hotpatch-sim in xen-hotpatch-sim"
fi

check_sim_package() {
	if dpkg-deb -c "$TOOL_DEB" | grep -q 'xen-hotpatch-sim'; then
		echo "the tool package ships the simulator"
		return 1
	fi
	dpkg-deb -c "$SIM_DEB" | grep -q ' \./usr/bin/xen-hotpatch-sim$' || { echo "no usr/bin/xen-hotpatch-sim"; return 1; }
	if readelf -d "$simctl" | grep -i 'NEEDED.*xen'; then
		echo "usr/bin/xen-hotpatch-sim links a Xen library"
		return 1
	fi
	if dpkg-deb -f "$SIM_DEB" Depends | grep -i xen; then
		echo "xen-hotpatch-sim depends on a Xen package"
		return 1
	fi
	# the control: the tool does link libxenctrl (the check above can fail)
	readelf -d "$tool" | grep -q 'NEEDED.*libxenctrl' || { echo "the tool does not link libxenctrl"; return 1; }
}
t "xen-hotpatch-sim: its own package; no libxenctrl NEEDED (readelf -d), no Xen dependency" check_sim_package

# every_command_has_a_page DIR: each file under DIR/usr/{s,}bin has a page in DIR
every_command_has_a_page() {
	local d=$1 c n miss=""
	for c in "$d"/usr/bin/* "$d"/usr/sbin/*; do
		[ -e "$c" ] || continue
		n=${c##*/}
		ls "$d"/usr/share/man/man[18]/"$n".[18].gz >/dev/null 2>&1 || miss="$miss $n"
	done
	[ -z "$miss" ] || { echo "commands without a manual page:$miss"; return 1; }
}
check_manpages() {
	local d=$work/all-pkgs p
	rm -rf "$d" && mkdir -p "$d" || return 1
	for p in "$B"/*_"$V"_*.deb; do dpkg-deb -x "$p" "$d" || return 1; done
	every_command_has_a_page "$d" || return 1
	# rendered from the POD sources, not from --help: the NAME line of each
	if ! zcat "$d/usr/share/man/man8/xen-hotpatch.8.gz" | grep -q 'converge the Xen hypervisor' ||
		! zcat "$d/usr/share/man/man1/xen-hotpatch-sim.1.gz" | grep -q 'XEN_HOTPATCH_SIM_FAIL' ||
		! zcat "$d/usr/share/man/man1/xen-hotpatch-mkpkg.1.gz" | grep -q 'obsoletes'; then
		echo "a page is not the one of src/man/*.pod"
		return 1
	fi
}
t "every command of the .debs (xen-hotpatch, -sim, -mkpkg, dh_xen_hotpatch) has its manual page" check_manpages

check_tool_package() {
	local c=$work/ctl-tool
	rm -rf "$c"
	dpkg-deb -e "$TOOL_DEB" "$c" || return 1
	has "$c/triggers" '^interest-noawait /usr/lib/xen-hotpatch$' &&
		has "$c/triggers" '^interest-noawait xen-hotpatch-converge$' &&
		has "$c/triggers" '^activate-noawait update-initramfs$' &&
		has "$c/conffiles" '^/etc/xen-hotpatch/xen-hotpatch.conf$' &&
		has "$c/postinst" 'triggered\)' &&
		has "$c/postinst" 'DPKG_ROOT' &&
		has "$c/postrm" 'purge\)' &&
		dpkg-deb -c "$TOOL_DEB" | grep -q ' \./usr/lib/xen-hotpatch/$' &&
		dpkg-deb -c "$TOOL_DEB" | grep -q ' \./lib/systemd/system/xen-hotpatch.service$' &&
		dpkg-deb -c "$TOOL_DEB" | grep -q ' \./usr/share/man/man8/xen-hotpatch.8.gz$'
}
t "xen-hotpatch: file trigger on /usr/lib/xen-hotpatch, self trigger, update-initramfs, conffile, unit" check_tool_package

check_dh_package() {
	local f
	eq "$(dpkg-deb -f "$DH_DEB" Provides)" "dh-sequence-xen-hotpatch" "dh-xen-hotpatch Provides" || return 1
	for f in usr/bin/dh_xen_hotpatch usr/share/perl5/Debian/Debhelper/Sequence/xen_hotpatch.pm \
		usr/share/man/man1/dh_xen_hotpatch.1.gz usr/bin/xen-hotpatch-mkpkg \
		usr/share/xen-hotpatch/mkpkg/mkpkg-common.sh usr/share/xen-hotpatch/mkpkg/mkpkg-deb.sh; do
		[ -e "$PKG/$f" ] || { echo "dh-xen-hotpatch has no /$f"; return 1; }
	done
	# the man page is the POD of dh_xen_hotpatch
	zcat "$PKG/usr/share/man/man1/dh_xen_hotpatch.1.gz" | grep -q 'xen\\*-hotpatch:Provides' ||
		{ echo "dh_xen_hotpatch.1 does not document the substvars"; return 1; }
}
t "dh-xen-hotpatch: Provides dh-sequence-xen-hotpatch; add-on, man page, xen-hotpatch-mkpkg" check_dh_package

check_boot_packages() {
	local c=$work/ctl-boot d
	d=$(deb_of xen-hotpatch-dracut all)
	if ! dpkg-deb -c "$d" | grep -q ' \./usr/lib/dracut/modules.d/95xen-hotpatch/module-setup.sh$'; then
		echo "xen-hotpatch-dracut: no module-setup.sh"
		return 1
	fi
	rm -rf "$c" && dpkg-deb -e "$d" "$c" && has "$c/triggers" '^activate-noawait update-initramfs$' || return 1
	d=$(deb_of xen-hotpatch-initramfs-tools all)
	if ! dpkg-deb -c "$d" | grep -q ' \./usr/share/initramfs-tools/hooks/xen-hotpatch$' ||
		! dpkg-deb -c "$d" | grep -q ' \./usr/share/initramfs-tools/scripts/init-bottom/xen-hotpatch$'; then
		echo "xen-hotpatch-initramfs-tools: hook or init-bottom script missing"
		return 1
	fi
	rm -rf "$c" && dpkg-deb -e "$d" "$c" && has "$c/triggers" '^activate-noawait update-initramfs$' || return 1
	# payloads are never put into the initramfs: no package of the project
	# activates update-initramfs for payload changes
	if dpkg-deb -c "$d" | grep -q livepatch; then
		echo "the initramfs-tools package ships a payload"
		return 1
	fi
}
t "xen-hotpatch-dracut, -initramfs-tools: hook files; update-initramfs activated on their changes" check_boot_packages

check_lintian() {
	local out
	out=$(lintian --fail-on none "$B/xen-hotpatch_${V}_$(dpkg --print-architecture).changes" 2>&1 |
		grep -v '^running with root privileges')
	printf '%s\n' "$out" > "$L/lintian.log"
	if printf '%s\n' "$out" | grep -q '^[EW]: '; then
		printf '%s\n' "$out"
		return 1
	fi
}
t "lintian: no error, no warning on the project's packages" check_lintian

# ---- payloads and payload packages ----------------------------------------------
say "forging payloads for hypervisor $H"
"$mkset" "$P" "$H" > "$L/make-set.log" 2>&1 || { indent < "$L/make-set.log"; fatal "tests/fixtures/make-set.sh"; }
# shellcheck source=/dev/null
. "$P/ids.env"
for v in 4 5; do
	"$forge" -o "$P/cum-v$v.livepatch" --xen-id "$H" --modinfo "version=$v" > "$L/forge-cum-v$v.log" 2>&1 ||
		{ indent < "$L/forge-cum-v$v.log"; fatal "forge cum-v$v"; }
done

# mk NAME VERSION PAYLOAD... [-- MKPKG OPTIONS]
mk() {
	local name=$1 version=$2
	shift 2
	local files=() opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do files+=("$P/$1.livepatch"); shift; done
	[ $# -gt 0 ] && shift && opts=("$@")
	XEN_HOTPATCH=$tool "$mkpkg" --deb --name "$name" --version "$version" \
		--maintainer "xen-hotpatch tests <tests@xen-hotpatch.example.org>" \
		--outdir "$D" "${opts[@]}" "${files[@]}" > "$L/mkpkg-$name-$version.log" 2>&1
}
say "xen-hotpatch-mkpkg --deb"
mkpkg_all() {
	mk xen-hotpatch-zz-base 1 zz-base &&
		mk xen-hotpatch-mm-middle 1 mm-middle &&
		mk xen-hotpatch-aa-top 1 aa-top &&
		mk xen-hotpatch-cum 2 cum-v2 &&
		mk xen-hotpatch-cum 3 cum-v3 &&
		mk xen-hotpatch-cum 4 cum-v4 &&
		mk xen-hotpatch-cumulative 5 cum-v5 -- --obsoletes xen-hotpatch-cum &&
		mk xen-hotpatch-other-xen 1 for-other-xen
}
if ! mkpkg_all; then
	indent < "$(find "$L" -name 'mkpkg-*' -newer "$P/ids.env" -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)"
	fatal "xen-hotpatch-mkpkg --deb"
fi
ok "xen-hotpatch-mkpkg --deb: 8 payload packages"
pdeb() { echo "$D/${1}_${2}-1_all.deb"; }

check_relations() {
	local d
	d=$(pdeb xen-hotpatch-mm-middle 1)
	eq "$(dpkg-deb -f "$d" Provides)" "xen-hotpatch-id-$MM_MIDDLE_ID" "mm-middle Provides" &&
		eq "$(dpkg-deb -f "$d" Depends)" "xen-hotpatch (>= $V), xen-hotpatch-id-$ZZ_BASE_ID" "mm-middle Depends" &&
		eq "$(dpkg-deb -c "$d" | awk '$6 ~ /livepatch$/ { print $6 }')" \
			"./usr/lib/xen-hotpatch/$H/mm-middle.livepatch" "mm-middle's payload" &&
		cmp "$P/mm-middle.livepatch" <(dpkg-deb --fsys-tarfile "$d" | tar -xOf - "./usr/lib/xen-hotpatch/$H/mm-middle.livepatch") &&
		# a payload stacked on the hypervisor depends on the tool only
		eq "$(dpkg-deb -f "$(pdeb xen-hotpatch-cum 3)" Depends)" "xen-hotpatch (>= $V)" "cum-v3 Depends" &&
		eq "$(dpkg-deb -f "$(pdeb xen-hotpatch-other-xen 1)" Provides)" "xen-hotpatch-id-$FOR_OTHER_XEN_ID" "other-xen Provides" &&
		dpkg-deb -c "$(pdeb xen-hotpatch-other-xen 1)" | grep -q " \./usr/lib/xen-hotpatch/$OTHER_XEN_ID/for-other-xen.livepatch$" &&
		eq "$(dpkg-deb -f "$(pdeb xen-hotpatch-cumulative 5)" Provides | sed 's/, /\n/g' | sort | tr '\n' ' ')" \
			"xen-hotpatch-cum xen-hotpatch-id-$("$tool" info --query build_id "$P/cum-v5.livepatch") " \
			"--obsoletes: Provides" &&
		eq "$(dpkg-deb -f "$(pdeb xen-hotpatch-cumulative 5)" Replaces Breaks | tr '\n' '|')" \
			"Replaces: xen-hotpatch-cum|Breaks: xen-hotpatch-cum|" "--obsoletes: Replaces, Breaks"
}
t "payload .debs: Provides/Depends from the build-id notes, payload under /usr/lib/xen-hotpatch/<xen id>/" check_relations

check_no_scripts() {
	local d c=$work/ctl-payload
	for d in "$D"/*.deb; do
		rm -rf "$c"
		dpkg-deb -e "$d" "$c"
		for s in preinst postinst prerm postrm triggers; do
			[ ! -e "$c/$s" ] || { echo "$(basename "$d") has a $s"; return 1; }
		done
	done
}
t "payload .debs carry no maintainer script (the tool's file trigger converges)" check_no_scripts

check_payload_lintian() {
	lintian --fail-on error,warning "$(pdeb xen-hotpatch-aa-top 1)" > "$L/lintian-payload.log" 2>&1 ||
		{ cat "$L/lintian-payload.log"; return 1; }
}
t "lintian: a payload package from xen-hotpatch-mkpkg has no error or warning" check_payload_lintian

# ---- dh_xen_hotpatch on hand-written source packages ------------------------------
# srcpkg DIR NAME CONTROL-EXTRA: a source package with DIR/debian/NAME.xen-hotpatch
# left to the caller; CONTROL-EXTRA replaces the default relation lines.
srcpkg() {
	local dir=$1 name=$2 rel=${3-"Depends: \${misc:Depends}, \${xen-hotpatch:Depends}
Provides: \${xen-hotpatch:Provides}"}
	mkdir -p "$dir/debian/source" "$dir/payloads"
	cat > "$dir/debian/control" <<-EOF
	Source: $name
	Section: admin
	Priority: optional
	Maintainer: xen-hotpatch tests <tests@xen-hotpatch.example.org>
	Build-Depends: debhelper-compat (= 13), dh-sequence-xen-hotpatch
	Rules-Requires-Root: no
	Standards-Version: 4.6.2

	Package: $name
	Architecture: all
	$rel
	Description: test package
	 Test package of the deb tier.
	EOF
	cat > "$dir/debian/changelog" <<-EOF
	$name (1) unstable; urgency=medium

	  * Test.

	 -- xen-hotpatch tests <tests@xen-hotpatch.example.org>  $(date -R)
	EOF
	printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' > "$dir/debian/rules"
	chmod 0755 "$dir/debian/rules"
	echo '3.0 (native)' > "$dir/debian/source/format"
}
# dhbuild DIR LOG: dpkg-buildpackage with the add-on as packaged (unpacked in $PKG)
dhbuild() {
	(cd "$1" && PATH=$PKG/usr/bin:$PATH PERL5LIB=$PKG/usr/share/perl5 XEN_HOTPATCH=$tool \
		dpkg-buildpackage -us -uc -b -d) > "$2" 2>&1
}
S=$work/src
mkdir -p "$S"

check_bad_payload() {
	local d=$S/bad msg
	srcpkg "$d" xhp-test-bad
	cp "$P/bad/not-elf.livepatch" "$P/bad/truncated.livepatch" "$d/payloads/"
	echo 'payloads/truncated.livepatch' > "$d/debian/xhp-test-bad.xen-hotpatch"
	msg=$("$tool" info "$d/payloads/truncated.livepatch" 2>&1 >/dev/null | head -n 1)
	[ -n "$msg" ] || { echo "xen-hotpatch info accepted truncated.livepatch"; return 1; }
	if dhbuild "$d" "$L/dh-bad.log"; then
		echo "dpkg-buildpackage succeeded with a truncated payload"
		return 1
	fi
	has "$L/dh-bad.log" '^dh_xen_hotpatch: error: .*truncated.livepatch is not a valid Xen livepatch payload' || return 1
	# the tool's words after the file name (dh_xen_hotpatch names it relative)
	if ! grep -qF -- "${msg##*.livepatch: }" "$L/dh-bad.log"; then
		echo "the build log lacks the tool's message: $msg"
		return 1
	fi
	if ls "$S"/xhp-test-bad_*.deb > /dev/null 2>&1; then
		echo "a .deb was written"
		return 1
	fi
}
t "dh_xen_hotpatch: a malformed payload fails the build with the tool's message" check_bad_payload

check_sequence() {
	local d=$S/seq
	srcpkg "$d" xhp-test-seq
	(cd "$d" && PATH=$PKG/usr/bin:$PATH PERL5LIB=$PKG/usr/share/perl5 dh binary --no-act) > "$L/dh-seq.log" 2>&1 ||
		{ cat "$L/dh-seq.log"; return 1; }
	grep -A1 -x '   dh_install' "$L/dh-seq.log" | tail -n 1 | grep -qx '   dh_xen_hotpatch' ||
		{ echo "dh_xen_hotpatch is not right after dh_install:"; cat "$L/dh-seq.log"; return 1; }
}
t "dh-sequence-xen-hotpatch: dh runs dh_xen_hotpatch right after dh_install" check_sequence

check_chain_in_one() {
	local d=$S/chain deb
	srcpkg "$d" xhp-test-chain
	cp "$P/zz-base.livepatch" "$P/mm-middle.livepatch" "$d/payloads/"
	echo 'payloads/*.livepatch' > "$d/debian/xhp-test-chain.xen-hotpatch"
	dhbuild "$d" "$L/dh-chain.log" || { cat "$L/dh-chain.log"; return 1; }
	deb=$S/xhp-test-chain_1_all.deb
	eq "$(dpkg-deb -f "$deb" Depends)" "xen-hotpatch (>= $V)" "Depends (the payload below is in the package)" &&
		eq "$(dpkg-deb -f "$deb" Provides)" "xen-hotpatch-id-$ZZ_BASE_ID, xen-hotpatch-id-$MM_MIDDLE_ID" "Provides" &&
		eq "$(dpkg-deb -c "$deb" | awk '$6 ~ /livepatch$/ { print $6 }' | sort | tr '\n' ' ')" \
			"./usr/lib/xen-hotpatch/$H/mm-middle.livepatch ./usr/lib/xen-hotpatch/$H/zz-base.livepatch " "files"
}
t "dh_xen_hotpatch: a chain in one package (wildcard list) depends on nothing inside it" check_chain_in_one

check_misc_depends() {
	local d=$S/misc deb
	srcpkg "$d" xhp-test-misc 'Depends: ${misc:Depends}'
	cp "$P/aa-top.livepatch" "$d/payloads/"
	echo 'payloads/aa-top.livepatch' > "$d/debian/xhp-test-misc.xen-hotpatch"
	dhbuild "$d" "$L/dh-misc.log" || { cat "$L/dh-misc.log"; return 1; }
	deb=$S/xhp-test-misc_1_all.deb
	eq "$(dpkg-deb -f "$deb" Depends)" "xen-hotpatch (>= $V), xen-hotpatch-id-$MM_MIDDLE_ID" "Depends through misc:Depends" &&
		has "$L/dh-misc.log" 'dh_xen_hotpatch: warning: xhp-test-misc: Provides does not name \$\{xen-hotpatch:Provides\}'
}
t "dh_xen_hotpatch: relations reach \${misc:Depends}; a control without the Provides substvar is warned about" check_misc_depends

# ---- the roots ------------------------------------------------------------------
say "the bookworm test root (cached in $DEB_CACHE_DIR)"
deb_cache_root || fatal "cannot make the debootstrap root"
setup "debootstrap minbase root available ($(basename "$DEB_ROOT_TAR"))"

# A repacked copy of the tool package with a higher version: "the new tool"
# of scenario 7 (same files and scripts; dpkg sees an upgrade).
V2=$V+deb.upgrade1
repack_tool() {
	local x=$work/repack
	rm -rf "$x"
	dpkg-deb -R "$TOOL_DEB" "$x" &&
		sed -i "s/^Version: .*/Version: $V2/" "$x/DEBIAN/control" &&
		dpkg-deb -b "$x" "$work/xen-hotpatch_${V2}_$(dpkg --print-architecture).deb" > /dev/null &&
		rm -rf "$x"
}
repack_tool || fatal "repack the tool package as $V2"
TOOL_DEB2=$work/xen-hotpatch_${V2}_$(dpkg --print-architecture).deb

# new_root NAME POLICY: a fresh root with the simulated hypervisor (build-id H)
# and the policy drop-in; sets R.
new_root() {
	R=$work/root-$1
	ROOTS+=("$R")
	deb_root_new "$R" || return 1
	"$simctl" "$R/var/lib/xen-hotpatch-sim" init --build-id "$H" > /dev/null || return 1
	mkdir -p "$R/etc/xen-hotpatch/conf.d" "$R/srv/xhp-repo"
	set_policy "$2"
	echo 'deb [trusted=yes] file:/srv/xhp-repo ./' > "$R/etc/apt/sources.list.d/xhp-local.list"
}
set_policy() {
	printf 'backend = sim:/var/lib/xen-hotpatch-sim\napply_on_install = %s\n' "$1" \
		> "$R/etc/xen-hotpatch/conf.d/50-deb-tier.conf"
}
# publish DEB...: add packages to the root's repository and refresh its index
publish() {
	cp "$@" "$R/srv/xhp-repo/" || return 1
	(cd "$R/srv/xhp-repo" && dpkg-scanpackages -m . > Packages 2> /dev/null) || return 1
	if ! apt_root "$R" update -o Dir::Etc::SourceList=sources.list.d/xhp-local.list \
		-o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 > "$L/apt-update.log" 2>&1; then
		cat "$L/apt-update.log"
		return 1
	fi
	deb_root_installable "$R" xen-hotpatch
}
STEP=0
# apt_step NAME ARGS...: apt-get ARGS in the root; output in $OUT; marks
# (actions, history, apply.log, trigproc) taken before, for the checks after.
apt_step() {
	STEP=$((STEP + 1))
	OUT=$L/$(printf '%02d' "$STEP")-$1.log
	shift
	mark
	say "apt-get $*"
	apt_root "$R" "$@" > "$OUT" 2>&1
	APT_RC=$?
}
sim() { "$simctl" "$R/var/lib/xen-hotpatch-sim" show --json; }
mark() {
	N_ACT=$(sim | jq '.actions | length')
	N_HIST=$(sim | jq '.history | length')
	N_LOG=$(apply_runs)
	N_TRIG=$(trigprocs | wc -l)
}
apply_runs() { [ -f "$R/run/xen-hotpatch/apply.log" ] && wc -l < "$R/run/xen-hotpatch/apply.log" || echo 0; }
trigprocs() { grep -E '^[0-9-]+ [0-9:]+ trigproc xen-hotpatch:' "$R/var/log/dpkg.log" 2> /dev/null; }
applied() { sim | jq -r '.applied | join(" ")'; }
loaded() { sim | jq -r '[.loaded[].name] | join(" ")'; }
# actions since the mark, "op name" per line, successful ones
new_actions() { sim | jq -r ".actions[$N_ACT:][] | select(.ret == 0 and .rc == 0) | \"\(.op) \(.name)\""; }
new_actions_oneline() { new_actions | tr '\n' ',' | sed 's/,$//'; }
apt_ok() { [ "$APT_RC" -eq 0 ] || { echo "apt-get exited $APT_RC"; tail -n 30 "$OUT"; return 1; }; }
triggered_once() {
	eq "$(( $(trigprocs | wc -l) - N_TRIG ))" 1 "trigger runs (dpkg.log trigproc) in this apt run"
}
converged_once() {
	eq "$(( $(apply_runs) - N_LOG ))" 1 "converge runs (apply.log lines) in this apt run" && triggered_once
}
untouched() {
	eq "$(sim | jq ".actions | length")" "$N_ACT" "hypervisor actions since the apt run" || { sim | jq -c '.actions'; return 1; }
}
status_rc() {
	in_root "$R" xen-hotpatch status > "$L/status.log" 2>&1
	echo $?
}
installed() { in_root "$R" dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n' "$@" 2> /dev/null; }
pkg_state() { in_root "$R" dpkg-query -W -f '${db:Status-Abbrev}' "$1" 2> /dev/null | tr -d ' '; }
# not_installed PKG: gone, no conffiles left ("un", or unknown to dpkg)
not_installed() {
	local st
	st=$(pkg_state "$1")
	case $st in
	un | '') return 0 ;;
	*) echo "$1: dpkg state '$st', expected not installed"; return 1 ;;
	esac
}
payload_file() { echo "$R/usr/lib/xen-hotpatch/$1/$2.livepatch"; }


# ---- group A: a chain installed in one run; removals; purge -------------------------
say "group A: chain (policy always)"
if new_root chain always && publish "$TOOL_DEB" "$(pdeb xen-hotpatch-zz-base 1)" \
	"$(pdeb xen-hotpatch-mm-middle 1)" "$(pdeb xen-hotpatch-aa-top 1)"; then
	apt_step install-chain install --no-install-recommends xen-hotpatch \
		xen-hotpatch-aa-top xen-hotpatch-mm-middle xen-hotpatch-zz-base
	check_1() {
		apt_ok &&
			eq "$(applied)" "zz-base mm-middle aa-top" "applied stack" &&
			eq "$(new_actions | grep '^apply ' | tr '\n' ',')" "apply zz-base,apply mm-middle,apply aa-top," "apply order" &&
			converged_once &&
			eq "$(status_rc)" 0 "xen-hotpatch status exit"
	}
	t "1: tool + 3-payload chain in one apt-get install: applied in chain order, one converge" check_1

	apt_step remove-top remove xen-hotpatch-aa-top
	check_4a() {
		apt_ok && eq "$(applied)" "zz-base mm-middle" "applied stack" &&
			eq "$(new_actions_oneline)" "revert aa-top,unload aa-top" "actions" &&
			converged_once && eq "$(loaded)" "zz-base mm-middle" "loaded"
	}
	t "4: apt-get remove of the top package: reverted and unloaded" check_4a

	apt_step reinstall-top install xen-hotpatch-aa-top
	check_4r() { apt_ok && eq "$(applied)" "zz-base mm-middle aa-top" "applied stack"; }
	t "4: reinstalled top applied again" check_4r

	apt_step remove-middle remove xen-hotpatch-mm-middle
	check_4b() {
		apt_ok &&
			has "$OUT" '^Removing xen-hotpatch-aa-top ' && has "$OUT" '^Removing xen-hotpatch-mm-middle ' &&
			eq "$(applied)" "zz-base" "applied stack" &&
			eq "$(new_actions | grep '^revert ' | tr '\n' ',')" "revert aa-top,revert mm-middle," "reverts, top first" &&
			eq "$(loaded)" "zz-base" "loaded" &&
			converged_once
	}
	t "4: apt-get remove of the middle one removes its dependent; reverted top first" check_4b

	apt_step purge-payloads purge xen-hotpatch-zz-base
	check_4c() {
		apt_ok && eq "$(applied)" "" "applied stack" && eq "$(loaded)" "" "loaded" && converged_once &&
			eq "$(installed 'xen-hotpatch-*' | grep -v ' un *$')" "" "payload packages left in dpkg" || return 1
		if [ -e "$R/usr/lib/xen-hotpatch/$H" ]; then
			echo "/usr/lib/xen-hotpatch/$H left"
			return 1
		fi
	}
	t "4: apt-get purge of the last payload package: reverted, nothing left of it" check_4c

	rm -f "$R/etc/xen-hotpatch/conf.d/50-deb-tier.conf"	# the admin's file, not the package's
	[ -d "$R/var/lib/xen-hotpatch" ] && state_before=yes || state_before=no
	apt_step purge-tool purge xen-hotpatch
	check_4d() {
		apt_ok && eq "$state_before" yes "state in /var/lib/xen-hotpatch before the purge" &&
			not_installed xen-hotpatch || return 1
		local p
		for p in /var/lib/xen-hotpatch /etc/xen-hotpatch /usr/lib/xen-hotpatch /usr/sbin/xen-hotpatch \
			/lib/systemd/system/xen-hotpatch.service /etc/systemd/system/multi-user.target.wants/xen-hotpatch.service; do
			[ ! -e "$R$p" ] || { echo "$p left after the purge"; return 1; }
		done
	}
	t "4: apt-get purge xen-hotpatch leaves no state, policy or unit behind" check_4d
else
	ko "group A: root setup"
fi
deb_root_done "$R"

# ---- group B: cumulative upgrades, another hypervisor, tool + payload upgrade -----------
say "group B: cumulative upgrades (policy always)"
if new_root cumulative always && publish "$TOOL_DEB" "$(pdeb xen-hotpatch-cum 2)"; then
	apt_step install-cum2 install --no-install-recommends xen-hotpatch xen-hotpatch-cum
	check_3i() { apt_ok && eq "$(applied)" "cum-v2" "applied stack" && converged_once; }
	t "3: cumulative v2 installed and applied" check_3i

	publish "$(pdeb xen-hotpatch-cum 3)"
	apt_step upgrade-cum3 upgrade
	check_3() {
		apt_ok && has "$OUT" '^Unpacking xen-hotpatch-cum \(3-1\) over \(2-1\)' &&
			eq "$(applied)" "cum-v3" "applied stack" &&
			eq "$(new_actions | grep -E '^(apply|replace|revert) ' | tr '\n' ',')" "replace cum-v3," "actions that change the stack" &&
			eq "$(sim | jq "[.history[$N_HIST:][] | select(length == 0)] | length")" 0 "empty stacks in the history since the upgrade began" &&
			eq "$(loaded)" "cum-v3" "loaded (the old payload unloaded)" &&
			has "$OUT" 'unload cum-v2' && [ -f "$(payload_file "$H" cum-v3)" ] &&
			[ ! -e "$(payload_file "$H" cum-v2)" ] && converged_once
	}
	t "3: apt-get upgrade of a cumulative package: one REPLACE, never unpatched, old payload unloaded" check_3

	publish "$(pdeb xen-hotpatch-other-xen 1)"
	apt_step other-xen install xen-hotpatch-other-xen
	check_5a() {
		apt_ok && [ -f "$(payload_file "$OTHER_XEN_ID" for-other-xen)" ] && untouched &&
			eq "$(applied)" "cum-v3" "applied stack" && eq "$(status_rc)" 0 "xen-hotpatch status exit"
	}
	t "5: a package for another hypervisor build: files installed, hypervisor untouched" check_5a

	publish "$TOOL_DEB2" "$(pdeb xen-hotpatch-cum 4)"
	apt_step upgrade-tool-and-cum4 upgrade
	check_7() {
		apt_ok &&
			eq "$(installed xen-hotpatch xen-hotpatch-cum | tr '\n' ',')" "xen-hotpatch $V2 ii ,xen-hotpatch-cum 4-1 ii ," "versions" &&
			converged_once || return 1
		if ! trigprocs | tail -n 1 | grep -q " trigproc xen-hotpatch:[a-z0-9]* $V2 "; then
			echo "the trigger did not run with xen-hotpatch $V2:"
			trigprocs | tail -n 3
			return 1
		fi
		eq "$(applied)" "cum-v4" "applied stack" &&
			eq "$(new_actions | grep -E '^(apply|replace|revert) ' | tr '\n' ',')" "replace cum-v4," "actions that change the stack" &&
			eq "$(loaded)" "cum-v4" "loaded"
	}
	t "7: tool and payload upgraded in one apt run: one converge, by the new tool, after both" check_7

	publish "$(pdeb xen-hotpatch-cumulative 5)"
	apt_step rename install xen-hotpatch-cumulative
	check_rename() {
		apt_ok && not_installed xen-hotpatch-cum && has "$OUT" '^Removing xen-hotpatch-cum ' &&
			eq "$(applied)" "cum-v5" "applied stack" &&
			eq "$(new_actions | grep -E '^(apply|replace|revert) ' | tr '\n' ',')" "replace cum-v5," "actions that change the stack" &&
			eq "$(sim | jq "[.history[$N_HIST:][] | select(length == 0)] | length")" 0 "empty stacks in the history" &&
			converged_once
	}
	t "mkpkg --obsoletes: the renamed cumulative replaces the old package and payload in one run" check_rename
else
	ko "group B: root setup"
fi
deb_root_done "$R"

# ---- group C: policy auto and never in a chroot; DPKG_ROOT -----------------------------
say "group C: where the hypervisor must not be touched"
if new_root skip auto && publish "$TOOL_DEB" "$(pdeb xen-hotpatch-zz-base 1)" \
	"$(pdeb xen-hotpatch-mm-middle 1)" "$(pdeb xen-hotpatch-aa-top 1)"; then
	apt_step auto-in-chroot install --no-install-recommends xen-hotpatch xen-hotpatch-zz-base
	check_5auto() {
		apt_ok && [ -f "$(payload_file "$H" zz-base)" ] && untouched &&
			has "$OUT" "xen-hotpatch: running in a chroot" && triggered_once &&
			eq "$(apply_runs)" "$N_LOG" "converge runs (apply.log lines)"
	}
	t "5: policy auto in a chroot: installed, hypervisor untouched, the tool says why" check_5auto

	set_policy never
	apt_step never install xen-hotpatch-mm-middle
	check_5b() {
		apt_ok && [ -f "$(payload_file "$H" mm-middle)" ] && untouched && has "$OUT" "apply_on_install = never"
	}
	t "5: policy never: installed, hypervisor untouched, the tool says so" check_5b

	# DPKG_ROOT: dpkg --root with the maintainer scripts run on this host. The
	# root's policy says always, so only the DPKG_ROOT guard keeps the
	# hypervisor out of it; a spy first in PATH records any call of the tool.
	set_policy always
	spy=$work/spy
	mkdir -p "$spy"
	rm -f "$spy/calls"
	printf '#!/bin/sh\necho "$*" >> %s/calls\nexec %s "$@"\n' "$spy" "$tool" > "$spy/xen-hotpatch"
	chmod 0755 "$spy/xen-hotpatch"
	mark
	OUT=$L/dpkg-root.log
	say "dpkg --root=ROOT --force-script-chrootless -i xen-hotpatch-aa-top"
	PATH=$spy:$PATH dpkg --root="$R" --force-script-chrootless -i "$(pdeb xen-hotpatch-aa-top 1)" > "$OUT" 2>&1
	APT_RC=$?
	check_5c() {
		apt_ok && [ -f "$(payload_file "$H" aa-top)" ] && untouched || return 1
		if [ -e "$spy/calls" ]; then
			echo "the tool was called:"
			cat "$spy/calls"
			return 1
		fi
		has "$OUT" "xen-hotpatch: installing into $R: hypervisor left alone"
	}
	t "5: DPKG_ROOT (dpkg --root, scripts on the host): installed, the tool not run, exit 0" check_5c

	# The same root does converge when asked: the skips above were the guards'.
	mark
	in_root "$R" xen-hotpatch apply --auto > "$L/apply-auto.log" 2>&1
	check_5d() {
		eq "$(applied)" "zz-base mm-middle aa-top" "applied stack" && return 0
		cat "$L/apply-auto.log"
		return 1
	}
	t "5: (control) apply --auto in that root with policy always applies the chain" check_5d
else
	ko "group C: root setup"
fi
deb_root_done "$R"

# ---- group D: only the top package; an injected hypervisor failure ------------------------
say "group D: top package only, with a failing apply (policy always)"
if new_root failure always && publish "$TOOL_DEB" "$(pdeb xen-hotpatch-zz-base 1)" \
	"$(pdeb xen-hotpatch-mm-middle 1)" "$(pdeb xen-hotpatch-aa-top 1)"; then
	XEN_HOTPATCH_SIM_FAIL=apply:mm-middle:EINVAL apt_step top-only-failing install --no-install-recommends xen-hotpatch-aa-top
	check_2() {
		apt_ok &&
			eq "$(installed xen-hotpatch xen-hotpatch-zz-base xen-hotpatch-mm-middle xen-hotpatch-aa-top | awk '{ print $1, $3 }' | sort | tr '\n' ',')" \
				"xen-hotpatch ii,xen-hotpatch-aa-top ii,xen-hotpatch-mm-middle ii,xen-hotpatch-zz-base ii," "installed packages" &&
			has "$OUT" '^Setting up xen-hotpatch-zz-base ' && has "$OUT" '^Setting up xen-hotpatch-mm-middle ' 
	}
	t "2: apt-get install of the top package alone pulls in the stack below it and the tool" check_2
	check_6() {
		apt_ok && has "$OUT" 'mm-middle.*EINVAL' &&
			eq "$(applied)" "zz-base" "applied stack" &&
			eq "$(loaded)" "zz-base" "loaded (what did not apply is unloaded)" &&
			eq "$(status_rc)" 3 "xen-hotpatch status exit" && converged_once
	}
	t "6: injected apply failure: apt succeeds, the failure is shown, status exits 3" check_6

	apt_step reinstall-top install --reinstall xen-hotpatch-aa-top
	check_6b() {
		apt_ok && eq "$(applied)" "zz-base mm-middle aa-top" "applied stack" &&
			eq "$(status_rc)" 0 "status exit" && converged_once
	}
	t "6: without the failure the next apt run converges the whole chain" check_6b
else
	ko "group D: root setup"
fi
deb_root_done "$R"

# ---- group E: dh-xen-hotpatch installed ------------------------------------------------
say "group E: dh-xen-hotpatch installed in a root (no build-essential)"
if new_root devel auto && publish "$TOOL_DEB" "$DH_DEB"; then
	apt_step install-dh install --no-install-recommends dh-xen-hotpatch
	check_e_install() {
		apt_ok && eq "$(installed dh-xen-hotpatch | awk '{ print $3 }')" ii "dh-xen-hotpatch state" &&
			not_installed build-essential
	}
	t "dh-xen-hotpatch installs from the archive with its dependencies" check_e_install
	mkdir -p "$R/tmp/payloads"
	cp "$P/aa-top.livepatch" "$R/tmp/payloads/"
	in_root "$R" sh -c 'cd /tmp/payloads && xen-hotpatch-mkpkg --deb --outdir /tmp/out \
		--maintainer "xen-hotpatch tests <tests@xen-hotpatch.example.org>" aa-top.livepatch' \
		> "$L/mkpkg-installed.log" 2>&1
	MK_RC=$?
	check_e_mkpkg() {
		local d=$R/tmp/out/xen-hotpatch-aa-top_1-1_all.deb
		eq "$MK_RC" 0 "xen-hotpatch-mkpkg exit" || { cat "$L/mkpkg-installed.log"; return 1; }
		eq "$(dpkg-deb -f "$d" Depends)" "xen-hotpatch (>= $V), xen-hotpatch-id-$MM_MIDDLE_ID" "Depends" &&
			eq "$(dpkg-deb -f "$d" Provides)" "xen-hotpatch-id-$AA_TOP_ID" "Provides" &&
			cmp "$P/aa-top.livepatch" <(dpkg-deb --fsys-tarfile "$d" | tar -xOf - "./usr/lib/xen-hotpatch/$H/aa-top.livepatch")
	}
	t "installed xen-hotpatch-mkpkg --deb (installed add-on, dh-sequence-xen-hotpatch) makes the payload package" check_e_mkpkg
else
	ko "group E: root setup"
fi
deb_root_done "$R"

# ---- group F: the Python bindings and the Ansible collection ------------------------
say "group F: python3-xen-hotpatch installed in a root (policy always)"
PY_DEB=$(deb_of python3-xen-hotpatch "$(dpkg --print-architecture)")
ANSIBLE_DEB=$(deb_of xen-hotpatch-ansible all)
check_ansible_package() {
	local c=/usr/share/ansible/collections/ansible_collections/xen/hotpatch m
	for m in xen_hotpatch xen_hotpatch_info; do
		if ! dpkg-deb -c "$ANSIBLE_DEB" | grep -q " \\.$c/plugins/modules/$m.py\$" ||
			! dpkg-deb -c "$ANSIBLE_DEB" | grep -q " \\./usr/share/ansible/plugins/modules/$m.py -> "; then
			echo "xen-hotpatch-ansible: no module $m, or no link to it"
			return 1
		fi
	done
	dpkg-deb -c "$ANSIBLE_DEB" | grep -q " \\.$c/plugins/module_utils/xen_hotpatch.py\$" &&
		dpkg-deb -f "$ANSIBLE_DEB" Depends | grep -q 'ansible-core'
}
t "xen-hotpatch-ansible: the collection xen.hotpatch, its modules linked for short names" check_ansible_package
if new_root python always && publish "$TOOL_DEB" "$SIM_DEB" "$PY_DEB" "$(pdeb xen-hotpatch-zz-base 1)" \
	"$(pdeb xen-hotpatch-mm-middle 1)"; then
	apt_step install-python install --no-install-recommends python3-xen-hotpatch xen-hotpatch \
		xen-hotpatch-mm-middle
	check_f_python() {
		apt_ok || return 1
		in_root "$R" xen-hotpatch --json status > "$L/status-cli.json" 2>&1
		# Debian's python3 in the root: the v6 calls on the root's simulated
		# hypervisor, and the project's layer against the CLI's JSON
		in_root "$R" python3 -c '
import json, sys, xen_hotpatch as xh
hv = xh.Hypervisor("sim:/var/lib/xen-hotpatch-sim")
names = [e["name"] for e in hv.livepatch_list()]
assert names == ["zz-base", "mm-middle"], names
assert all(e["state"] == xh.LIVEPATCH_STATE_APPLIED for e in hv.livepatch_list())
assert xh.status() == json.load(open("/dev/stdin")), "status() differs from the CLI"
assert xh.plan()["steps"] == []
print("ok", hv.build_id)
' < "$L/status-cli.json" > "$L/python.log" 2>&1 || { cat "$L/python.log"; return 1; }
		has "$L/python.log" "^ok $H\$"
	}
	t "python3-xen-hotpatch: Debian's python3 imports it in a root; v6 calls and status() there" check_f_python
else
	ko "group F: root setup"
fi
deb_root_done "$R"

finish
