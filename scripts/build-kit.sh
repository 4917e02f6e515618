# shellcheck shell=sh
# shellcheck disable=SC2154,SC2034 # XHP_PROG comes from xen-hotpatch-build; KIT_* are read by kit-lib.sh
# build-kit.sh: `xen-hotpatch-build kit`, sourced by the dispatcher after
# kit-lib.sh (the kit format is README.md's "Kits"; kit_env_put writes it).
#
#   kit --debian VERSION -o DIR   Debian's own source of `xen` VERSION is rebuilt
#       as its debian/rules builds the hypervisor; the result must be Debian's
#       hypervisor to the bit (its build-id is that of the archive's -dbg
#       xen-syms, its image that of the archive's xen.gz), or nothing is kept.
#   kit --source SRCDIR --config FILE -o DIR   a self-built Xen (CONFIG_LIVEPATCH=y):
#       the kit's xen-syms is the hypervisor this build makes; install that one.
#
# The kit is assembled in a hidden sibling folder of DIR and renamed into place
# at the end: a failure or an interruption leaves nothing at DIR.

build_kit_usage() {
	cat <<'EOF'
usage: xen-hotpatch-build kit --debian VERSION -o DIR [OPTIONS]
       xen-hotpatch-build kit --source SRCDIR --config FILE -o DIR [OPTIONS]
  --debian VERSION    Debian's xen source package version (4.17.5+72-g01140da4e8-1):
                      its source (apt-get source), hypervisor and -dbg packages are
                      downloaded from this host's apt sources
  --source SRCDIR     a Xen source tree (holding xen/Makefile); copied, not modified
  --config FILE       the hypervisor .config for --source (needs CONFIG_LIVEPATCH=y)
  --make VAR=VALUE    (--source, repeatable) an extra make variable, e.g.
                      XEN_VENDORVERSION=-1
  -o DIR              the kit (must not exist, or be an empty folder)
  -j N                parallel make jobs (default: the number of CPUs)
  --cache DIR         downloads (--debian; default $XEN_HOTPATCH_BUILD_CACHE, else
                      /var/cache/xen-hotpatch-build as root, ~/.cache/xen-hotpatch-build)
  --install-deps      apt-get install the build dependencies that are missing
Environment for --source: CC (gcc), LD (ld), SOURCE_DATE_EPOCH (now),
XEN_WHOAMI, XEN_DOMAIN, XEN_BUILD_HOST, DEB_VERSION, DEB_MAINTAINER (recorded).
EOF
}

bk_die() {
	printf '%s: kit: %s\n' "$XHP_PROG" "$*" >&2
	exit 1
}

bk_usage_error() {
	printf '%s: kit: %s (see --help)\n' "$XHP_PROG" "$*" >&2
	exit 2
}

build_kit() {
	bk_debian="" bk_source="" bk_config="" bk_out="" bk_jobs="" bk_install=0
	bk_cache=${XEN_HOTPATCH_BUILD_CACHE:-}
	bk_extra_make=""
	while [ $# -gt 0 ]; do
		case $1 in
		--debian | --source | --config | --make | -o | -j | --cache)
			[ $# -ge 2 ] || bk_usage_error "$1 needs a value" ;;
		esac
		case $1 in
		--debian) bk_debian=$2; shift ;;
		--source) bk_source=$2; shift ;;
		--config) bk_config=$2; shift ;;
		--make)
			case ${2-} in
			[A-Z]*=*) ;;
			*) bk_usage_error "--make wants VAR=VALUE" ;;
			esac
			bk_extra_make="$bk_extra_make $2"
			shift
			;;
		-o) bk_out=$2; shift ;;
		-j) bk_jobs=$2; shift ;;
		--cache) bk_cache=$2; shift ;;
		--install-deps) bk_install=1 ;;
		-h | --help) build_kit_usage; exit 0 ;;
		*) bk_usage_error "unexpected argument '$1'" ;;
		esac
		shift
	done
	[ -n "$bk_out" ] || bk_usage_error "say where the kit goes (-o DIR)"
	if [ -n "$bk_debian" ] && [ -z "$bk_source$bk_config$bk_extra_make" ]; then
		bk_origin=debian
	elif [ -z "$bk_debian" ] && [ -n "$bk_source" ] && [ -n "$bk_config" ]; then
		bk_origin=source
	else
		bk_usage_error "say --debian VERSION, or --source SRCDIR --config FILE"
	fi
	case ${bk_jobs:-1} in
	*[!0-9]* | 0) bk_usage_error "-j wants a positive number" ;;
	esac
	[ -n "$bk_jobs" ] || bk_jobs=$(nproc 2>/dev/null || echo 1)

	bk_need_tools
	[ "$bk_origin" != debian ] || bk_debian_check
	bk_work_setup
	if [ "$bk_origin" = debian ]; then
		bk_debian_kit
	else
		bk_source_kit
	fi
	bk_finish
}

