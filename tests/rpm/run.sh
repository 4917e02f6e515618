#!/bin/bash
# shellcheck disable=SC2317 # check_* functions are called through t()
# tests/rpm/run.sh: the RPM tier (issue 3). Real rpmbuild, createrepo_c, dnf and
# rpm; the real xen-hotpatch tool, packaged by `make rpm` and installed into test
# roots, on the simulated hypervisor kept inside each root.
#
#  - `make rpm` builds xen-hotpatch, -sim, -dracut, -rpm-macros,
#    python3-xen-hotpatch and xen-hotpatch-ansible from `make dist`; rpmlint (spec/xen-hotpatch.rpmlintrc, spec/payload.rpmlintrc) finds
#    no error; every command has its manual page; xen-hotpatch-sim needs no
#    Xen library; the unit's scriptlets are the %systemd_* macros.
#  - Payloads forged by tests/fixtures/forge-payload.sh are packaged by the real
#    scripts/xen-hotpatch-mkpkg --rpm (reading them with $XHP_PLAIN_BIN), which
#    takes the macros and the dependency generator from spec/; the installed
#    layout of xen-hotpatch-rpm-macros is checked too (RPM_CONFIGDIR).
#  - A test root: a test-only "xhp-testroot-base" RPM (a shell and the host's
#    copies of the libraries the tool RPM requires, with matching Provides)
#    installed in a first dnf transaction, the tool RPM in a second; the root's
#    policy (conf.d) says backend = sim:/var/lib/xen-hotpatch-sim and
#    apply_on_install = always (under --installroot the scriptlets run chrooted
#    without /proc, which `auto` rightly treats as a chroot).
#  - Scenarios 1-9 of issue 3 with dnf --installroot (rpm --root for the
#    alternate root), asserted through `xen-hotpatch-sim ROOT/... show --json`
#    (applied stack, history, actions), ROOT/run/xen-hotpatch/apply.log (one
#    line per converge run), `xen-hotpatch status` run in the root, dnf's output
#    and ROOT/var/log/dnf.rpm.log.
# Ends with "N passed, N failed". Work files stay in build/tests-rpm/.
set -u
export LC_ALL=C

top=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
tool=${XHP_PLAIN_BIN:-$top/build/xen-hotpatch}
simctl=${XHP_PLAIN_SIM_BIN:-$top/build/xen-hotpatch-sim}
forge=$top/tests/fixtures/forge-payload.sh
mkpkg=$top/scripts/xen-hotpatch-mkpkg
work=$top/build/tests-rpm
R=$work/repos
P=$work/payloads

H=5f1d3a8e0c7b96a4d2e1f0a9b8c7d6e5f4a3b2c1	# the simulated hypervisor
H2=0badc0ffee0ddf00d0123456789abcdef0123456	# another hypervisor build

# shellcheck source=tests/lib/checks.sh
. "$top/tests/lib/checks.sh"
# has TEXT LINE: TEXT has the line LINE
has() { printf '%s\n' "$1" | grep -qxF -- "$2" || { echo "no line '$2' in:"; printf '%s\n' "$1"; return 1; }; }

# ---- prerequisites ---------------------------------------------------------
for c in rpmbuild rpm dnf createrepo_c rpmlint rpm2cpio cpio python3 chroot mknod; do
	command -v "$c" > /dev/null 2>&1 || fatal "prerequisite: $c not installed (tests/install-deps.sh)"
done
if [ ! -x "$tool" ] || [ ! -x "$simctl" ]; then
	fatal "prerequisite: $tool and $simctl (make all)"
fi
[ "$(id -u)" -eq 0 ] || fatal "prerequisite: root (dnf --installroot chroots for scriptlets)"

rm -rf "$work"
mkdir -p "$work/home" "$work/log" "$P" "$R" "$work/roots"
# Debian's rpm keeps its database in ~/.rpmdb (and ROOT/root/.rpmdb under
# --root): a private HOME puts it where RPM distributions have it.
export HOME=$work/home
printf '%%_dbpath /var/lib/rpm\n' > "$HOME/.rpmmacros"

# ---- helpers over `xen-hotpatch-sim DIR show --json` and the root -----------
simshow() { "$simctl" "$1/var/lib/xen-hotpatch-sim" show --json; }
# sim_q ROOT EXPR: a Python expression over the JSON (as s); lists print joined.
sim_q() {
	simshow "$1" | python3 -c 'import json, sys; s = json.load(sys.stdin); r = eval(sys.argv[1]); print(" ".join(r) if isinstance(r, list) else r)' "$2"
}
applied() { sim_q "$1" 's["applied"]'; }
nactions() { sim_q "$1" 'len(s["actions"])'; }
nhistory() { sim_q "$1" 'len(s["history"])'; }
# ops ROOT FROM [OP]: "op:name" of the actions from index FROM on (only OP)
ops() { sim_q "$1" "[a['op'] + ':' + a['name'] for a in s['actions'][$2:] if '${3:-}' in ('', a['op'])]"; }
count_op() { sim_q "$1" "sum(1 for a in s['actions'][$2:] if a['op'] == '$3')"; }
# Every applied stack recorded from history index FROM on is non-empty.
never_empty() { sim_q "$1" "all(len(h) > 0 for h in s['history'][$2:])"; }
loaded() { sim_q "$1" "[l['name'] for l in s['loaded']]"; }
runs() { # converge runs logged in ROOT
	local f=$1/run/xen-hotpatch/apply.log
	if [ -f "$f" ]; then wc -l < "$f"; else echo 0; fi
}
installed() { rpm --root "$1" -q "$2" > /dev/null 2>&1; }
# `xen-hotpatch status` of the tool installed in ROOT
xstatus() { chroot "$1" /usr/sbin/xen-hotpatch status; }
# dnf exits 0 when a scriptlet fails: the root's dnf.rpm.log says it.
scriptlets_clean() { ! grep -iE 'scriptlet failed|error: ' "$1/var/log/dnf.rpm.log"; }
id_of() { "$tool" info --query build_id "$1"; }

