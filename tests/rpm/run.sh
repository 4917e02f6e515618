#!/bin/bash
# tests/rpm/run.sh: the RPM tier (issue 3). Real rpmbuild, createrepo_c, dnf and
# rpm; the real xen-hotpatch tool, packaged by `make rpm` and installed into test
# roots, on the simulated hypervisor kept inside each root.
#
#  - `make rpm` builds xen-hotpatch, -dracut and -rpm-macros from `make dist`;
#    rpmlint (spec/xen-hotpatch.rpmlintrc, spec/payload.rpmlintrc) finds no error.
#  - Payloads forged by tests/fixtures/forge-payload.sh are packaged by the real
#    scripts/xen-hotpatch-mkpkg --rpm (reading them with $XHP_PLAIN_BIN), which
#    takes the macros and the dependency generator from spec/.
#  - A test root: a test-only "xhp-testroot-base" RPM (a shell and the host's
#    copies of the libraries the tool RPM requires, with matching Provides)
#    installed in a first dnf transaction, the tool RPM in a second; the root's
#    policy says backend = sim:/var/lib/xen-hotpatch-sim, apply_on_install =
#    always (under --installroot the scriptlets run chrooted without /proc,
#    which `auto` rightly treats as a chroot).
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

H=5f1d3a8e0c7b96a4d2e1f0a9b8c7d6e5f4a3b2c1	# the simulated hypervisor
H2=0badc0ffee0ddf00d0123456789abcdef0123456	# another hypervisor build

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }
note() { echo "     $*"; }
# t NAME COMMAND...: one test; on failure, what the command printed.
t() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		ko "$what"
		[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/     | /' | head -n 40
	fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
fatal() {
	ko "$*"
	finish
}

# ---- prerequisites ---------------------------------------------------------
for c in rpmbuild rpm dnf createrepo_c rpmlint rpm2cpio cpio python3 chroot; do
	command -v "$c" >/dev/null 2>&1 || fatal "prerequisite: $c not installed (tests/install-deps.sh)"
done
[ -x "$tool" ] && [ -x "$simctl" ] || fatal "prerequisite: $tool and $simctl (make all)"
[ "$(id -u)" -eq 0 ] || fatal "prerequisite: root (dnf --installroot chroots for scriptlets)"

rm -rf "$work"
mkdir -p "$work/home" "$work/log" "$work/payloads" "$work/repos" "$work/roots"
# Debian's rpm keeps its database in ~/.rpmdb (and ROOT/root/.rpmdb under
# --root): a private HOME puts it where RPM distributions have it.
export HOME=$work/home
printf '%%_dbpath /var/lib/rpm\n' > "$HOME/.rpmmacros"
# Host-side tool runs (mkpkg) must not touch the host's /run/xen-hotpatch.
export XEN_HOTPATCH_RUN_DIR=$work/host-run

# ---- JSON helpers over `xen-hotpatch-sim DIR show --json` --------------------
simshow() { "$simctl" "$1/var/lib/xen-hotpatch-sim" show --json; }
# sim_q ROOT EXPR: evaluate a Python expression over the JSON as s.
sim_q() {
	simshow "$1" | python3 -c 'import json, sys; s = json.load(sys.stdin); r = eval(sys.argv[1]); print(" ".join(r) if isinstance(r, list) else r)' "$2"
}
applied() { sim_q "$1" 's["applied"]'; }
nactions() { sim_q "$1" 'len(s["actions"])'; }
nhistory() { sim_q "$1" 'len(s["history"])'; }
# ops ROOT FROM: "op:name" of every action from index FROM on
ops() { sim_q "$1" "[a['op'] + ':' + a['name'] for a in s['actions'][$2:]]"; }
count_op() { sim_q "$1" "sum(1 for a in s['actions'][$2:] if a['op'] == '$3')"; }
# Every applied stack recorded from history index FROM on is non-empty.
history_never_empty() { sim_q "$1" "all(len(h) > 0 for h in s['history'][$2:])"; }
loaded_names() { sim_q "$1" "[l['name'] for l in s['loaded']]"; }
runs() { # converge runs logged in ROOT
	local f=$1/run/xen-hotpatch/apply.log
	if [ -f "$f" ]; then wc -l < "$f"; else echo 0; fi
}

expect_eq() { # GOT WANT WHAT
	[ "$1" = "$2" ] && return 0
	echo "$3: expected '$2', got '$1'"
	return 1
}

# ---- 1. make rpm ------------------------------------------------------------
echo "-- make rpm (make dist, rpmbuild -ta --nodeps)"
if make -C "$top" --no-print-directory rpm > "$work/log/make-rpm.log" 2>&1; then
	ok "make rpm builds from the dist tarball"
else
	ko "make rpm builds from the dist tarball"
	grep -vE '^\+ ' "$work/log/make-rpm.log" | tail -n 25 | sed 's/^/     | /'
	finish
fi
version=$(sed -n 's/^#define XHP_VERSION_STRING "\(.*\)"/\1/p' "$top/src/xhp.h")
rpmtop=$top/build/rpm
toolrpm=$(ls "$rpmtop"/RPMS/*/xen-hotpatch-"$version"-*.rpm 2>/dev/null | grep -v -e -dracut- -e -rpm-macros- | head -n 1)
dracutrpm=$(ls "$rpmtop"/RPMS/noarch/xen-hotpatch-dracut-"$version"-*.noarch.rpm 2>/dev/null | head -n 1)
macrosrpm=$(ls "$rpmtop"/RPMS/noarch/xen-hotpatch-rpm-macros-"$version"-*.noarch.rpm 2>/dev/null | head -n 1)
srpm=$(ls "$rpmtop"/SRPMS/xen-hotpatch-"$version"-*.src.rpm 2>/dev/null | head -n 1)
[ -n "$toolrpm" ] && [ -n "$dracutrpm" ] && [ -n "$macrosrpm" ] && [ -n "$srpm" ] ||
	fatal "make rpm: expected xen-hotpatch, -dracut, -rpm-macros and the SRPM in $rpmtop"

q() { rpm -qp "$@" 2>/dev/null; }
t "tool package: tool, sim, unit, policy (config noreplace), payload and state folders" bash -c '
	l=$(rpm -qp -l "$1"); c=$(rpm -qp -c "$1")
	for f in /usr/sbin/xen-hotpatch /usr/bin/xen-hotpatch-sim /usr/lib/systemd/system/xen-hotpatch.service \
		/etc/xen-hotpatch/xen-hotpatch.conf /usr/lib/xen-hotpatch /var/lib/xen-hotpatch; do
		printf "%s\n" "$l" | grep -qx "$f" || { echo "missing $f"; exit 1; }
	done
	printf "%s\n" "$c" | grep -qx /etc/xen-hotpatch/xen-hotpatch.conf || { echo "policy is not %config"; exit 1; }
	rpm -qp --qf "[%{FILENAMES} %{FILEFLAGS:fflags}\n]" "$1" | grep -q "^/etc/xen-hotpatch/xen-hotpatch.conf .*n" ||
		{ echo "policy is not noreplace"; exit 1; }' _ "$toolrpm"
t "tool package: one transfiletriggerin and one transfiletriggerpostun on /usr/lib/xen-hotpatch running apply --auto" bash -c '
	s=$(rpm -qp --filetriggers "$1")
	printf "%s\n" "$s" | grep -q "^transfiletriggerin scriptlet.* -- /usr/lib/xen-hotpatch$" &&
	printf "%s\n" "$s" | grep -q "^transfiletriggerpostun scriptlet.* -- /usr/lib/xen-hotpatch$" &&
	[ "$(printf "%s\n" "$s" | grep -c "xen-hotpatch apply --auto || :")" -eq 2 ] || { printf "%s\n" "$s"; exit 1; }' _ "$toolrpm"
t "tool package: no %pretrans; every scriptlet guarded with || :" bash -c '
	s=$(rpm -qp --scripts "$1")
	! printf "%s\n" "$s" | grep -q "^pretrans scriptlet" || { echo "has a pretrans"; exit 1; }
	n=$(printf "%s\n" "$s" | grep -c "systemctl .*|| :")
	[ "$n" -eq 2 ] || { printf "%s\n" "$s"; exit 1; }' _ "$toolrpm"
t "dracut package: module files; initramfs rebuilt by its trigger on the tool and module only, guarded" bash -c '
	l=$(rpm -qp -l "$1")
	printf "%s\n" "$l" | grep -q "^/usr/lib/dracut/modules.d/95xen-hotpatch/module-setup.sh$" || { printf "%s\n" "$l"; exit 1; }
	s=$(rpm -qp --filetriggers "$1")
	printf "%s\n" "$s" | grep -q "^transfiletriggerin scriptlet.* -- /usr/lib/dracut/modules.d/95xen-hotpatch, /usr/sbin/xen-hotpatch$" &&
	printf "%s\n" "$s" | grep -q "\[ -x /usr/bin/dracut \] && \[ /proc/1/root -ef / \]; then /usr/bin/dracut -f --regenerate-all || :" ||
		{ printf "%s\n" "$s"; exit 1; }
	! rpm -qp --filetriggers "$2" | grep -q dracut || { echo "tool package runs dracut"; exit 1; }' _ "$dracutrpm" "$toolrpm"
t "rpm-macros package: macros, fileattrs generator, mkpkg and its libraries" bash -c '
	l=$(rpm -qp -l "$1")
	for f in /usr/lib/rpm/macros.d/macros.xen-hotpatch /usr/lib/rpm/fileattrs/xen_hotpatch.attr \
		/usr/lib/rpm/xen-hotpatch-rpmdeps /usr/bin/xen-hotpatch-mkpkg \
		/usr/share/xen-hotpatch/mkpkg/mkpkg-common.sh /usr/share/xen-hotpatch/mkpkg/mkpkg-rpm.sh \
		/usr/share/xen-hotpatch/mkpkg/payload.spec.in; do
		printf "%s\n" "$l" | grep -qx "$f" || { echo "missing $f"; exit 1; }
	done' _ "$macrosrpm"

# ---- payloads and payload packages -------------------------------------------
echo "-- payloads (forge-payload.sh) and payload packages (xen-hotpatch-mkpkg --rpm)"
P=$work/payloads
forged() { "$forge" "$@" > /dev/null 2>> "$work/log/forge.log"; }
forged -o "$P/zz-base.livepatch" --xen-id $H --modinfo version=1 --modinfo cve=CVE-2024-31141 &&
forged -o "$P/mm-middle.livepatch" --xen-id $H --depends-file "$P/zz-base.livepatch" &&
forged -o "$P/aa-top.livepatch" --xen-id $H --depends-file "$P/mm-middle.livepatch" &&
forged -o "$P/cum-1.livepatch" --xen-id $H --modinfo version=1 --modinfo cve=CVE-2025-1001 &&
forged -o "$P/cum-2.livepatch" --xen-id $H --modinfo version=2 --modinfo cve=CVE-2025-1001 --modinfo cve2=CVE-2025-1002 &&
forged -o "$P/cum-3.livepatch" --xen-id $H --modinfo version=3 &&
forged -o "$P/elsewhere.livepatch" --xen-id $H2 &&
forged -o "$P/refused.livepatch" --xen-id $H &&
forged -o "$P/broken.livepatch" --xen-id $H --bad no-xen-depends ||
	fatal "forge the fixture payloads (see $work/log/forge.log)"

# mk REPO NAME VERSION [MKPKG OPTIONS] PAYLOAD...: one payload package into repos/REPO
mk() {
	local repo=$1 name=$2 ver=$3
	shift 3
	mkdir -p "$work/repos/$repo"
	XEN_HOTPATCH=$tool "$mkpkg" --rpm --name "$name" --version "$ver" \
		--maintainer "xen-hotpatch tests <tests@example.org>" \
		--outdir "$work/repos/$repo" "$@" >> "$work/log/mkpkg.log" 2>&1
}
mkpkgs() {
	mk chain xen-hotpatch-zz-base 1 "$P/zz-base.livepatch" &&
	mk chain xen-hotpatch-mm-middle 1 "$P/mm-middle.livepatch" &&
	mk chain xen-hotpatch-aa-top 1 "$P/aa-top.livepatch" &&
	mk cumul1 xen-hotpatch-cumul 1 --changelog "Cumulative 1: CVE-2025-1001" "$P/cum-1.livepatch" &&
	mk cumul2 xen-hotpatch-cumul 2 --changelog "Cumulative 2: CVE-2025-1001, CVE-2025-1002" "$P/cum-2.livepatch" &&
	mk cumulnext xen-hotpatch-cumul-next 3 --obsoletes xen-hotpatch-cumul "$P/cum-3.livepatch" &&
	mk other xen-hotpatch-elsewhere 1 "$P/elsewhere.livepatch" &&
	mk refused xen-hotpatch-refused 1 "$P/refused.livepatch"
}
if mkpkgs; then
	ok "xen-hotpatch-mkpkg --rpm builds the payload packages"
else
	ko "xen-hotpatch-mkpkg --rpm builds the payload packages"
	tail -n 25 "$work/log/mkpkg.log" | sed 's/^/     | /'
	finish
fi
R=$work/repos
id_of() { "$tool" info --query build_id "$1"; }
t "generated relations: Provides own id, Requires the id below it and the tool version" bash -c '
	top=$(rpm -qp --provides --requires "$1/chain/xen-hotpatch-aa-top-1-1.noarch.rpm")
	printf "%s\n" "$top" | grep -qx "xen-hotpatch($2)" &&
	printf "%s\n" "$top" | grep -qx "xen-hotpatch($3)" &&
	printf "%s\n" "$top" | grep -qx "xen-hotpatch >= $5" || { printf "%s\n" "$top"; exit 1; }
	base=$(rpm -qp --requires "$1/chain/xen-hotpatch-zz-base-1-1.noarch.rpm")
	! printf "%s\n" "$base" | grep -q "^xen-hotpatch(" || { echo "base requires a payload: $base"; exit 1; }
	rpm -qp --provides "$1/chain/xen-hotpatch-zz-base-1-1.noarch.rpm" | grep -qx "xen-hotpatch($4)"' \
	_ "$R" "$(id_of "$P/aa-top.livepatch")" "$(id_of "$P/mm-middle.livepatch")" "$(id_of "$P/zz-base.livepatch")" "$version"
t "payload package: noarch, file under /usr/lib/xen-hotpatch/<xen id>/, byte for byte, no scriptlets" bash -c '
	p=$1/chain/xen-hotpatch-zz-base-1-1.noarch.rpm
	[ "$(rpm -qp --qf "%{ARCH}" "$p")" = noarch ] || exit 1
	l=$(rpm -qp -l "$p"); [ "$l" = "/usr/lib/xen-hotpatch/$2
/usr/lib/xen-hotpatch/$2/zz-base.livepatch" ] || { echo "$l"; exit 1; }
	[ -z "$(rpm -qp --scripts --filetriggers --triggers "$p")" ] || { rpm -qp --scripts "$p"; exit 1; }
	d=$(mktemp -d); trap "rm -rf $d" EXIT
	(cd "$d" && rpm2cpio "$p" | cpio -idm --quiet) && cmp "$d/usr/lib/xen-hotpatch/$2/zz-base.livepatch" "$3"' \
	_ "$R" $H "$P/zz-base.livepatch"
t "payload package metadata: hypervisor build-id, payload names, .modinfo (CVE ids), changelog" bash -c '
	i=$(rpm -qp --qf "%{SUMMARY}\n%{DESCRIPTION}\n" "$1/cumul2/xen-hotpatch-cumul-2-1.noarch.rpm")
	for w in "$2" "Payload cum-2" "cve: CVE-2025-1001" "cve2: CVE-2025-1002" "version: 2"; do
		printf "%s\n" "$i" | grep -qF -- "$w" || { echo "no \"$w\" in:"; printf "%s\n" "$i"; exit 1; }
	done
	rpm -qp --changelog "$1/cumul2/xen-hotpatch-cumul-2-1.noarch.rpm" | grep -q "Cumulative 2: CVE-2025-1001, CVE-2025-1002"' \
	_ "$R" $H
t "renamed cumulative carries Obsoletes" bash -c '
	rpm -qp --obsoletes "$1/cumulnext/xen-hotpatch-cumul-next-3-1.noarch.rpm" | grep -qx xen-hotpatch-cumul' _ "$R"
t "a malformed payload fails mkpkg with the tool's message, and no package is written" bash -c '
	out=$(XEN_HOTPATCH=$1 "$2" --rpm --outdir "$3/broken" "$4" 2>&1) && { echo "built: $out"; exit 1; }
	printf "%s\n" "$out" | grep -q "xen_depends" || { printf "%s\n" "$out"; exit 1; }
	[ -z "$(ls "$3/broken" 2>/dev/null)" ]' _ "$tool" "$mkpkg" "$work/out" "$P/broken.livepatch"
t "a malformed payload fails a hand-written spec's build through the dependency generator" bash -c '
	d=$1/vendor; mkdir -p "$d/SOURCES" "$d/fa"; cp "$3" "$d/SOURCES/"
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
A vendor spec that skips the macros: only the generator sees the payload.
%install
install -D -m 0644 %{SOURCE0} %{buildroot}/usr/lib/xen-hotpatch/$4/broken.livepatch
%files
/usr/lib/xen-hotpatch/$4
EOF
	for a in "$(rpm --eval "%{_fileattrsdir}")"/*.attr; do ln -s "$a" "$d/fa/"; done
	cp "$2/spec/xen_hotpatch.attr" "$d/fa/"
	out=$(XEN_HOTPATCH=$5 rpmbuild -bb --define "_topdir $d" --load "$2/spec/xen_hotpatch.attr" \
		--define "_fileattrsdir $d/fa" --define "__xen_hotpatch_rpmdeps $2/spec/xen-hotpatch-rpmdeps" \
		"$d/v.spec" 2>&1) && { echo "built"; exit 1; }
	printf "%s\n" "$out" | grep -q "xen-hotpatch: .*broken.livepatch: .*xen_depends" ||
		{ printf "%s\n" "$out" | grep -v "^+" | tail -n 15; exit 1; }' _ "$work" "$top" "$P/broken.livepatch" $H "$tool"
lint=$(rpmlint -r "$top/spec/xen-hotpatch.rpmlintrc" "$toolrpm" "$dracutrpm" "$macrosrpm" "$srpm" 2>&1)
printf '%s\n' "$lint" > "$work/log/rpmlint-tool.log"
t "rpmlint: the tool's packages and SRPM have no error ($(printf '%s\n' "$lint" | tail -n 1 | sed 's/;.*//'))" \
	bash -c '! printf "%s\n" "$1" | grep -E "(^|: )E: "' _ "$lint"
lint=$(rpmlint -r "$top/spec/payload.rpmlintrc" "$R"/*/*.rpm 2>&1)
printf '%s\n' "$lint" > "$work/log/rpmlint-payloads.log"
t "rpmlint: the payload packages have no error ($(printf '%s\n' "$lint" | tail -n 1 | sed 's/;.*//'))" \
	bash -c '! printf "%s\n" "$1" | grep -E "(^|: )E: "' _ "$lint"

# ---- the test root's base: a shell and the tool's libraries ------------------
echo "-- test root base RPM, repositories"
b=$work/testroot-base
mkdir -p "$b/x" "$b/stage/bin" "$b/SOURCES"
(cd "$b/x" && rpm2cpio "$toolrpm" | cpio -idm --quiet) || fatal "extract $toolrpm"
cp /bin/dash "$b/stage/bin/sh"
{
	ldd /bin/dash "$b/x/usr/sbin/xen-hotpatch" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}'
} | sort -u > "$b/libs"
while IFS= read -r l; do
	mkdir -p "$b/stage$(dirname "$l")"
	cp -L "$l" "$b/stage$l"
done < "$b/libs"
(cd "$b/stage" && find . -type f | sed 's/^\.//' | sort) > "$b/files"
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
	# What the tool RPM requires of the system, so that dnf can resolve it.
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
	cat "$b/files"
} > "$b/testroot-base.spec"
rpmbuild -bb --define "_topdir $b" --define "_rpmdir $R/base" "$b/testroot-base.spec" > "$work/log/testroot-base.log" 2>&1 ||
	fatal "build xhp-testroot-base (see $work/log/testroot-base.log)"
cp "$toolrpm" "$dracutrpm" "$macrosrpm" "$R/base/"
for r in "$R"/*/; do
	createrepo_c -q "$r" || fatal "createrepo_c $r"
done

# ---- dnf into test roots -------------------------------------------------------
# xdnf ROOT "REPOS" ARGS...: dnf --installroot with only the named repositories;
# its output (stdout and stderr) is also in $work/log/dnf.last.
xdnf() {
	local root=$1 repos=$2 r
	shift 2
	local args=(-y --installroot="$root" --releasever=1 --disablerepo='*' --nogpgcheck
		--setopt=install_weak_deps=0 --setopt=clean_requirements_on_remove=0
		--setopt=reposdir=/dev/null --setopt=cachedir="$root/var/cache/dnf")
	for r in base $repos; do args+=(--repofrompath="$r,$R/$r"); done
	echo "## dnf $* (root ${root##*/})" >> "$work/log/dnf.log"
	dnf "${args[@]}" "$@" > "$work/log/dnf.last" 2>&1
	local rc=$?
	cat "$work/log/dnf.last" >> "$work/log/dnf.log"
	return $rc
}
# dnf exits 0 when a scriptlet fails: look at the root's dnf.rpm.log too.
scriptlets_clean() {
	! grep -iE 'scriptlet failed|error: ' "$1/var/log/dnf.rpm.log" 2>/dev/null
}

