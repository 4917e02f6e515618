# shellcheck shell=sh
# shellcheck disable=SC2154 # lib, prog, tool and die come from xen-hotpatch-mkpkg
# RPM part of xen-hotpatch-mkpkg: mkpkg_rpm writes a payload package spec from
# payload.spec.in and builds it with rpmbuild (noarch).
#
# Uses (from xen-hotpatch-mkpkg and mkpkg-common.sh): MKPKG_PAYLOADS MKPKG_STEMS
# MKPKG_XEN_ID MKPKG_NAME MKPKG_VERSION MKPKG_RELEASE MKPKG_SUMMARY
# MKPKG_DESCRIPTION MKPKG_CHANGELOG MKPKG_OBSOLETES MKPKG_MAINTAINER MKPKG_OUTDIR
# MKPKG_WORK, $lib (where the mkpkg libraries are), die.
#
# The macros and the dependency generator come from, in this order:
#   $XEN_HOTPATCH_RPM_MACROS, a folder holding macros.xen-hotpatch,
#     xen_hotpatch.attr, xen-hotpatch-rpmdeps and payload.spec.in;
#   the spec/ folder next to this script's folder (a source tree);
#   the installed xen-hotpatch-rpm-macros (rpm's macro path and fileattrs folder,
#     the template in /usr/share/xen-hotpatch/mkpkg/).
# A folder is passed to rpmbuild with --load, plus a private fileattrs folder
# (rpm finds generators by the *.attr names in %_fileattrsdir).
#
# rpmbuild runs with --nodeps: the spec's BuildRequires (xen-hotpatch-rpm-macros)
# is for rebuilds elsewhere; here mkpkg has just found what it needs, and the
# build host's rpmdb (Debian's is empty) does not have to know about it.

# Escape text for a spec file: rpm expands %.
mkpkg_rpm_esc() {
	printf '%s\n' "$1" | sed 's/%/%%/g'
}

mkpkg_rpm_find_support() {
	MKPKG_RPM_DIR=${XEN_HOTPATCH_RPM_MACROS:-}
	if [ -z "$MKPKG_RPM_DIR" ] && [ -f "$lib/../spec/macros.xen-hotpatch" ]; then
		MKPKG_RPM_DIR=$(cd "$lib/../spec" && pwd)
	fi
	if [ -n "$MKPKG_RPM_DIR" ]; then
		for f in macros.xen-hotpatch xen_hotpatch.attr xen-hotpatch-rpmdeps payload.spec.in; do
			[ -f "$MKPKG_RPM_DIR/$f" ] || die "$MKPKG_RPM_DIR/$f: missing (XEN_HOTPATCH_RPM_MACROS)"
		done
		MKPKG_RPM_TEMPLATE=$MKPKG_RPM_DIR/payload.spec.in
		return 0
	fi
	macrodir=$(rpm --eval '%{_rpmmacrodir}')
	attrdir=$(rpm --eval '%{_fileattrsdir}')
	if [ ! -f "$macrodir/macros.xen-hotpatch" ] || [ ! -f "$attrdir/xen_hotpatch.attr" ]; then
		die "xen-hotpatch-rpm-macros is not installed (or set XEN_HOTPATCH_RPM_MACROS to the spec/ folder of a source tree)"
	fi
	MKPKG_RPM_TEMPLATE=""
	for t in "$lib/payload.spec.in" /usr/share/xen-hotpatch/mkpkg/payload.spec.in; do
		if [ -f "$t" ]; then MKPKG_RPM_TEMPLATE=$t; break; fi
	done
	[ -n "$MKPKG_RPM_TEMPLATE" ] || die "cannot find payload.spec.in"
}

mkpkg_rpm_changelog() {
	printf '* %s %s - %s-%s\n' "$(LC_ALL=C date -u +'%a %b %d %Y')" "$MKPKG_MAINTAINER" \
		"$MKPKG_VERSION" "$MKPKG_RELEASE"
	printf '%s\n' "$MKPKG_CHANGELOG" | sed -e '/^[[:space:]]*$/d' -e '1s/^/- /' -e '2,$s/^/  /'
}

# Fill the template: a line that is exactly @KEY@ becomes the file $1/KEY; an
# @KEY@ inside a line becomes the first line of that file.
mkpkg_rpm_fill() {
	awk -v dir="$1" '
	function val(k,   f, l, s, n) {
		f = dir "/" k; s = ""; n = 0
		while ((getline l < f) > 0) { s = (n++ ? s "\n" : "") l }
		close(f)
		return s
	}
	/^@[A-Z_]+@$/ { v = val(substr($0, 2, length($0) - 2)); if (v != "") print v; next }
	{
		out = ""; rest = $0
		while (match(rest, /@[A-Z_]+@/)) {
			v = val(substr(rest, RSTART + 1, RLENGTH - 2)); sub(/\n.*/, "", v)
			out = out substr(rest, 1, RSTART - 1) v
			rest = substr(rest, RSTART + RLENGTH)
		}
		print out rest
	}' "$2"
}

# The template fields of every package made here, into the folder $1: NAME,
# VERSION, RELEASE, SUMMARY, PACKAGER, CHANGELOG (also used by mkpkg-kit-rpm.sh).
mkpkg_rpm_fields() {
	mkpkg_rpm_esc "$MKPKG_NAME" > "$1/NAME"
	mkpkg_rpm_esc "$MKPKG_VERSION" > "$1/VERSION"
	mkpkg_rpm_esc "$MKPKG_RELEASE" > "$1/RELEASE"
	mkpkg_rpm_esc "$(printf '%s' "$MKPKG_SUMMARY" | tr '\n' ' ')" > "$1/SUMMARY"
	mkpkg_rpm_esc "$(printf '%s' "$MKPKG_MAINTAINER" | tr '\n' ' ')" > "$1/PACKAGER"
	mkpkg_rpm_esc "$(mkpkg_rpm_changelog)" > "$1/CHANGELOG"
}