# ---- make rpm ----------------------------------------------------------------
echo "-- make rpm (make dist, rpmbuild -ta --nodeps)"
if make -C "$top" --no-print-directory rpm > "$work/log/make-rpm.log" 2>&1; then
	ok "make rpm builds from the dist tarball"
else
	ko "make rpm builds from the dist tarball"
	grep -vE '^\+ ' "$work/log/make-rpm.log" | tail -n 25 | indent
	finish
fi
version=$(sed -n 's/^#define XHP_VERSION_STRING "\(.*\)"/\1/p' "$top/src/xhp.h")
rpmtop=$top/build/rpm
first() { for f in "$@"; do [ -f "$f" ] && { echo "$f"; return; }; done; }
toolrpm=$(first "$rpmtop"/RPMS/*/xen-hotpatch-"$version"-*.x86_64.rpm)
simrpm=$(first "$rpmtop"/RPMS/*/xen-hotpatch-sim-"$version"-*.x86_64.rpm)
dracutrpm=$(first "$rpmtop"/RPMS/noarch/xen-hotpatch-dracut-"$version"-*.noarch.rpm)
macrosrpm=$(first "$rpmtop"/RPMS/noarch/xen-hotpatch-rpm-macros-"$version"-*.noarch.rpm)
srpm=$(first "$rpmtop"/SRPMS/xen-hotpatch-"$version"-*.src.rpm)
pyrpm=$(first "$rpmtop"/RPMS/*/python3-xen-hotpatch-"$version"-*.x86_64.rpm)
ansiblerpm=$(first "$rpmtop"/RPMS/noarch/xen-hotpatch-ansible-"$version"-*.noarch.rpm)
if [ -z "$toolrpm" ] || [ -z "$simrpm" ] || [ -z "$dracutrpm" ] || [ -z "$macrosrpm" ] || [ -z "$srpm" ] ||
	[ -z "$pyrpm" ] || [ -z "$ansiblerpm" ]; then
	fatal "make rpm: expected xen-hotpatch, -sim, -dracut, -rpm-macros, python3-xen-hotpatch, -ansible and the SRPM in $rpmtop"
fi

check_tool_files() {
	local l c f
	l=$(rpm -qp -l "$1") c=$(rpm -qp -c "$1")
	for f in /usr/sbin/xen-hotpatch /usr/lib/systemd/system/xen-hotpatch.service \
		/etc/xen-hotpatch/xen-hotpatch.conf /usr/lib/xen-hotpatch /var/lib/xen-hotpatch; do
		has "$l" "$f" || return 1
	done
	if printf '%s\n' "$l" | grep xen-hotpatch-sim; then echo "the tool package ships the simulator"; return 1; fi
	has "$c" /etc/xen-hotpatch/xen-hotpatch.conf || return 1
	rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$1" | grep -q '^/etc/xen-hotpatch/xen-hotpatch.conf .*n' ||
		{ echo "the policy is not %config(noreplace)"; return 1; }
}
t "tool package: tool, unit, policy (config noreplace), payload and state folders; no simulator" check_tool_files "$toolrpm"

check_sim_rpm() {
	local d=$work/extract-sim
	has "$(rpm -qp -l "$1")" /usr/bin/xen-hotpatch-sim || return 1
	if rpm -qp --requires "$1" | grep -i xen; then echo "xen-hotpatch-sim requires a Xen library"; return 1; fi
	mkdir -p "$d" && (cd "$d" && rpm2cpio "$1" | cpio -idm --quiet) || return 1
	if readelf -d "$d/usr/bin/xen-hotpatch-sim" | grep -i 'NEEDED.*xen'; then
		echo "usr/bin/xen-hotpatch-sim links a Xen library"
		return 1
	fi
	# the control: the tool's package does require libxenctrl
	rpm -qp --requires "$2" | grep -q '^libxenctrl' || { echo "the tool RPM does not require libxenctrl"; return 1; }
}
t "xen-hotpatch-sim: its own package; no libxenctrl NEEDED (readelf -d) or Requires" check_sim_rpm "$simrpm" "$toolrpm"

# Each file under /usr/bin and /usr/sbin of the built RPMs has a page.
check_rpm_manpages() {
	local l c miss=""
	l=$(rpm -qp -l "$toolrpm" "$simrpm" "$dracutrpm" "$macrosrpm")
	for c in $(printf '%s\n' "$l" | grep -E '^/usr/s?bin/'); do
		printf '%s\n' "$l" | grep -qE "^/usr/share/man/man[18]/${c##*/}\.[18](\.gz|\.xz|\.bz2|\.zst)?$" || miss="$miss ${c##*/}"
	done
	[ -z "$miss" ] || { echo "commands without a manual page:$miss"; return 1; }
}
t "every command of the RPMs (xen-hotpatch, -sim, -mkpkg) has its manual page" check_rpm_manpages

