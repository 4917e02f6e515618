# shellcheck shell=sh
# shellcheck disable=SC2154 # prog, die, lib and the MKPKG_* / KIT_* values come from mkpkg-kit.sh
# RPM part of `xen-hotpatch-mkpkg --kit`: a spec from kit.spec.in, built with
# rpmbuild -bb --nodeps (the build host's rpmdb need not know the build tools).
# The macros (macros.xen-hotpatch-kit), the generator (xen_hotpatch_kit.attr,
# xen-hotpatch-kit-rpmdeps) and the template come from $XEN_HOTPATCH_KIT_RPM (a
# folder holding them), a source tree's spec/ folder, or the installed
# xen-hotpatch-build (rpm's macro path and fileattrs folder,
# /usr/share/xen-hotpatch/build/kit.spec.in).

mkpkg_kit_rpm_support() {
	MKPKG_KIT_RPM=${XEN_HOTPATCH_KIT_RPM:-}
	if [ -z "$MKPKG_KIT_RPM" ] && [ -f "$lib/../spec/macros.xen-hotpatch-kit" ]; then
		MKPKG_KIT_RPM=$(cd "$lib/../spec" && pwd)
	fi
	if [ -n "$MKPKG_KIT_RPM" ]; then
		for f in macros.xen-hotpatch-kit xen_hotpatch_kit.attr xen-hotpatch-kit-rpmdeps kit.spec.in; do
			[ -f "$MKPKG_KIT_RPM/$f" ] || die "$MKPKG_KIT_RPM/$f: missing (XEN_HOTPATCH_KIT_RPM)"
		done
		MKPKG_KIT_TEMPLATE=$MKPKG_KIT_RPM/kit.spec.in
		return 0
	fi
	[ -f "$(rpm --eval '%{_rpmmacrodir}')/macros.xen-hotpatch-kit" ] ||
		die "xen-hotpatch-build's RPM macros are not installed (or set XEN_HOTPATCH_KIT_RPM to a source tree's spec/)"
	MKPKG_KIT_TEMPLATE=/usr/share/xen-hotpatch/build/kit.spec.in
	[ -f "$MKPKG_KIT_TEMPLATE" ] || die "cannot find $MKPKG_KIT_TEMPLATE"
}

# mkpkg_kit_rpm_macros DIR WORK: write WORK/kit-rpm.macros, one file for
# rpmbuild --load that brings the kit macros and generator of the folder DIR
# (a source tree's spec/) with rpm's own generators kept (a private fileattrs
# folder WORK/fileattrs linking them). Also used by `make xen-livepatch-rpm`.
mkpkg_kit_rpm_macros() {
	mkdir -p "$2/fileattrs" || return 1
	for a in "$(rpm --eval '%{_fileattrsdir}')"/*.attr; do
		[ -f "$a" ] && ln -sf "$a" "$2/fileattrs/"
	done
	cp "$1/xen_hotpatch_kit.attr" "$2/fileattrs/" &&
		{
			cat "$1/macros.xen-hotpatch-kit" "$1/xen_hotpatch_kit.attr"
			printf '%%_fileattrsdir %s/fileattrs\n' "$2"
			printf '%%__xen_hotpatch_kit_rpmdeps %s/xen-hotpatch-kit-rpmdeps\n' "$1"
		} > "$2/kit-rpm.macros"
}

mkpkg_kit_rpm() {
	command -v rpmbuild >/dev/null 2>&1 || die "rpmbuild not found (install rpm-build)"
	mkpkg_kit_rpm_support
	# shellcheck source=scripts/mkpkg-rpm.sh
	. "$lib/mkpkg-rpm.sh"	# mkpkg_rpm_check_names, mkpkg_rpm_fields, mkpkg_rpm_esc, mkpkg_rpm_build
	mkpkg_rpm_check_names
	w=$MKPKG_WORK/rpm
	t=$w/template
	mkdir -p "$w/SOURCES" "$w/BUILD" "$t"
	mkpkg_kit_copy "$w/SOURCES/kit"
	mkpkg_rpm_fields "$t"
	mkpkg_rpm_esc "$(mkpkg_kit_description)" > "$t/DESCRIPTION"

	set --
	if [ -n "$MKPKG_KIT_RPM" ]; then
		mkpkg_kit_rpm_macros "$MKPKG_KIT_RPM" "$w" || die "cannot set up the kit macros of $MKPKG_KIT_RPM"
		set -- --load "$w/kit-rpm.macros"
	fi
	# the generator reads the kit with this kit-lib.sh
	(
		XEN_HOTPATCH_BUILD_LIB=$MKPKG_KIT_LIB
		export XEN_HOTPATCH_BUILD_LIB
		mkpkg_rpm_build "$w" "$MKPKG_KIT_TEMPLATE" "$MKPKG_OUTDIR" "$@"
	) || exit 1
}