root0=$work/roots/template
mkdir -p "$root0/dev" "$root0/run" "$root0/tmp" "$root0/var/tmp"
mknod -m 666 "$root0/dev/null" c 1 3
if xdnf "$root0" "" install xhp-testroot-base && xdnf "$root0" "" install xen-hotpatch &&
	[ -x "$root0/usr/sbin/xen-hotpatch" ] && chroot "$root0" /usr/sbin/xen-hotpatch version > /dev/null; then
	ok "test root: xhp-testroot-base, then the tool RPM (dnf --installroot); the tool runs in it"
else
	ko "test root: xhp-testroot-base, then the tool RPM (dnf --installroot); the tool runs in it"
	tail -n 20 "$work/log/dnf.log" | sed 's/^/     | /'
	finish
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
# xstatus ROOT: `xen-hotpatch status` of the tool installed in ROOT
xstatus() { chroot "$1" /usr/sbin/xen-hotpatch status; }

# ---- scenario 1: a chain in one transaction ------------------------------------
echo "-- 1. a 3-payload chain in one transaction (names sort against chain order)"
r1=$(newroot s1)
if xdnf "$r1" chain install xen-hotpatch-aa-top xen-hotpatch-mm-middle xen-hotpatch-zz-base; then
	ok "dnf install of the chain"