check_tool_triggers() {
	local s
	s=$(rpm -qp --filetriggers "$1")
	if ! { printf '%s\n' "$s" | grep -q '^transfiletriggerin scriptlet.* -- /usr/lib/xen-hotpatch$' &&
		printf '%s\n' "$s" | grep -q '^transfiletriggerpostun scriptlet.* -- /usr/lib/xen-hotpatch$' &&
		[ "$(printf '%s\n' "$s" | grep -c '/usr/sbin/xen-hotpatch apply --auto || :$')" -eq 2 ]; }; then
		printf '%s\n' "$s"
		return 1
	fi
}
t "tool package: transfiletriggerin and transfiletriggerpostun on /usr/lib/xen-hotpatch run apply --auto || :" \
	check_tool_triggers "$toolrpm"

check_tool_scripts() {
	local s m
	for m in post preun postun; do
		grep -qx "%systemd_$m xen-hotpatch.service" "$top/spec/xen-hotpatch.spec" ||
			{ echo "the spec has no '%systemd_$m xen-hotpatch.service'"; return 1; }
	done
	s=$(rpm -qp --scripts "$1")
	if printf '%s\n' "$s" | grep -q '^pretrans'; then echo "has a pretrans scriptlet"; return 1; fi
	for m in postinstall preuninstall postuninstall; do
		printf '%s\n' "$s" | grep -q "^$m scriptlet" || { echo "no $m scriptlet:"; printf '%s\n' "$s"; return 1; }
	done
	# every command of the unit's scriptlets may fail without failing rpm
	if printf '%s\n' "$s" | grep 'systemctl' | grep -v '|| :'; then echo "an unguarded systemctl"; return 1; fi
	if ! printf '%s\n' "$s" | grep -q 'preset xen-hotpatch.service' ||
		! printf '%s\n' "$s" | grep -q 'disable .*xen-hotpatch.service'; then
		printf '%s\n' "$s"
		return 1
	fi
}
t "tool package: %systemd_post/preun/postun for the unit (preset, disable), guarded; no pretrans" check_tool_scripts "$toolrpm"

check_dracut() {
	local s
	has "$(rpm -qp -l "$1")" /usr/lib/dracut/modules.d/95xen-hotpatch/module-setup.sh || return 1
	s=$(rpm -qp --filetriggers "$1")
	if ! { printf '%s\n' "$s" | grep -q '^transfiletriggerin scriptlet.* -- /usr/lib/dracut/modules.d/95xen-hotpatch, /usr/sbin/xen-hotpatch$' &&
		printf '%s\n' "$s" | grep -qF '[ -x /usr/bin/dracut ] && [ /proc/1/root -ef / ]; then /usr/bin/dracut -f --regenerate-all || :'; }; then
		printf '%s\n' "$s"
		return 1
	fi
	if rpm -qp --scripts --filetriggers "$2" | grep -q dracut; then echo "the tool package runs dracut"; return 1; fi
}
t "dracut package: the module; initramfs rebuilt once per transaction on a new tool or module, guarded" \
	check_dracut "$dracutrpm" "$toolrpm"

check_macros_pkg() {
	local l f
	l=$(rpm -qp -l "$1")
	for f in /usr/lib/rpm/macros.d/macros.xen-hotpatch /usr/lib/rpm/fileattrs/xen_hotpatch.attr \
		/usr/lib/rpm/xen-hotpatch-rpmdeps /usr/bin/xen-hotpatch-mkpkg \
		/usr/share/xen-hotpatch/mkpkg/mkpkg-common.sh /usr/share/xen-hotpatch/mkpkg/mkpkg-rpm.sh \
		/usr/share/xen-hotpatch/mkpkg/payload.spec.in; do
		has "$l" "$f" || return 1
	done
}
t "rpm-macros package: macros, fileattrs generator, mkpkg and its libraries" check_macros_pkg "$macrosrpm"

# ---- payloads and payload packages -------------------------------------------
echo "-- payloads (forge-payload.sh) and payload packages (xen-hotpatch-mkpkg --rpm)"
forge_all() {
	f() { "$forge" "$@" > /dev/null; }
	f -o "$P/zz-base.livepatch" --xen-id $H --modinfo version=1 --modinfo cve=CVE-2024-31141 &&
		f -o "$P/mm-middle.livepatch" --xen-id $H --depends-file "$P/zz-base.livepatch" &&
		f -o "$P/aa-upper.livepatch" --xen-id $H --depends-file "$P/mm-middle.livepatch" &&
		f -o "$P/cum-1.livepatch" --xen-id $H --modinfo version=1 --modinfo cve=CVE-2025-1001 &&
		f -o "$P/cum-2.livepatch" --xen-id $H --modinfo version=2 --modinfo cve=CVE-2025-1001 \
			--modinfo cve2=CVE-2025-1002 &&
		f -o "$P/cum-3.livepatch" --xen-id $H --modinfo version=3 &&
		f -o "$P/elsewhere.livepatch" --xen-id $H2 &&
		f -o "$P/refused.livepatch" --xen-id $H &&
		f -o "$P/broken.livepatch" --xen-id $H --bad no-xen-depends
}
forge_all > "$work/log/forge.log" 2>&1 || { cat "$work/log/forge.log"; fatal "forge the fixture payloads"; }