# The commands a kit build needs, and the Debian packages that have them.
bk_need_tools() {
	bk_missing=""
	for t in make:make flex:flex bison:bison python3:python3 readelf:binutils \
		objcopy:binutils gzip:gzip awk:mawk flock:util-linux; do
		command -v "${t%%:*}" >/dev/null 2>&1 || bk_missing="$bk_missing ${t#*:}"
	done
	if [ "$bk_origin" = debian ]; then
		for t in apt-get:apt dpkg-source:dpkg-dev dpkg-deb:dpkg \
			dpkg-parsechangelog:dpkg-dev x86_64-linux-gnu-gcc:gcc-12 \
			x86_64-linux-gnu-ld:binutils-x86-64-linux-gnu; do
			command -v "${t%%:*}" >/dev/null 2>&1 || bk_missing="$bk_missing ${t#*:}"
		done
	else
		for t in "${CC:-gcc}:gcc" "${LD:-ld}:binutils"; do
			command -v "${t%%:*}" >/dev/null 2>&1 || bk_missing="$bk_missing ${t#*:}"
		done
	fi
	[ -n "$bk_missing" ] || return 0
	# shellcheck disable=SC2086 # one name per line
	bk_missing=$(printf '%s\n' $bk_missing | sort -u | tr '\n' ' ')
	if [ "$bk_install" = 1 ]; then
		# shellcheck disable=SC2086 # a list of package names
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $bk_missing >&2 ||
			bk_die "apt-get install $bk_missing failed"
	else
		bk_die "missing build dependencies: ${bk_missing% } (apt-get install them, or use --install-deps)"
	fi
}

bk_work_setup() {
	if [ -e "$bk_out" ] || [ -L "$bk_out" ]; then
		if [ ! -d "$bk_out" ] || [ -n "$(ls -A "$bk_out")" ]; then
			bk_die "$bk_out exists (give a new or empty folder)"
		fi
	fi
	bk_parent=$(dirname "$bk_out")
	mkdir -p "$bk_parent" || bk_die "cannot create $bk_parent"
	# the physical path: the compiler sees it (DW_AT_comp_dir), and
	# -ffile-prefix-map must name what it sees
	bk_parent=$(cd "$bk_parent" && pwd -P)
	bk_out=$bk_parent/$(basename "$bk_out")
	bk_work=$(mktemp -d "$bk_parent/.$(basename "$bk_out").kit.XXXXXX") || bk_die "cannot write in $bk_parent"
	trap bk_cleanup EXIT
	trap 'bk_abort 130' INT
	trap 'bk_abort 143' TERM
	trap 'bk_abort 129' HUP
	bk_kit=$bk_work/kit
	bk_top=$bk_kit/tree
	bk_log=$bk_work/build.log
	mkdir -p "$bk_kit" "$bk_work/bin"
	printf '%s: kit: building in %s (log: %s)\n' "$XHP_PROG" "$bk_work" "$bk_log"
}

# The work folder goes, whatever happened (a compiler killed a moment ago may
# still be writing into it: try again once).
bk_cleanup() {
	rm -rf "$bk_work" 2>/dev/null || { sleep 1; rm -rf "$bk_work"; }
}