else
	ko "dnf install of the chain"; sed 's/^/     | /' "$work/log/dnf.last" | tail -n 20
fi
t "applied in chain order" expect_eq "$(applied "$r1")" "zz-base mm-middle aa-top" "applied"
t "uploaded then applied bottom first" expect_eq "$(ops "$r1" 0)" \
	"upload:zz-base upload:mm-middle upload:aa-top apply:zz-base apply:mm-middle apply:aa-top" "actions"
t "one converge run for the transaction" expect_eq "$(runs "$r1")" 1 "apply.log lines"
t "status: in sync (exit 0)" xstatus "$r1"
t "no scriptlet failed" scriptlets_clean "$r1"

# ---- scenario 2: the top pulls in the rest ------------------------------------
echo "-- 2. dnf install of only the top package"
r2=$(newroot s2)
xdnf "$r2" chain install xen-hotpatch-aa-top || { ko "dnf install xen-hotpatch-aa-top"; tail -n 20 "$work/log/dnf.last"; }
t "generated Requires pulled in the middle and the base" bash -c '
	rpm --root "$1" -q xen-hotpatch-aa-top xen-hotpatch-mm-middle xen-hotpatch-zz-base' _ "$r2"
t "applied in chain order, in one converge run" bash -c '
	expect_eq "$1" "zz-base mm-middle aa-top" applied && expect_eq "$2" 1 runs' _ "$(applied "$r2")" "$(runs "$r2")"