# mk REPO NAME VERSION [MKPKG OPTIONS] PAYLOAD...: one package into repos/REPO.
# Package names of the chain sort against its order (aa-upper on mm-middle on
# zz-base). XEN_HOTPATCH_RUN_DIR: the host's /run/xen-hotpatch stays untouched.
mk() {
	local repo=$1 name=$2 ver=$3
	shift 3
	XEN_HOTPATCH=$tool XEN_HOTPATCH_RUN_DIR=$work/host-run "$mkpkg" --rpm --name "$name" --version "$ver" \
		--maintainer "xen-hotpatch tests <tests@example.org>" --outdir "$R/$repo" "$@"
}
mk_all() {
	mk chain xen-hotpatch-zz-base 1 "$P/zz-base.livepatch" &&
		mk chain xen-hotpatch-mm-middle 1 "$P/mm-middle.livepatch" &&
		mk chain xen-hotpatch-aa-upper 1 "$P/aa-upper.livepatch" &&
		mk cumul1 xen-hotpatch-cumul 1 --changelog "Cumulative 1: CVE-2025-1001" "$P/cum-1.livepatch" &&
		mk cumul2 xen-hotpatch-cumul 2 --changelog "Cumulative 2: CVE-2025-1001, CVE-2025-1002" "$P/cum-2.livepatch" &&
		mk cumulnext xen-hotpatch-cumul-next 3 --obsoletes xen-hotpatch-cumul "$P/cum-3.livepatch" &&
		mk other xen-hotpatch-elsewhere 1 "$P/elsewhere.livepatch" &&
		mk refused xen-hotpatch-refused 1 "$P/refused.livepatch"
}
if mk_all > "$work/log/mkpkg.log" 2>&1; then
	ok "xen-hotpatch-mkpkg --rpm builds the payload packages"
else
	ko "xen-hotpatch-mkpkg --rpm builds the payload packages"
	tail -n 25 "$work/log/mkpkg.log" | indent
	finish
fi

check_relations() {
	local upper base
	upper=$(rpm -qp --provides --requires "$R/chain/xen-hotpatch-aa-upper-1-1.noarch.rpm")
	has "$upper" "xen-hotpatch($(id_of "$P/aa-upper.livepatch"))" &&
		has "$upper" "xen-hotpatch($(id_of "$P/mm-middle.livepatch"))" &&
		has "$upper" "xen-hotpatch >= $version" || return 1
	base=$(rpm -qp --provides --requires "$R/chain/xen-hotpatch-zz-base-1-1.noarch.rpm")
	has "$base" "xen-hotpatch($(id_of "$P/zz-base.livepatch"))" || return 1
	[ "$(printf '%s\n' "$base" | grep -c '^xen-hotpatch(')" -eq 1 ] ||
		{ echo "the base requires a payload:"; printf '%s\n' "$base"; return 1; }
}
t "generated relations: Provides own id, Requires the id below (payloads only) and the tool version" check_relations

check_payload_pkg() {
	local p=$R/chain/xen-hotpatch-zz-base-1-1.noarch.rpm d l
	eq "$(rpm -qp --qf '%{ARCH}' "$p")" noarch arch || return 1
	l=$(rpm -qp -l "$p")
	eq "$l" "/usr/lib/xen-hotpatch/$H
/usr/lib/xen-hotpatch/$H/zz-base.livepatch" files || return 1
	[ -z "$(rpm -qp --scripts --filetriggers --triggers "$p")" ] || { rpm -qp --scripts --triggers "$p"; return 1; }
	d=$work/extract-zz && mkdir -p "$d" && (cd "$d" && rpm2cpio "$p" | cpio -idm --quiet) &&
		cmp "$d/usr/lib/xen-hotpatch/$H/zz-base.livepatch" "$P/zz-base.livepatch"
}
t "payload package: noarch, the file under /usr/lib/xen-hotpatch/<xen id>/ byte for byte, no scriptlets" \
	check_payload_pkg

check_metadata() {
	local p=$R/cumul2/xen-hotpatch-cumul-2-1.noarch.rpm i w
	i=$(rpm -qp --qf '%{SUMMARY}\n%{DESCRIPTION}\n' "$p")
	for w in "$H" "Payload cum-2" "cve=CVE-2025-1001" "cve2=CVE-2025-1002" "version=2"; do
		printf '%s\n' "$i" | grep -qF -- "$w" || { echo "no '$w' in:"; printf '%s\n' "$i"; return 1; }
	done
	rpm -qp --changelog "$p" | grep -q 'Cumulative 2: CVE-2025-1001, CVE-2025-1002'
}
t "payload package metadata: hypervisor build-id, payload names, .modinfo (CVE ids), changelog" check_metadata
t "renamed cumulative carries Obsoletes" \
	has "$(rpm -qp --obsoletes "$R/cumulnext/xen-hotpatch-cumul-next-3-1.noarch.rpm")" xen-hotpatch-cumul

check_broken_mkpkg() {
	local out
	if out=$(XEN_HOTPATCH=$tool "$mkpkg" --rpm --outdir "$work/broken" "$P/broken.livepatch" 2>&1); then
		echo "built: $out"; return 1
	fi
	printf '%s\n' "$out" | grep -q 'broken.livepatch: .*xen_depends' || { printf '%s\n' "$out"; return 1; }
	[ -z "$(ls -A "$work/broken" 2>/dev/null)" ] || { echo "left a package"; return 1; }
}
t "a malformed payload fails mkpkg with the tool's message, and no package is written" check_broken_mkpkg