bk_default_cache() {
	if [ -n "$bk_cache" ]; then
		:
	elif [ "$(id -u)" = 0 ]; then
		bk_cache=/var/cache/xen-hotpatch-build
	else
		bk_cache=${XDG_CACHE_HOME:-$HOME/.cache}/xen-hotpatch-build
	fi
	mkdir -p "$bk_cache" || bk_die "cannot create the download cache $bk_cache"
	bk_cache=$(cd "$bk_cache" && pwd)
}

# Run a step with its output in the log; on failure show the log's end. The
# step runs in the background so that a signal reaches the trap at once (a
# shell runs traps only between commands) and bk_abort can stop it.
bk_run() {
	bk_what=$1
	shift
	printf '\n== %s\n' "$*" >> "$bk_log"
	"$@" >> "$bk_log" 2>&1 &
	bk_child=$!
	rc=0
	wait "$bk_child" || rc=$?
	bk_child=""
	if [ "$rc" -ne 0 ]; then
		tail -n 25 "$bk_log" | sed 's/^/  | /' >&2
		bk_die "$bk_what failed (log above)"
	fi
}

# Interrupted: stop the running step and everything it started (make, the
# compilers), wait for them, then exit (the EXIT trap removes the work folder).
bk_abort() {
	trap '' INT TERM HUP
	if [ -n "${bk_child:-}" ]; then
		pids=$(ps -e -o pid= -o ppid= | awk -v root="$bk_child" '
			{ parent[$1] = $2 }
			END { want[root] = 1; n = 1
			      while (n) { n = 0; for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; n = 1 } }
			      for (p in want) print p }')
		# shellcheck disable=SC2086 # a list of process ids (some may be gone)
		kill -TERM $pids 2>/dev/null || :
		wait "$bk_child" 2>/dev/null || :
	fi
	printf '%s: kit: interrupted; nothing written at %s\n' "$XHP_PROG" "$bk_out" >&2
	exit "$1"
}

# Record a variable of the build: bk_env NAME VALUE (environment) or
# bk_mk NAME VALUE (make command line). kit_make passes them to make.
bk_env() {
	KIT_ENV_VARS="${KIT_ENV_VARS:+$KIT_ENV_VARS }$1"
	eval "KIT_ENV_$1=\$2"
}
bk_mk() {
	KIT_MAKE_VARS="${KIT_MAKE_VARS:+$KIT_MAKE_VARS }$1"
	eval "KIT_MAKE_$1=\$2"
}

# The kit variables kit-lib.sh's functions use while the kit is being built.
bk_kit_vars() {
	kit_forget
	KIT_DIR=$bk_kit KIT_TREE=tree KIT_XEN_DIR=xen KIT_BUILD_DIR=$bk_top KIT_ORIGIN=$bk_origin
	KIT_ARCH=x86_64 KIT_OBJCOPY=objcopy KIT_ENV_VARS="" KIT_MAKE_VARS=""
}

# ---- --debian ---------------------------------------------------------------

bk_debian_kit() {
	v=$bk_debian
	bk_default_cache
	bk_dl=$bk_cache/debian/xen_$v
	mkdir -p "$bk_dl" || bk_die "cannot create $bk_dl"
	# one download at a time per cache (tests build kits in parallel)
	exec 9> "$bk_cache/.lock"
	flock 9
	bk_debian_binaries
	bk_debian_source
	exec 9>&-
	bk_debian_stock
	bk_debian_tree
	bk_build
	bk_debian_prove
}

bk_debian_check() {
	v=$bk_debian
	printf '%s\n' "$v" | grep -Eqx '([0-9]+:)?[0-9][A-Za-z0-9.+~-]*-[A-Za-z0-9.+~]+' ||
		bk_die "--debian $v: not a Debian version of xen (e.g. 4.17.5+72-g01140da4e8-1)"
	mm=$(printf '%s\n' "$v" | sed -n 's/^\([0-9]*:\)\{0,1\}\([0-9][0-9]*\.[0-9][0-9]*\)\..*/\2/p')
	[ -n "$mm" ] || bk_die "--debian $v: no Xen major.minor in the version"
	a=$(dpkg --print-architecture)
	[ "$a" = amd64 ] || bk_die "kits of Debian's hypervisor are made on amd64 (this host is $a)"
	bk_hvpkg=xen-hypervisor-$mm-amd64
}

