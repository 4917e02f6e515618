# shellcheck shell=sh
# shellcheck disable=SC2154 # lib, prog, tool and die come from xen-hotpatch-mkpkg
# Debian part of xen-hotpatch-mkpkg: mkpkg_deb writes a small source package
# (debhelper compat 13, "Build-Depends: dh-sequence-xen-hotpatch") holding the
# payloads, and builds the binary package with dpkg-buildpackage. The
# dh_xen_hotpatch add-on installs the payloads and derives the package
# relations from their build-id notes; nothing here reads a dependency.
#
# Uses (from xen-hotpatch-mkpkg and mkpkg-common.sh): MKPKG_PAYLOADS MKPKG_STEMS
# MKPKG_XEN_ID MKPKG_NAME MKPKG_VERSION MKPKG_RELEASE MKPKG_SUMMARY
# MKPKG_DESCRIPTION MKPKG_CHANGELOG MKPKG_OBSOLETES MKPKG_MAINTAINER MKPKG_OUTDIR
# MKPKG_WORK, $tool, $lib (where the mkpkg libraries are), $prog, die.
#
# The add-on comes from, in this order:
#   $XEN_HOTPATCH_DH_ADDON, a folder holding dh_xen_hotpatch and xen_hotpatch.pm;
#   the debhelper/ folder next to this script (a source tree);
#   the installed dh-xen-hotpatch package.
# An add-on from a folder is used uninstalled: PATH and PERL5LIB point at it.
# dpkg-buildpackage runs with -d after dpkg-checkbuilddeps checked what the
# build needs (debhelper, and dh-sequence-xen-hotpatch when installed): not
# the whole of build-essential, which a payload package does not use.
#
# --obsoletes NAME is done as Debian does a rename: the new package Provides,
# Replaces and Breaks NAME, so apt removes NAME when it installs this one.
# Environment: MKPKG_LICENSE (default GPL-2.0-only, Xen's licence).

mkpkg_deb_find_addon() {
	MKPKG_DEB_ADDON=${XEN_HOTPATCH_DH_ADDON:-}
	if [ -z "$MKPKG_DEB_ADDON" ] && [ -f "$lib/debhelper/dh_xen_hotpatch" ]; then
		MKPKG_DEB_ADDON=$lib/debhelper
	fi
	if [ -n "$MKPKG_DEB_ADDON" ]; then
		for f in dh_xen_hotpatch xen_hotpatch.pm; do
			[ -f "$MKPKG_DEB_ADDON/$f" ] || die "$MKPKG_DEB_ADDON/$f: missing (XEN_HOTPATCH_DH_ADDON)"
		done
		MKPKG_DEB_ADDON=$(cd "$MKPKG_DEB_ADDON" && pwd)
		return 0
	fi
	command -v dh_xen_hotpatch >/dev/null 2>&1 ||
		die "dh-xen-hotpatch is not installed (or set XEN_HOTPATCH_DH_ADDON to the scripts/debhelper folder of a source tree)"
}

# One paragraph of text as Debian description lines: " text", " ." for blanks.
mkpkg_deb_fold() {
	sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /'
}

mkpkg_deb_changelog() {
	printf '%s (%s) unstable; urgency=medium\n\n' "$MKPKG_NAME" "$1"
	printf '%s\n' "$MKPKG_CHANGELOG" | sed -e '/^[[:space:]]*$/d' -e '1s/^/  * /' -e '2,$s/^/    /'
	printf '\n -- %s  %s\n' "$MKPKG_MAINTAINER" "$(LC_ALL=C date -R)"
}