check_broken_generator() {
	local d=$work/vendor a out
	mkdir -p "$d/SOURCES" "$d/fa" && cp "$P/broken.livepatch" "$d/SOURCES/" || return 1
	cat > "$d/v.spec" <<EOF
Name: vendor-raw
Version: 1
Release: 1
Summary: hand-written payload package
License: GPL-2.0-only
BuildArch: noarch
Source0: broken.livepatch
%global __os_install_post %{nil}
%description
A vendor spec that skips the macros: only the generator reads the payload.
%install
install -D -m 0644 %{SOURCE0} %{buildroot}/usr/lib/xen-hotpatch/$H/broken.livepatch
%files
/usr/lib/xen-hotpatch/$H
EOF
	for a in "$(rpm --eval '%{_fileattrsdir}')"/*.attr; do ln -s "$a" "$d/fa/"; done
	cp "$top/spec/xen_hotpatch.attr" "$d/fa/"
	if out=$(XEN_HOTPATCH=$tool rpmbuild -bb --define "_topdir $d" --load "$top/spec/xen_hotpatch.attr" \
		--define "_fileattrsdir $d/fa" --define "__xen_hotpatch_rpmdeps $top/spec/xen-hotpatch-rpmdeps" \
		"$d/v.spec" 2>&1); then
		echo "built"; return 1
	fi
	printf '%s\n' "$out" | grep -q 'xen-hotpatch: .*broken.livepatch: .*xen_depends' ||
		{ printf '%s\n' "$out" | grep -v '^+' | tail -n 15; return 1; }
}
t "a malformed payload fails a hand-written spec's build through the dependency generator" check_broken_generator

# The installed layout of xen-hotpatch-rpm-macros, without touching the host:
# RPM_CONFIGDIR points rpm at a copy of /usr/lib/rpm with the package's files in
# it (macros.d, fileattrs, the generator); mkpkg runs from the package's files.
check_installed_macros() {
	local d=$work/installed r
	mkdir -p "$d/x" && cp -a "$(rpm --eval '%{_rpmconfigdir}')" "$d/rpmcfg" &&
		(cd "$d/x" && rpm2cpio "$macrosrpm" | cpio -idm --quiet) && cp -a "$d/x/usr/lib/rpm/." "$d/rpmcfg/" || return 1
	RPM_CONFIGDIR=$d/rpmcfg XEN_HOTPATCH_MKPKG_LIB=$d/x/usr/share/xen-hotpatch/mkpkg XEN_HOTPATCH=$tool \
		XEN_HOTPATCH_RUN_DIR=$work/host-run "$d/x/usr/bin/xen-hotpatch-mkpkg" --rpm --outdir "$d/out" \
		"$P/mm-middle.livepatch" || return 1
	r=$(rpm -qp --provides --requires "$d/out/xen-hotpatch-mm-middle-1-1.noarch.rpm")
	has "$r" "xen-hotpatch($(id_of "$P/mm-middle.livepatch"))" &&
		has "$r" "xen-hotpatch($(id_of "$P/zz-base.livepatch"))" && has "$r" "xen-hotpatch >= $version"
}
t "installed xen-hotpatch-rpm-macros: its mkpkg, macros and generator build a payload package" \
	check_installed_macros

# The bindings from the RPM, unpacked, imported by the host's python3 (the
# one they were built for) and driving a simulated hypervisor.
check_python_rpm() {
	local d=$work/python-rpm sp
	rm -rf "$d" && mkdir -p "$d" || return 1
	(cd "$d" && rpm2cpio "$pyrpm" | cpio -idm --quiet) || return 1
	sp=$(dirname "$(find "$d" -name '_xen_hotpatch*.so' | head -n 1)") || return 1
	if [ ! -f "$sp/__init__.pyi" ] || [ ! -f "$sp/py.typed" ]; then
		echo "no type stubs in $sp"
		return 1
	fi
	rpm -qp -R "$pyrpm" | grep -q '^python(abi) = ' || { echo "no python(abi) requirement"; return 1; }
	"$simctl" "$d/sim" init --build-id "$H" > /dev/null || return 1
	PYTHONPATH=$(dirname "$sp") /usr/bin/python3 -c '
import sys, xen_hotpatch as xh
hv = xh.Hypervisor("sim:" + sys.argv[1])
assert hv.build_id == sys.argv[2] and hv.livepatch_list() == []
' "$d/sim" "$H"
}
t "python3-xen-hotpatch: the module from the RPM, with its stubs, imports and drives a simulated hypervisor" \
	check_python_rpm
check_ansible_rpm() {
	local l m c=/usr/share/ansible/collections/ansible_collections/xen/hotpatch
	l=$(rpm -qp -l "$ansiblerpm")
	for m in xen_hotpatch xen_hotpatch_info; do
		if ! has "$l" "$c/plugins/modules/$m.py" || ! has "$l" "/usr/share/ansible/plugins/modules/$m.py"; then
			return 1
		fi
	done
	has "$l" "$c/plugins/module_utils/xen_hotpatch.py" && rpm -qp -R "$ansiblerpm" | grep -q 'ansible-core'
}
t "xen-hotpatch-ansible: the collection xen.hotpatch, its modules linked for short names" check_ansible_rpm

# no_errors LOG: rpmlint's output has no error line
no_errors() { ! grep -E '(^|: )E: ' "$1"; }
rpmlint -r "$top/spec/xen-hotpatch.rpmlintrc" "$toolrpm" "$simrpm" "$dracutrpm" "$macrosrpm" "$pyrpm" \
	"$ansiblerpm" "$srpm" > "$work/log/rpmlint-tool.log" 2>&1
t "rpmlint: the tool's packages and SRPM have no error ($(tail -n 1 "$work/log/rpmlint-tool.log" | sed 's/^ *//; s/;.*//'))" \
	no_errors "$work/log/rpmlint-tool.log"
rpmlint -r "$top/spec/payload.rpmlintrc" "$R"/*/*.rpm > "$work/log/rpmlint-payloads.log" 2>&1
t "rpmlint: the payload packages have no error ($(tail -n 1 "$work/log/rpmlint-payloads.log" | sed 's/^ *//; s/;.*//'))" \
	no_errors "$work/log/rpmlint-payloads.log"

# ---- the test root's base: a shell and the tool's libraries ------------------
echo "-- test root base RPM, repositories"
make_base() {
	local b=$work/testroot-base l
	mkdir -p "$b/x" "$b/stage/bin" || return 1
	(cd "$b/x" && rpm2cpio "$toolrpm" | cpio -idm --quiet) || return 1
	cp /bin/dash "$b/stage/bin/sh" || return 1
	ldd /bin/dash "$b/x/usr/sbin/xen-hotpatch" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' |
		sort -u > "$b/libs"
	while IFS= read -r l; do
		mkdir -p "$b/stage$(dirname "$l")" && cp -L "$l" "$b/stage$l" || return 1
	done < "$b/libs"
	{
		cat <<EOF
Name: xhp-testroot-base
Version: 1
Release: 1
Summary: Test root base: /bin/sh and the host's copies of the tool's libraries
License: LicenseRef-xen-hotpatch-test-only
AutoReqProv: no
Provides: /bin/sh
EOF
		# What the tool RPM requires of the system (Debian sonames), so that
		# dnf can resolve it.
		rpm -qp --requires "$toolrpm" | grep -v -e '^rpmlib(' -e '^config(' -e '^/bin/sh$' | sed 's/^/Provides: /'
		cat <<EOF
%global __os_install_post %{nil}
%global _build_id_links none
%global debug_package %{nil}
%description
Test only (tests/rpm/run.sh): the tool RPM is built on Debian and requires
Debian's sonames; this package ships the host's files that provide them.
%install
cp -a "$b/stage/." %{buildroot}/
%files
EOF
		(cd "$b/stage" && find . -type f | sed 's/^\.//' | sort)
	} > "$b/testroot-base.spec"
	rpmbuild -bb --define "_topdir $b" --define "_rpmdir $R/base" "$b/testroot-base.spec" &&
		cp "$toolrpm" "$dracutrpm" "$macrosrpm" "$R/base/"
}
make_base > "$work/log/testroot-base.log" 2>&1 || fatal "build xhp-testroot-base (see $work/log/testroot-base.log)"
for r in "$R"/*/; do
	createrepo_c -q "$r" || fatal "createrepo_c $r"
done

# ---- dnf into test roots -------------------------------------------------------
# xdnf ROOT "REPOS" ARGS...: dnf --installroot with the base repository and the
# named ones only; the output is in $work/log/dnf.last (and dnf.log).
xdnf() {
	local root=$1 repos=$2 r rc
	shift 2
	local args=(-y --installroot="$root" --releasever=1 --disablerepo='*' --nogpgcheck
		--setopt=install_weak_deps=0 --setopt=clean_requirements_on_remove=0
		--setopt=reposdir=/dev/null --setopt=cachedir="$root/var/cache/dnf")
	for r in base $repos; do args+=(--repofrompath="$r,$R/$r"); done
	echo "## dnf $* (root ${root##*/})" >> "$work/log/dnf.log"
	dnf "${args[@]}" "$@" > "$work/log/dnf.last" 2>&1
	rc=$?
	cat "$work/log/dnf.last" >> "$work/log/dnf.log"
	if [ $rc -ne 0 ]; then
		echo "     dnf $* (root ${root##*/}) exited $rc:"
		tail -n 15 "$work/log/dnf.last" | indent
	fi
	return $rc
}