# The hypervisor and -dbg packages of VERSION (apt-get download: this host's
# sources), and where they come from (for the source's deb-src line).
bk_debian_binaries() {
	bk_origin_line=$(apt-cache madison "$bk_hvpkg" 2>/dev/null |
		awk -F'|' -v v="$v" '{ gsub(/^ +| +$/, "", $2) } $2 == v { print $3; exit }')
	[ -n "$bk_origin_line" ] ||
		bk_die "Debian's $bk_hvpkg $v is not in this host's apt sources (apt-cache madison $bk_hvpkg; apt-get update?)"
	# shellcheck disable=SC2086 # " URI SUITE/COMPONENT ARCH Packages"
	set -- $bk_origin_line
	bk_uri=$1 bk_suite=${2%%/*} bk_comp=${2#*/}
	[ "$bk_comp" != "$2" ] || bk_comp=main
	set --
	[ "$(id -u)" != 0 ] || set -- -o APT::Sandbox::User=root
	for p in "$bk_hvpkg" "$bk_hvpkg-dbg"; do
		ls "$bk_dl/${p}_"*.deb >/dev/null 2>&1 && continue
		(cd "$bk_dl" && apt-get "$@" download "$p=$v") >> "$bk_log" 2>&1 ||
			bk_die "cannot download $p=$v (apt-get download; see $bk_log)"
	done
}

# apt-get with a private deb-src list for the suite the binaries come from: the
# host's own apt configuration is left as it is.
bk_apt_src() {
	a=$bk_cache/apt
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/parts"
	printf 'deb-src %s %s %s\n' "$bk_uri" "$bk_suite" "$bk_comp" > "$a/sources.list"
	set -- -o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/parts" \
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" "$@"
	[ "$(id -u)" != 0 ] || set -- -o APT::Sandbox::User=root "$@"
	apt-get "$@"
}

bk_debian_source() {
	dsc=$bk_dl/xen_$v.dsc
	[ -f "$dsc" ] && return 0
	if ! (cd "$bk_dl" && bk_apt_src source --download-only "xen=$v") >> "$bk_log" 2>&1; then
		bk_apt_src update >> "$bk_log" 2>&1 ||
			bk_die "apt-get update of deb-src $bk_uri $bk_suite $bk_comp failed (see $bk_log)"
		if ! (cd "$bk_dl" && bk_apt_src source --download-only "xen=$v") >> "$bk_log" 2>&1; then
			why=$(grep -E '^(E|Err):' "$bk_log" | tail -n 1)
			bk_die "cannot download Debian's source xen=$v from $bk_uri $bk_suite${why:+ ($why)}"
		fi
	fi
	[ -f "$dsc" ] || bk_die "apt-get source xen=$v left no $dsc"
}

# Debian's binaries: the build-id to prove, the image, the compiler it names.
bk_debian_stock() {
	st=$bk_work/stock
	for p in "$bk_hvpkg" "$bk_hvpkg-dbg"; do
		for d in "$bk_dl/${p}_"*.deb; do
			bk_run "unpacking $p" dpkg-deb -x "$d" "$st"
		done
	done
	bk_stock_syms=$st/usr/lib/debug/boot/xen-syms-$mm-amd64
	bk_stock_gz=$st/boot/xen-$mm-amd64.gz
	[ -f "$bk_stock_syms" ] || bk_die "$bk_hvpkg-dbg $v holds no usr/lib/debug/boot/xen-syms-$mm-amd64"
	[ -f "$bk_stock_gz" ] || bk_die "$bk_hvpkg $v holds no boot/xen-$mm-amd64.gz"
	bk_stock_id=$(kit_build_id "$bk_stock_syms") || exit 1
	# The compiler Debian used is in .comment ("GCC: (Debian 12.2.0-14+deb12u1)
	# 12.2.0"); a host with another one cannot reproduce it: say so now.
	want=$(LC_ALL=C readelf -p .comment "$bk_stock_syms" | sed -n 's/^ *\[ *[0-9a-f]*\] *\(GCC: .*\)$/\1/p' | head -n 1)
	have="GCC: $(LC_ALL=C x86_64-linux-gnu-gcc --version | head -n 1 | cut -d' ' -f2-)"
	[ -z "$want" ] || [ "$want" = "$have" ] ||
		bk_die "Debian built xen $v with '$want'; this host's x86_64-linux-gnu-gcc is '$have' (install that compiler version)"
}