# ---- scenario 3: upgrade of a cumulative package --------------------------------
echo "-- 3. upgrade of a cumulative package (same name, next version)"
r3=$(newroot s3)
xdnf "$r3" cumul1 install xen-hotpatch-cumul || ko "dnf install xen-hotpatch-cumul-1"
t "cumulative 1 applied" expect_eq "$(applied "$r3")" "cum-1" "applied"
a=$(nactions "$r3") h=$(nhistory "$r3")
xdnf "$r3" "cumul1 cumul2" upgrade xen-hotpatch-cumul || ko "dnf upgrade xen-hotpatch-cumul"
t "upgrade: cumulative 2 applied" expect_eq "$(applied "$r3")" "cum-2" "applied"
t "upgrade: exactly one REPLACE, no revert" bash -c '
	expect_eq "$1" 1 replaces && expect_eq "$2" 0 reverts' _ "$(count_op "$r3" "$a" replace)" "$(count_op "$r3" "$a" revert)"
t "upgrade: the applied stack was never empty" expect_eq "$(history_never_empty "$r3" "$h")" True "history"
t "upgrade: the old payload is unloaded" expect_eq "$(loaded_names "$r3")" "cum-2" "loaded"
t "upgrade: status in sync, no scriptlet failed" bash -c 'chroot "$1" /usr/sbin/xen-hotpatch status >/dev/null && ! grep -iE "scriptlet failed|error: " "$1/var/log/dnf.rpm.log"' _ "$r3"