root0=$work/roots/template
mkdir -p "$root0/dev" "$root0/run" "$root0/tmp" "$root0/var/tmp"
mknod -m 666 "$root0/dev/null" c 1 3
if xdnf "$root0" "" install xhp-testroot-base && xdnf "$root0" "" install xen-hotpatch &&
	chroot "$root0" /usr/sbin/xen-hotpatch version > /dev/null; then
	ok "test root: xhp-testroot-base, then the tool RPM (dnf --installroot); the tool runs in it"
else
	fatal "test root: xhp-testroot-base, then the tool RPM (dnf --installroot); the tool runs in it"
fi

# newroot NAME [apply_on_install]: a copy of the template root whose policy
# points at a simulated hypervisor inside it, booted on $H.
newroot() {
	local root=$work/roots/$1
	cp -a "$root0" "$root"
	cat > "$root/etc/xen-hotpatch/conf.d/50-tests.conf" <<EOF
# tests/rpm/run.sh: the simulated hypervisor inside this root
backend = sim:/var/lib/xen-hotpatch-sim
apply_on_install = ${2:-always}
EOF
	"$simctl" "$root/var/lib/xen-hotpatch-sim" init --build-id $H > /dev/null
	echo "$root"
}

# ---- scenario 1: a chain in one transaction ------------------------------------
echo "-- 1. a 3-payload chain in one transaction (names sort against chain order)"
r1=$(newroot s1)
t "dnf install of the chain" xdnf "$r1" chain install xen-hotpatch-aa-upper xen-hotpatch-mm-middle xen-hotpatch-zz-base
t "applied in chain order" eq "$(applied "$r1")" "zz-base mm-middle aa-upper" applied
t "uploaded, then applied bottom first" eq "$(ops "$r1" 0)" \
	"upload:zz-base upload:mm-middle upload:aa-upper apply:zz-base apply:mm-middle apply:aa-upper" actions