# Debian's tree, patched, configured as debian/rules does (facts: README.md).
bk_debian_tree() {
	bk_run "dpkg-source -x $(basename "$dsc")" dpkg-source --no-copy -x "$dsc" "$bk_top"
	cl=$bk_top/debian/changelog
	got=$(dpkg-parsechangelog -l "$cl" -SVersion)
	[ "$got" = "$v" ] || bk_die "source xen=$v unpacked as version $got"
	sde=$(dpkg-parsechangelog -l "$cl" -STimestamp)
	bk_kit_vars
	bk_env SOURCE_DATE_EPOCH "$sde"
	bk_env DEB_VERSION "$v"
	bk_env DEB_MAINTAINER "$(sed -ne 's/^Maintainer: \(.*\)$/\1/p' "$bk_top/debian/control")"
	bk_env XEN_BUILD_DATE "$(LC_ALL=C date -u -d "@$sde")"
	bk_env XEN_BUILD_TIME "$(LC_ALL=C date -u -d "@$sde" +%T)"
	bk_env WGET /bin/false
	bk_env GIT /bin/false
	bk_env LC_ALL C
	bk_mk CC x86_64-linux-gnu-gcc
	bk_mk LD x86_64-linux-gnu-ld
	bk_mk XEN_COMPILE_ARCH x86_64
	bk_mk V 1
	bk_mk XEN_TARGET_ARCH x86_64
	bk_mk EXTRA_CFLAGS_XEN_CORE "-ffile-prefix-map=$bk_top=. -fdebug-prefix-map=$bk_top=."
	# Debian's patch puts `lsb_release -is` in the version strings: answer as
	# Debian's build hosts do, whatever this host has.
	KIT_DISTRIBUTION=Debian
	printf '#!/bin/sh\necho %s\n' "$KIT_DISTRIBUTION" > "$bk_work/bin/lsb_release"
	chmod 0755 "$bk_work/bin/lsb_release"
	KIT_DEBIAN_HYPERVISOR_PACKAGE=$bk_hvpkg
	XEN_VERSION=$v
	cp "$bk_top/debian/xen-kconfig" "$bk_top/xen/.config" || bk_die "the source has no debian/xen-kconfig"
}

bk_debian_prove() {
	id=$(kit_build_id "$bk_top/xen/xen-syms") || exit 1
	[ "$id" = "$bk_stock_id" ] ||
		bk_die "the rebuilt hypervisor has build-id $id, Debian's xen $v has $bk_stock_id: this host does not rebuild it exactly (compiler '$KIT_CC_VERSION', binutils '$KIT_LD_VERSION')"
	gzip -dc "$bk_stock_gz" | cmp -s - "$bk_top/xen/xen" ||
		bk_die "the rebuilt hypervisor image differs from Debian's boot/xen-$mm-amd64.gz (same build-id $id)"
	XEN_BUILD_ID=$id
	printf '%s: kit: proven: build-id %s is Debian'\''s xen %s\n' "$XHP_PROG" "$id" "$v"
}

# ---- --source ---------------------------------------------------------------