# ---- scenario 9: downgrade and history undo (same root) -------------------------
echo "-- 9. dnf downgrade / dnf history undo back to the previous cumulative"
a=$(nactions "$r3") h=$(nhistory "$r3")
xdnf "$r3" "cumul1 cumul2" downgrade xen-hotpatch-cumul || ko "dnf downgrade xen-hotpatch-cumul"
t "downgrade: cumulative 1 applied again by one REPLACE, never empty, 2 unloaded" bash -c '
	expect_eq "$1" cum-1 applied && expect_eq "$2" 1 replaces && expect_eq "$3" True history &&
	expect_eq "$4" cum-1 loaded' _ "$(applied "$r3")" "$(count_op "$r3" "$a" replace)" \
	"$(history_never_empty "$r3" "$h")" "$(loaded_names "$r3")"
a=$(nactions "$r3") h=$(nhistory "$r3")
xdnf "$r3" "cumul1 cumul2" history undo last || ko "dnf history undo last"
t "history undo: cumulative 2 applied again by one REPLACE, never empty" bash -c '
	expect_eq "$1" cum-2 applied && expect_eq "$2" 1 replaces && expect_eq "$3" True history' \
	_ "$(applied "$r3")" "$(count_op "$r3" "$a" replace)" "$(history_never_empty "$r3" "$h")"