t "one converge run for the transaction" eq "$(runs "$r1")" 1 "apply.log lines"
t "status: in sync (exit 0)" xstatus "$r1"
t "no scriptlet failed" scriptlets_clean "$r1"

# ---- scenario 2: the top pulls in the rest ------------------------------------
echo "-- 2. dnf install of only the top package"
r2=$(newroot s2)
t "dnf install xen-hotpatch-aa-upper" xdnf "$r2" chain install xen-hotpatch-aa-upper
t "generated Requires pulled in the middle and the base" \
	rpm --root "$r2" -q xen-hotpatch-aa-upper xen-hotpatch-mm-middle xen-hotpatch-zz-base
t "applied in chain order" eq "$(applied "$r2")" "zz-base mm-middle aa-upper" applied
t "one converge run" eq "$(runs "$r2")" 1 "apply.log lines"

# ---- scenario 3: upgrade of a cumulative package --------------------------------
echo "-- 3. upgrade of a cumulative package (same name, next version)"
r3=$(newroot s3)
t "dnf install xen-hotpatch-cumul-1" xdnf "$r3" cumul1 install xen-hotpatch-cumul
t "cumulative 1 applied" eq "$(applied "$r3")" cum-1 applied
a=$(nactions "$r3") h=$(nhistory "$r3") n=$(runs "$r3")
t "dnf upgrade xen-hotpatch-cumul" xdnf "$r3" "cumul1 cumul2" upgrade xen-hotpatch-cumul
t "upgrade: cumulative 2 applied" eq "$(applied "$r3")" cum-2 applied
t "upgrade: exactly one REPLACE" eq "$(ops "$r3" "$a" replace)" replace:cum-2 replaces
t "upgrade: no revert" eq "$(count_op "$r3" "$a" revert)" 0 reverts
t "upgrade: the applied stack was never empty" eq "$(never_empty "$r3" "$h")" True "history never empty"
t "upgrade: the old payload is unloaded" eq "$(loaded "$r3")" cum-2 loaded
# The transaction removes and installs payload files: rpm runs the postun
# trigger, then the in trigger; the first converges, the second finds nothing.
check_one_effective_run() {
	tail -n +$(($2 + 1)) "$1/run/xen-hotpatch/apply.log" > "$work/log/runs"
	[ "$(grep -vc ' 0 steps' "$work/log/runs")" -eq 1 ] || { cat "$work/log/runs"; return 1; }
}
t "upgrade: one converge run changed the hypervisor (any other found nothing to do)" \
	check_one_effective_run "$r3" "$n"
t "upgrade: status in sync" xstatus "$r3"
t "upgrade: no scriptlet failed" scriptlets_clean "$r3"

# ---- scenario 9: downgrade and history undo (same root) -------------------------
echo "-- 9. dnf downgrade / dnf history undo back to the previous cumulative"
a=$(nactions "$r3") h=$(nhistory "$r3")
t "dnf downgrade xen-hotpatch-cumul" xdnf "$r3" "cumul1 cumul2" downgrade xen-hotpatch-cumul
t "downgrade: cumulative 1 applied again" eq "$(applied "$r3")" cum-1 applied
t "downgrade: by one REPLACE, never empty, 2 unloaded" eq \
	"$(ops "$r3" "$a" replace) $(never_empty "$r3" "$h") $(loaded "$r3")" "replace:cum-1 True cum-1" \
	"replaces, never empty, loaded"
a=$(nactions "$r3") h=$(nhistory "$r3")
t "dnf history undo last" xdnf "$r3" "cumul1 cumul2" history undo last
t "history undo: cumulative 2 applied again" eq "$(applied "$r3")" cum-2 applied
t "history undo: by one REPLACE, never empty, 1 unloaded" eq \
	"$(ops "$r3" "$a" replace) $(never_empty "$r3" "$h") $(loaded "$r3")" "replace:cum-2 True cum-2" \
	"replaces, never empty, loaded"

# ---- scenario 4: the same through a renamed package with Obsoletes ----------------
echo "-- 4. upgrade through a renamed package (Obsoletes)"
r4=$(newroot s4)
t "dnf install xen-hotpatch-cumul-1" xdnf "$r4" cumul1 install xen-hotpatch-cumul
a=$(nactions "$r4") h=$(nhistory "$r4")
t "dnf upgrade (xen-hotpatch-cumul-next obsoletes xen-hotpatch-cumul)" xdnf "$r4" "cumul1 cumulnext" upgrade
check_renamed() {
	installed "$r4" xen-hotpatch-cumul-next || { echo "cumul-next not installed"; return 1; }
	! installed "$r4" xen-hotpatch-cumul || { echo "cumul still installed"; return 1; }
}
t "rename: the old package is gone, the new one installed" check_renamed
t "rename: cumulative 3 applied by one REPLACE, no revert" eq \
	"$(applied "$r4") $(ops "$r4" "$a" replace) $(count_op "$r4" "$a" revert)" "cum-3 replace:cum-3 0" \
	"applied, replaces, reverts"