bk_source_kit() {
	[ -f "$bk_source/xen/Makefile" ] || bk_die "$bk_source: not a Xen source tree (no xen/Makefile)"
	[ -f "$bk_config" ] || bk_die "$bk_config: no such file"
	grep -qx 'CONFIG_LIVEPATCH=y' "$bk_config" ||
		bk_die "$bk_config: CONFIG_LIVEPATCH is not set (a kit is for a hypervisor with livepatch)"
	bk_kit_vars
	mkdir -p "$bk_top"
	# a copy without version control: the tree is the kit's, the source stays as it is
	(cd "$bk_source" && tar -cf - --exclude=.git --exclude=.hg .) | (cd "$bk_top" && tar -xf -) ||
		bk_die "cannot copy $bk_source"
	sde=${SOURCE_DATE_EPOCH:-$(date +%s)}
	case $sde in
	'' | *[!0-9]*) bk_die "SOURCE_DATE_EPOCH '$sde' is not a number of seconds" ;;
	esac
	bk_env SOURCE_DATE_EPOCH "$sde"
	bk_env XEN_BUILD_DATE "$(LC_ALL=C date -u -d "@$sde")"
	bk_env XEN_BUILD_TIME "$(LC_ALL=C date -u -d "@$sde" +%T)"
	bk_env XEN_WHOAMI "${XEN_WHOAMI:-$(id -un)}"
	bk_env XEN_DOMAIN "${XEN_DOMAIN:-$(dnsdomainname 2>/dev/null || echo '[unknown]')}"
	bk_env XEN_BUILD_HOST "${XEN_BUILD_HOST:-$(hostname 2>/dev/null || uname -n)}"
	[ -z "${DEB_VERSION:-}" ] || bk_env DEB_VERSION "$DEB_VERSION"
	[ -z "${DEB_MAINTAINER:-}" ] || bk_env DEB_MAINTAINER "$DEB_MAINTAINER"
	bk_env LC_ALL C
	bk_mk CC "${CC:-gcc}"
	bk_mk LD "${LD:-ld}"
	bk_mk XEN_COMPILE_ARCH x86_64
	bk_mk XEN_TARGET_ARCH x86_64
	bk_mk V 1
	bk_mk EXTRA_CFLAGS_XEN_CORE "-ffile-prefix-map=$bk_top=. -fdebug-prefix-map=$bk_top=."
	for kv in $bk_extra_make; do
		bk_mk "${kv%%=*}" "${kv#*=}"
	done
	if command -v lsb_release >/dev/null 2>&1; then
		KIT_DISTRIBUTION=$(lsb_release -is 2>/dev/null)
	fi
	bk_run "make distclean" kit_make "$bk_top" distclean
	cp "$bk_config" "$bk_top/xen/.config" || bk_die "cannot copy $bk_config"
	bk_build
	XEN_BUILD_ID=$(kit_build_id "$bk_top/xen/xen-syms") || exit 1
	XEN_VERSION=$(kit_make "$bk_top" -s --no-print-directory xenversion 2>/dev/null | tail -n 1)
	[ -n "$XEN_VERSION" ] || bk_die "make xenversion printed nothing"
}

# ---- both -------------------------------------------------------------------

# Configure (xen/.config is in place) and build the hypervisor as the kit records.
bk_build() {
	PATH=$bk_work/bin:$PATH
	bk_run "make olddefconfig" kit_make "$bk_top" olddefconfig
	c=$bk_top/xen/.config
	grep -qx 'CONFIG_LIVEPATCH=y' "$c" ||
		bk_die "${bk_config:-the configuration}: CONFIG_LIVEPATCH=y does not survive olddefconfig (its dependencies are not met)"
	grep -qx 'CONFIG_CC_IS_GCC=y' "$c" || bk_die "kits are built with gcc (the configuration is not CONFIG_CC_IS_GCC)"
	KIT_CC=$KIT_MAKE_CC KIT_LD=$KIT_MAKE_LD
	bk_toolchain
	printf '%s: kit: building the hypervisor (%s jobs; %s)\n' "$XHP_PROG" "$bk_jobs" "$KIT_CC_VERSION"
	t0=$(date +%s)
	bk_run "the hypervisor build" kit_make "$bk_top" -j"$bk_jobs"
	[ -f "$bk_top/xen/xen-syms" ] || bk_die "the build made no xen/xen-syms"
	printf '%s: kit: hypervisor built in %ss\n' "$XHP_PROG" "$(($(date +%s) - t0))"
}