# ---- scenario 4: the same through a renamed package with Obsoletes ----------------
echo "-- 4. upgrade through a renamed package (Obsoletes)"
r4=$(newroot s4)
xdnf "$r4" cumul1 install xen-hotpatch-cumul || ko "dnf install xen-hotpatch-cumul-1"
a=$(nactions "$r4") h=$(nhistory "$r4")
xdnf "$r4" "cumul1 cumulnext" upgrade || ko "dnf upgrade (obsoletes)"
t "rename: the old package is gone, the new one installed" bash -c '
	rpm --root "$1" -q xen-hotpatch-cumul-next >/dev/null && ! rpm --root "$1" -q xen-hotpatch-cumul >/dev/null' _ "$r4"
t "rename: one REPLACE to cumulative 3, never empty, old unloaded" bash -c '
	expect_eq "$1" cum-3 applied && expect_eq "$2" 1 replaces && expect_eq "$3" 0 reverts &&
	expect_eq "$4" True history && expect_eq "$5" cum-3 loaded' _ "$(applied "$r4")" \
	"$(count_op "$r4" "$a" replace)" "$(count_op "$r4" "$a" revert)" "$(history_never_empty "$r4" "$h")" "$(loaded_names "$r4")"

# ---- scenario 5: erase -------------------------------------------------------------
echo "-- 5. erase of the top package, then of a middle one"
a=$(nactions "$r1")
xdnf "$r1" chain remove xen-hotpatch-aa-top || ko "dnf remove xen-hotpatch-aa-top"
t "erase top: reverted and unloaded" bash -c '
	expect_eq "$1" "zz-base mm-middle" applied && expect_eq "$2" "revert:aa-top unload:aa-top" actions &&
	expect_eq "$3" "zz-base mm-middle" loaded' _ "$(applied "$r1")" "$(ops "$r1" "$a")" "$(loaded_names "$r1")"