# mkpkg_deb_build SRC NEEDS OUTDIR [VAR=VALUE...]: check that the build
# dependencies NEEDS are installed, build the binary packages of the source
# tree SRC (VARs in dpkg-buildpackage's environment; log: SRC/../build.log)
# and copy each .deb to OUTDIR, naming it; on failure, the end of the log and die.
mkpkg_deb_build() {
	src=$1
	w=$(dirname "$src")
	outdir=$3
	(cd "$src" && dpkg-checkbuilddeps -d "$2") || die "cannot build $MKPKG_NAME (see above)"
	shift 3
	if ! (cd "$src" && env "$@" dpkg-buildpackage -us -uc -b -d) > "$w/build.log" 2>&1; then
		tail -n 30 "$w/build.log" >&2
		die "dpkg-buildpackage of $MKPKG_NAME failed (see above)"
	fi
	found=0
	for d in "$w"/*.deb; do
		[ -f "$d" ] || continue
		cp "$d" "$outdir/" || die "cannot copy $d to $outdir"
		printf '%s: wrote %s\n' "$prog" "$outdir/$(basename "$d")"
		found=1
	done
	[ "$found" = 1 ] || die "dpkg-buildpackage of $MKPKG_NAME made no .deb"
}

mkpkg_deb() {
	command -v dpkg-buildpackage >/dev/null 2>&1 || die "dpkg-buildpackage not found (install dpkg-dev)"
	command -v dh >/dev/null 2>&1 || die "dh not found (install debhelper)"
	mkpkg_deb_find_addon

	printf '%s\n' "$MKPKG_NAME" | grep -Eq '^[a-z0-9][a-z0-9.+-]+$' ||
		die "--name $MKPKG_NAME: not a Debian package name (lower-case letters, digits, . + -)"
	printf '%s\n' "$MKPKG_VERSION" | grep -Eq '^[0-9][A-Za-z0-9.+~]*$' ||
		die "--version $MKPKG_VERSION: a Debian upstream version starts with a digit; letters, digits, . + ~ (no '-')"
	printf '%s\n' "$MKPKG_RELEASE" | grep -Eq '^[A-Za-z0-9.+~]+$' ||
		die "--release $MKPKG_RELEASE: letters, digits, . + ~ (no '-')"
	for o in $MKPKG_OBSOLETES; do
		printf '%s\n' "$o" | grep -Eq '^[a-z0-9][a-z0-9.+-]+$' ||
			die "--obsoletes $o: not a Debian package name"
		[ "$o" != "$MKPKG_NAME" ] || die "--obsoletes $o: that is this package's own name"
	done

	version=$MKPKG_VERSION-$MKPKG_RELEASE
	w=$MKPKG_WORK/deb
	src=$w/$MKPKG_NAME-$MKPKG_VERSION
	mkdir -p "$src/debian/source" "$src/payloads"
	mkdir -p "$MKPKG_OUTDIR" || die "$MKPKG_OUTDIR: cannot create"
	outdir=$(cd "$MKPKG_OUTDIR" && pwd)

	: > "$src/debian/$MKPKG_NAME.xen-hotpatch"
	for p in $MKPKG_PAYLOADS; do
		b=$(basename "$p")
		[ ! -e "$src/payloads/$b" ] || die "$b: two payloads with the same file name"
		cp "$p" "$src/payloads/$b"
		printf 'payloads/%s\n' "$b" >> "$src/debian/$MKPKG_NAME.xen-hotpatch"
	done

	# shellcheck disable=SC2016 # a substvar, for dpkg-gencontrol
	provides='${xen-hotpatch:Provides}'
	replaces=""
	breaks=""
	for o in $MKPKG_OBSOLETES; do
		provides="$provides, $o"
		replaces="${replaces:+$replaces, }$o"
		breaks="${breaks:+$breaks, }$o"
	done
	summary=$(printf '%s' "$MKPKG_SUMMARY" | tr '\n' ' ' | sed 's/[[:space:]]*$//')
	desc=$(mkpkg_description) || exit 1
	{
		printf 'Source: %s\n' "$MKPKG_NAME"
		printf 'Section: admin\nPriority: optional\n'
		printf 'Maintainer: %s\n' "$(printf '%s' "$MKPKG_MAINTAINER" | tr '\n' ' ')"
		printf 'Build-Depends: debhelper-compat (= 13), dh-sequence-xen-hotpatch\n'
		printf 'Rules-Requires-Root: no\nStandards-Version: 4.6.2\n\n'
		printf 'Package: %s\n' "$MKPKG_NAME"
		# The payloads are for the hypervisor, not for the dom0 userland's
		# architecture: one package serves every dom0 of that hypervisor.
		printf 'Architecture: all\n'
		# shellcheck disable=SC2016 # substvars, for dpkg-gencontrol
		printf 'Depends: ${misc:Depends}, ${xen-hotpatch:Depends}\n'
		printf 'Provides: %s\n' "$provides"
		[ -z "$replaces" ] || printf 'Replaces: %s\nBreaks: %s\n' "$replaces" "$breaks"
		printf 'Description: %s\n' "$summary"
		printf '%s\n' "$desc" | mkpkg_deb_fold
	} > "$src/debian/control"
	mkpkg_deb_changelog "$version" > "$src/debian/changelog"
	printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' > "$src/debian/rules"
	chmod 0755 "$src/debian/rules"
	printf '3.0 (native)\n' > "$src/debian/source/format"
	{
		printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n'
		printf 'Files: *\nCopyright: %s %s\nLicense: %s\n' "$(date +%Y)" \
			"$(printf '%s' "$MKPKG_MAINTAINER" | tr '\n' ' ')" \
			"${MKPKG_LICENSE:-GPL-2.0-only}"
		case ${MKPKG_LICENSE:-GPL-2.0-only} in
		GPL-2.0-only | GPL-2*)
			printf ' On Debian systems, the complete text of the GNU General Public License\n'
			printf ' version 2 can be found in /usr/share/common-licenses/GPL-2.\n'
			;;
		*) printf ' See the payload vendor for the licence text.\n' ;;
		esac
	} > "$src/debian/copyright"
	{
		printf '# Xen livepatch payloads are relocatable ELF objects that the hypervisor\n'
		printf '# loads; the dom0 userland never runs or links them.\n'
		printf '%s: arch-independent-package-contains-binary-or-object [usr/lib/xen-hotpatch/*]\n' "$MKPKG_NAME"
		printf '%s: unstripped-binary-or-object [usr/lib/xen-hotpatch/*]\n' "$MKPKG_NAME"
		printf '# Hotpatch packages are not uploaded to Debian: no bug to close.\n'
		printf '%s: initial-upload-closes-no-bugs\n' "$MKPKG_NAME"
	} > "$src/debian/$MKPKG_NAME.lintian-overrides"

	# The build needs debhelper and the add-on, not the whole of
	# build-essential (dpkg-buildpackage's implicit build dependency): check
	# the former here, then build with -d.
	if [ -n "$MKPKG_DEB_ADDON" ]; then
		perl5=$w/perl5/Debian/Debhelper/Sequence
		mkdir -p "$perl5"
		cp "$MKPKG_DEB_ADDON/xen_hotpatch.pm" "$perl5/"
		build_path=$MKPKG_DEB_ADDON:$PATH
		build_perl5lib=$w/perl5${PERL5LIB:+:$PERL5LIB}
		needs='debhelper-compat (= 13)'
	else
		build_path=$PATH
		build_perl5lib=${PERL5LIB:-}
		needs='debhelper-compat (= 13), dh-sequence-xen-hotpatch'
	fi
	mkpkg_deb_build "$src" "$needs" "$outdir" PATH="$build_path" PERL5LIB="$build_perl5lib"
	# what dh_xen_hotpatch warned about (nothing when all is well)
	grep '^dh_xen_hotpatch: warning' "$w/build.log" >&2 || :
}