# The compiler and binutils: command, first line of --version, package and version.
bk_toolchain() {
	KIT_CC_VERSION=$(LC_ALL=C "$KIT_CC" --version 2>/dev/null | head -n 1)
	KIT_LD_VERSION=$(LC_ALL=C "$KIT_LD" --version 2>/dev/null | head -n 1)
	[ -n "$KIT_CC_VERSION" ] || bk_die "$KIT_CC --version says nothing"
	[ -n "$KIT_LD_VERSION" ] || bk_die "$KIT_LD --version says nothing"
	KIT_TOOLCHAIN_PACKAGER=""
	for t in CC:"$KIT_CC" BINUTILS:"$KIT_LD"; do
		f=$(readlink -f "$(command -v "${t#*:}")") || continue
		if command -v dpkg-query >/dev/null 2>&1 && o=$(dpkg -S "$f" 2>/dev/null); then
			n=${o%%: *}
			n=${n%%:*}
			pv=$(dpkg-query -W -f '${Version}' "$n" 2>/dev/null) || continue
			KIT_TOOLCHAIN_PACKAGER=dpkg
		elif command -v rpm >/dev/null 2>&1 && n=$(rpm -qf --qf '%{NAME}\n' "$f" 2>/dev/null | head -n 1); then
			pv=$(rpm -q --qf '%{EVR}' "$n" 2>/dev/null) || continue
			KIT_TOOLCHAIN_PACKAGER=rpm
		else
			continue
		fi
		eval "KIT_${t%%:*}_PACKAGE=\$n KIT_${t%%:*}_PACKAGE_VERSION=\$pv"
	done
}

# Special-section entry sizes from DWARF: a probe compiled with the flags of
# a hypervisor object, plus -g (the hypervisor itself may have no DWARF).
bk_probe_sizes() {
	p=$bk_work/probe
	mkdir -p "$p"
	cat > "$p/probe.c" <<'PROBE'
/* xen-hotpatch-build: the special-section entry types, for their DWARF sizes */
#include <xen/types.h>
#include <xen/lib.h>
#include <asm/bug.h>
#include <asm/alternative.h>
#include <asm/uaccess.h>
#include <public/sysctl.h>
struct bug_frame xhp_probe_bug_frame;
struct alt_instr xhp_probe_alt_instr;
struct exception_table_entry xhp_probe_exception_table_entry;
struct livepatch_func xhp_probe_livepatch_func;
PROBE
	cf=$bk_top/xen/common/.version.o.cmd
	[ -f "$cf" ] || bk_die "no xen/common/.version.o.cmd to take the compiler flags from"
	flags=$(kit_cmd_line "$cf" | sed -e 's/ -MMD -MP -MF [^ ]*//' -e 's/ -c [^ ]* -o .*$//')
	printf '\n== probe: %s -g -c %s/probe.c -o %s/probe.o\n' "$flags" "$p" "$p" >> "$bk_log"
	(cd "$bk_top/xen" && eval "$flags -g -c '$p/probe.c' -o '$p/probe.o'") >> "$bk_log" 2>&1 ||
		bk_die "the struct-size probe does not compile in this tree (see $bk_log)"
	LC_ALL=C readelf --debug-dump=info "$p/probe.o" > "$p/dwarf.txt" 2>> "$bk_log"
	for s in bug_frame alt_instr exception_table_entry livepatch_func; do
		n=$(awk -v want="$s" '
			/DW_TAG_/ { st = ($0 ~ /DW_TAG_structure_type/); name = ""; next }
			st && /DW_AT_name/ { name = $NF }
			st && /DW_AT_byte_size/ && name == want { print $NF; exit }' "$p/dwarf.txt")
		case $n in
		'' | *[!0-9]*) bk_die "no size of struct $s in the probe's DWARF" ;;
		esac
		up=$(printf '%s' "$s" | tr '[:lower:]' '[:upper:]')
		eval "KIT_SIZE_$up=\$n"
	done
}

# The kit's promise: an object rebuilt with kit_object_cmd in another folder is
# the hypervisor's object to the byte. Checked on version.o (it holds every
# build-time string) in a hard-linked copy of the tree.
bk_self_check() {
	c=$bk_work/check
	mkdir -p "$c"
	cp -al "$bk_top/xen" "$c/xen" || bk_die "cannot copy the tree for the recompile check"
	o=xen/common/version.o
	rm -f "$c/$o"
	cmd=$(kit_object_cmd "$o" "$c") || exit 1
	bk_run "recompiling $o in another folder" sh -c "$cmd"
	cmp -s "$c/$o" "$bk_top/$o" ||
		bk_die "$o rebuilt in another folder differs from the hypervisor's: the kit would not reproduce objects"
	rm -rf "$c"
}

bk_write_env() {
	e=$bk_kit/kit.env
	{
		printf '# xen-hotpatch kit: what built the hypervisor with build-id %s\n' "$XEN_BUILD_ID"
		printf '# (format: README.md of xen-hotpatch, "Kits")\n'
	} > "$e"
	XHP_KIT_FORMAT=1
	XEN_UPSTREAM_VERSION=$(kit_make "$bk_top" -s --no-print-directory xenversion 2>/dev/null | tail -n 1)
	[ "$bk_origin" = debian ] || XEN_UPSTREAM_VERSION=""
	for k in XHP_KIT_FORMAT XEN_VERSION XEN_UPSTREAM_VERSION XEN_BUILD_ID KIT_ORIGIN KIT_ARCH \
		KIT_TREE KIT_XEN_DIR KIT_BUILD_DIR KIT_CC KIT_LD KIT_OBJCOPY KIT_CC_VERSION \
		KIT_LD_VERSION KIT_TOOLCHAIN_PACKAGER KIT_CC_PACKAGE KIT_CC_PACKAGE_VERSION \
		KIT_BINUTILS_PACKAGE KIT_BINUTILS_PACKAGE_VERSION KIT_DISTRIBUTION \
		KIT_DEBIAN_HYPERVISOR_PACKAGE KIT_SIZE_BUG_FRAME KIT_SIZE_ALT_INSTR \
		KIT_SIZE_EXCEPTION_TABLE_ENTRY KIT_SIZE_LIVEPATCH_FUNC KIT_MAKE_VARS KIT_ENV_VARS; do
		eval "val=\${$k:-}"
		[ -z "$val" ] || kit_env_put "$e" "$k" "$val" || exit 1
	done
	for k in $KIT_MAKE_VARS; do
		eval "val=\${KIT_MAKE_$k}"
		kit_env_put "$e" "KIT_MAKE_$k" "$val" || exit 1
	done
	for k in $KIT_ENV_VARS; do
		eval "val=\${KIT_ENV_$k}"
		kit_env_put "$e" "KIT_ENV_$k" "$val" || exit 1
	done
}

# What a kit keeps of the source tree: the hypervisor and what its make reads.
bk_prune_tree() {
	for f in "$bk_top"/* "$bk_top"/.[!.]*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		case ${f##*/} in
		xen | Config.mk | config | Makefile | version.sh | COPYING | README | debian) ;;
		*) rm -rf "$f" ;;
		esac
	done
}

bk_finish() {
	bk_probe_sizes
	bk_self_check
	if ! cp "$bk_top/xen/xen-syms" "$bk_kit/xen-syms" || ! cp "$bk_top/xen/.config" "$bk_kit/config"; then
		bk_die "cannot copy xen-syms and .config into the kit"
	fi
	bk_write_env
	bk_prune_tree
	# the kit must read back as a kit, on this host, before it is published
	kit_load "$bk_kit" || bk_die "the new kit does not load (see above)"
	if [ -d "$bk_out" ]; then
		rmdir "$bk_out" || bk_die "cannot replace the empty folder $bk_out"
	fi
	mv "$bk_kit" "$bk_out" || bk_die "cannot move the kit to $bk_out"
	printf '%s: kit: wrote %s (xen %s, build-id %s)\n' "$XHP_PROG" "$bk_out" "$XEN_VERSION" "$XEN_BUILD_ID"
}
