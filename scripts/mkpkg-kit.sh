# shellcheck shell=sh
# shellcheck disable=SC2154 # lib, prog and die come from xen-hotpatch-mkpkg
# Kit part of xen-hotpatch-mkpkg: `--kit DIR --deb|--rpm` packages a kit made
# by `xen-hotpatch-build kit` as xen-hotpatch-kit-<xen version>, installing
# /usr/src/xen-hotpatch-kit/<xen build-id>/ (so kits of several hypervisor
# builds install side by side), providing the build-id
# (deb: xen-hotpatch-kit-id-<id>; rpm: xen-hotpatch-kit(<id>)) and depending
# on the exact compiler and binutils packages the kit was built with
# (kit_pkg_relations of kit-lib.sh: one place for both formats).
#
# Uses from xen-hotpatch-mkpkg: MKPKG_NAME MKPKG_VERSION MKPKG_RELEASE
# MKPKG_SUMMARY MKPKG_DESCRIPTION MKPKG_CHANGELOG MKPKG_MAINTAINER MKPKG_OUTDIR,
# $lib, $prog, die. kit-lib.sh comes from $XEN_HOTPATCH_BUILD_LIB, the mkpkg
# library folder (a source tree's scripts/) or the installed xen-hotpatch-build.

MKPKG_KIT_PREFIX=/usr/src/xen-hotpatch-kit

mkpkg_kit_read() {
	for d in "${XEN_HOTPATCH_BUILD_LIB:-}" "$lib" /usr/share/xen-hotpatch/build; do
		if [ -n "$d" ] && [ -f "$d/kit-lib.sh" ]; then
			# shellcheck source=scripts/kit-lib.sh
			. "$d/kit-lib.sh"
			MKPKG_KIT_LIB=$d
			break
		fi
	done
	[ -n "${MKPKG_KIT_LIB:-}" ] || die "cannot find kit-lib.sh (install xen-hotpatch-build, or set XEN_HOTPATCH_BUILD_LIB)"
	# packaging needs no compiler: kit_read, not kit_load
	XHP_PROG=$prog kit_read "$1" || exit 1
	if [ -z "$MKPKG_NAME" ]; then
		MKPKG_NAME=xen-hotpatch-kit-$(printf '%s' "$XEN_VERSION" | tr 'A-Z_~:' 'a-z---')
	fi
	[ -n "$MKPKG_SUMMARY" ] || MKPKG_SUMMARY="Xen hotpatch build kit for Xen $XEN_VERSION"
	[ -n "$MKPKG_CHANGELOG" ] || MKPKG_CHANGELOG="Build kit of Xen $XEN_VERSION,
build-id $XEN_BUILD_ID"
	MKPKG_KIT_DEST=$MKPKG_KIT_PREFIX/$XEN_BUILD_ID
	MKPKG_WORK=$(mktemp -d "${TMPDIR:-/tmp}/xen-hotpatch-mkpkg.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$MKPKG_WORK'" EXIT
	mkdir -p "$MKPKG_OUTDIR" || die "$MKPKG_OUTDIR: cannot create"
	MKPKG_OUTDIR=$(cd "$MKPKG_OUTDIR" && pwd)
}

# The package description: the caller's text, then what the kit is.
mkpkg_kit_description() {
	if [ -n "$MKPKG_DESCRIPTION" ]; then
		printf '%s\n\n' "$MKPKG_DESCRIPTION"
	fi
	printf 'What xen-hotpatch-build needs to build livepatch payloads for the\n'
	printf 'Xen hypervisor %s with build-id\n%s:\n' "$XEN_VERSION" "$XEN_BUILD_ID"
	printf 'its configured and built source tree with the original objects and\n'
	printf 'their build commands, .config, xen-syms and the build environment.\n'
	printf 'Installed in %s/<build-id>/.\n' "$MKPKG_KIT_PREFIX"
	printf '\nCompiler: %s\nBinutils: %s\n' "$KIT_CC_VERSION" "$KIT_LD_VERSION"
}

# mkpkg_kit_copy DEST: a copy of the kit, hard-linked where the file system allows.
mkpkg_kit_copy() {
	mkdir -p "$(dirname "$1")"
	cp -al "$KIT_DIR" "$1" 2>/dev/null || { rm -rf "$1"; cp -a "$KIT_DIR" "$1"; } ||
		die "cannot copy the kit $KIT_DIR"
}

mkpkg_kit() {
	mkpkg_kit_read "$1"
	if [ "$want_rpm" = 1 ]; then
		# shellcheck source=scripts/mkpkg-kit-rpm.sh
		. "$lib/mkpkg-kit-rpm.sh"
		mkpkg_kit_rpm
	fi
	if [ "$want_deb" = 1 ]; then
		# shellcheck source=scripts/mkpkg-kit-deb.sh
		. "$lib/mkpkg-kit-deb.sh"
		mkpkg_kit_deb
	fi
}