a=$(nactions "$r2")
xdnf "$r2" chain remove xen-hotpatch-mm-middle || ko "dnf remove xen-hotpatch-mm-middle"
t "erase middle: dnf erased what requires it too" bash -c '
	! rpm --root "$1" -q xen-hotpatch-aa-top >/dev/null && ! rpm --root "$1" -q xen-hotpatch-mm-middle >/dev/null &&
	rpm --root "$1" -q xen-hotpatch-zz-base >/dev/null' _ "$r2"
t "erase middle: both reverted, top first, and unloaded" bash -c '
	expect_eq "$1" "zz-base" applied &&
	expect_eq "$2" "revert:aa-top revert:mm-middle" reverts && expect_eq "$3" zz-base loaded' \
	_ "$(applied "$r2")" "$(ops "$r2" "$a" | tr ' ' '\n' | grep '^revert:' | tr '\n' ' ' | sed 's/ $//')" "$(loaded_names "$r2")"
t "erase: status in sync" xstatus "$r2"

# ---- scenario 6: a package for another hypervisor ------------------------------------
echo "-- 6. a package for another hypervisor build"
r6=$(newroot s6)
a=$(nactions "$r6")
xdnf "$r6" other install xen-hotpatch-elsewhere || ko "dnf install xen-hotpatch-elsewhere"
t "other hypervisor: installed under its own build-id" test -f "$r6/usr/lib/xen-hotpatch/$H2/elsewhere.livepatch"
t "other hypervisor: nothing uploaded or applied" expect_eq "$(ops "$r6" "$a")" "" "actions"
t "other hypervisor: status says it is for another hypervisor" bash -c '
	out=$(chroot "$1" /usr/sbin/xen-hotpatch status 2>&1); rc=$?
	[ $rc -eq 0 ] || { echo "exit $rc"; printf "%s\n" "$out"; exit 1; }
	printf "%s\n" "$out" | grep -q "elsewhere" && printf "%s\n" "$out" | grep -qi "other hypervisor" ||
		{ printf "%s\n" "$out"; exit 1; }' _ "$r6"