# MKPKG_NAME, MKPKG_VERSION and MKPKG_RELEASE are valid in a spec (also used
# by mkpkg-kit-rpm.sh).
mkpkg_rpm_check_names() {
	printf '%s\n' "$MKPKG_NAME" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9._+-]*$' ||
		die "--name $MKPKG_NAME: not a valid package name"
	for v in "$MKPKG_VERSION" "$MKPKG_RELEASE"; do
		printf '%s\n' "$v" | grep -Eq '^[A-Za-z0-9._+~^]+$' ||
			die "version/release '$v': use letters, digits and . _ + ~ ^ (no '-')"
	done
}

mkpkg_rpm() {
	command -v rpmbuild >/dev/null 2>&1 || die "rpmbuild not found (install rpm-build)"
	mkpkg_rpm_find_support
	mkpkg_rpm_check_names

	w=$MKPKG_WORK/rpm
	t=$w/template
	mkdir -p "$w/SOURCES" "$w/BUILD" "$t"
	mkdir -p "$MKPKG_OUTDIR" || die "$MKPKG_OUTDIR: cannot create"
	outdir=$(cd "$MKPKG_OUTDIR" && pwd)

	: > "$t/SOURCES"
	: > "$t/SOURCE_REFS"
	: > "$t/CHECK"
	: > "$t/FILES"
	i=0
	refs=""
	for p in $MKPKG_PAYLOADS; do
		b=$(basename "$p")
		[ ! -e "$w/SOURCES/$b" ] || die "$b: two payloads with the same file name"
		cp "$p" "$w/SOURCES/$b"
		printf 'Source%d:\t%s\n' "$i" "$(mkpkg_rpm_esc "$b")" >> "$t/SOURCES"
		refs="$refs %{SOURCE$i}"
		printf 'cmp %%{SOURCE%d} %%{buildroot}%%{_xen_hotpatch_dir}/%s/%s\n' "$i" "$MKPKG_XEN_ID" "$b" >> "$t/CHECK"
		printf '%%{_xen_hotpatch_dir}/%s/%s\n' "$MKPKG_XEN_ID" "$b" >> "$t/FILES"
		i=$((i + 1))
	done
	printf '%s\n' "${refs# }" > "$t/SOURCE_REFS"
	: > "$t/OBSOLETES"
	for o in $MKPKG_OBSOLETES; do
		printf 'Obsoletes:\t%s\n' "$(mkpkg_rpm_esc "$o")" >> "$t/OBSOLETES"
	done
	mkpkg_rpm_fields "$t"
	mkpkg_rpm_esc "${MKPKG_LICENSE:-GPL-2.0-only}" > "$t/LICENSE"
	printf '%s\n' "$MKPKG_XEN_ID" > "$t/XEN_ID"
	desc=$(mkpkg_description) || exit 1
	mkpkg_rpm_esc "$desc" > "$t/DESCRIPTION"

	set --
	if [ -n "$MKPKG_RPM_DIR" ]; then
		fa=$w/fileattrs
		mkdir -p "$fa"
		sysfa=$(rpm --eval '%{_fileattrsdir}')
		for a in "$sysfa"/*.attr; do
			[ -f "$a" ] || continue
			[ "$(basename "$a")" = xen_hotpatch.attr ] || ln -s "$a" "$fa/"
		done
		cp "$MKPKG_RPM_DIR/xen_hotpatch.attr" "$fa/"
		set -- "$@" --load "$MKPKG_RPM_DIR/macros.xen-hotpatch" \
			--load "$MKPKG_RPM_DIR/xen_hotpatch.attr" \
			--define "_fileattrsdir $fa" \
			--define "__xen_hotpatch_rpmdeps $MKPKG_RPM_DIR/xen-hotpatch-rpmdeps"
	fi
	mkpkg_rpm_build "$w" "$MKPKG_RPM_TEMPLATE" "$outdir" "$@"
}

# mkpkg_rpm_build W TEMPLATE OUTDIR [RPMBUILD-OPTION...]: the spec filled in
# from TEMPLATE and the fields in W/template, built in W (sources in
# W/SOURCES) into OUTDIR, naming each package written; on failure, the end of
# rpmbuild's log (without the shell trace) and die.
mkpkg_rpm_build() {
	w=$1
	spec=$w/$MKPKG_NAME.spec
	mkpkg_rpm_fill "$w/template" "$2" > "$spec" || die "cannot write $spec"
	rpmdir=$3
	shift 3
	if ! rpmbuild -bb --nodeps --define "_topdir $w" --define "_sourcedir $w/SOURCES" \
		--define "_builddir $w/BUILD" --define "_rpmdir $rpmdir" \
		--define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
		"$@" "$spec" > "$w/rpmbuild.log" 2>&1; then
		grep -v '^+ ' "$w/rpmbuild.log" | tail -n 30 >&2
		die "rpmbuild of $MKPKG_NAME failed (see above)"
	fi
	sed -n 's/^Wrote: //p' "$w/rpmbuild.log" | while IFS= read -r r; do
		printf '%s: wrote %s\n' "$prog" "$r"
	done
}