t "rename: never empty, the old payload unloaded" eq "$(never_empty "$r4" "$h") $(loaded "$r4")" "True cum-3" \
	"never empty, loaded"

# ---- scenario 5: erase -------------------------------------------------------------
echo "-- 5. erase of the top package, then of a middle one"
a=$(nactions "$r1")
t "dnf remove xen-hotpatch-aa-upper" xdnf "$r1" chain remove xen-hotpatch-aa-upper
t "erase top: reverted and unloaded" eq \
	"$(applied "$r1") / $(ops "$r1" "$a") / $(loaded "$r1")" \
	"zz-base mm-middle / revert:aa-upper unload:aa-upper / zz-base mm-middle" "applied / actions / loaded"
a=$(nactions "$r2")
t "dnf remove xen-hotpatch-mm-middle" xdnf "$r2" chain remove xen-hotpatch-mm-middle
check_erased_middle() {
	if installed "$r2" xen-hotpatch-aa-upper || installed "$r2" xen-hotpatch-mm-middle ||
		! installed "$r2" xen-hotpatch-zz-base; then
		rpm --root "$r2" -qa | grep xen-hotpatch
		return 1
	fi
}
t "erase middle: dnf erased what requires it too" check_erased_middle
t "erase middle: both reverted, top first, and unloaded" eq \
	"$(applied "$r2") / $(ops "$r2" "$a" revert) / $(loaded "$r2")" \
	"zz-base / revert:aa-upper revert:mm-middle / zz-base" "applied / reverts / loaded"
t "erase: status in sync" xstatus "$r2"

# ---- scenario 6: a package for another hypervisor ------------------------------------
echo "-- 6. a package for another hypervisor build"
r6=$(newroot s6)
a=$(nactions "$r6")
t "dnf install xen-hotpatch-elsewhere" xdnf "$r6" other install xen-hotpatch-elsewhere
t "other hypervisor: installed under its own build-id" test -f "$r6/usr/lib/xen-hotpatch/$H2/elsewhere.livepatch"
t "other hypervisor: nothing uploaded or applied" eq "$(ops "$r6" "$a")" "" actions
check_status_other() {
	local out
	out=$(xstatus "$r6" 2>&1) || { echo "status exited $?"; printf '%s\n' "$out"; return 1; }
	if ! { printf '%s\n' "$out" | grep -qi 'other hypervisor' && printf '%s\n' "$out" | grep -q "$H2"; }; then
		printf '%s\n' "$out"
		return 1
	fi
}
t "other hypervisor: status says it is installed for another hypervisor (exit 0)" check_status_other

# ---- scenario 7: alternate root, apply_on_install = never ------------------------------
echo "-- 7. alternate root (policy auto: chrooted, no /proc) and apply_on_install = never"
r7=$(newroot s7 auto)
rpm --root "$r7" -ivh --force-debian "$R"/chain/*.rpm > "$work/log/rpm-root.log" 2>&1
rc=$?
t "rpm --root (auto): exit 0, files installed" eq "$rc $(ls "$r7/usr/lib/xen-hotpatch/$H")" \
	"0 aa-upper.livepatch
mm-middle.livepatch
zz-base.livepatch" "exit, files"
t "rpm --root (auto): hypervisor untouched" eq "$(nactions "$r7")" 0 actions
t "rpm --root (auto): the reason is printed" grep -q 'chroot' "$work/log/rpm-root.log"
r7n=$(newroot s7never never)
t "apply_on_install = never: dnf install succeeds" xdnf "$r7n" chain install xen-hotpatch-aa-upper
t "apply_on_install = never: the reason is in dnf's output" grep -q 'apply_on_install = never' "$work/log/dnf.last"
t "apply_on_install = never: files installed, hypervisor untouched" eq \
	"$(find "$r7n/usr/lib/xen-hotpatch/$H" -name '*.livepatch' | wc -l) $(nactions "$r7n")" "3 0" "files, actions"
check_status_3() {
	xstatus "$1" > "$work/log/status.out" 2>&1
	eq $? 3 "status exit" || { cat "$work/log/status.out"; return 1; }
}
t "apply_on_install = never: status says installed but not applied (exit 3)" check_status_3 "$r7n"

# ---- scenario 8: a payload the hypervisor refuses -----------------------------------------
echo "-- 8. a payload the hypervisor refuses (XEN_HOTPATCH_SIM_FAIL=apply:refused:EINVAL)"
r8=$(newroot s8)
export XEN_HOTPATCH_SIM_FAIL=apply:refused:EINVAL
t "refused: dnf install succeeds" xdnf "$r8" refused install xen-hotpatch-refused
unset XEN_HOTPATCH_SIM_FAIL
t "refused: the package is installed" installed "$r8" xen-hotpatch-refused
check_refused_message() {
	if ! { grep -q 'refused' "$work/log/dnf.last" && grep -qE 'EINVAL|Invalid argument' "$work/log/dnf.last"; }; then
		cat "$work/log/dnf.last"
		return 1
	fi
}
t "refused: the tool's message is in dnf's output" check_refused_message
t "refused: nothing applied" eq "$(applied "$r8")" "" applied
t "refused: no scriptlet failed" scriptlets_clean "$r8"
t "refused: status exits 3 (out of sync)" check_status_3 "$r8"

finish