# ---- scenario 7: alternate root, apply_on_install = never ------------------------------
echo "-- 7. alternate root (auto: chrooted, no /proc) and apply_on_install = never"
r7=$(newroot s7 auto)
out=$(rpm --root "$r7" --dbpath /var/lib/rpm -ivh --force-debian "$R"/chain/*.rpm 2>&1); rc=$?
printf '%s\n' "$out" > "$work/log/rpm-root.log"
t "rpm --root (auto): exit 0, files installed" bash -c '
	[ "$1" -eq 0 ] && test -f "$2/usr/lib/xen-hotpatch/$3/aa-top.livepatch"' _ "$rc" "$r7" $H
t "rpm --root (auto): hypervisor untouched, the reason printed" bash -c '
	expect_eq "$1" 0 actions && printf "%s\n" "$2" | grep -q "chroot" || { printf "%s\n" "$2"; exit 1; }' \
	_ "$(nactions "$r7")" "$out"
r7n=$(newroot s7never never)
xdnf "$r7n" chain install xen-hotpatch-aa-top; rc=$?
t "apply_on_install = never: dnf exit 0, files installed, hypervisor untouched" bash -c '
	[ "$1" -eq 0 ] && test -f "$2/usr/lib/xen-hotpatch/$3/aa-top.livepatch" && expect_eq "$4" 0 actions &&
	grep -q "apply_on_install = never" "$5"' _ "$rc" "$r7n" $H "$(nactions "$r7n")" "$work/log/dnf.last"
t "apply_on_install = never: status reports the installed payloads as not applied (exit 3)" bash -c '
	chroot "$1" /usr/sbin/xen-hotpatch status > /dev/null; [ $? -eq 3 ]' _ "$r7n"

# ---- scenario 8: a payload the hypervisor refuses -----------------------------------------
echo "-- 8. a payload the hypervisor refuses (XEN_HOTPATCH_SIM_FAIL=apply:refused:EINVAL)"
r8=$(newroot s8)
XEN_HOTPATCH_SIM_FAIL=apply:refused:EINVAL xdnf "$r8" refused install xen-hotpatch-refused; rc=$?
t "refused: dnf succeeds, the package is installed" bash -c '
	[ "$1" -eq 0 ] && rpm --root "$2" -q xen-hotpatch-refused >/dev/null' _ "$rc" "$r8"
t "refused: the tool's message is in dnf's output" bash -c '
	grep -q "refused" "$1" && grep -qE "EINVAL|Invalid argument" "$1" || cat "$1"' _ "$work/log/dnf.last"
t "refused: nothing applied, no scriptlet failed" bash -c '
	expect_eq "$1" "" applied && ! grep -iE "scriptlet failed" "$2/var/log/dnf.rpm.log"' _ "$(applied "$r8")" "$r8"
t "refused: status exits 3 (out of sync)" bash -c '
	chroot "$1" /usr/sbin/xen-hotpatch status > /dev/null; [ $? -eq 3 ]' _ "$r8"

finish
