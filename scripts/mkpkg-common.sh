# shellcheck shell=sh
# Common part of xen-hotpatch-mkpkg: read the payloads once.
# Sets: MKPKG_PAYLOADS (absolute paths, space-separated), MKPKG_XEN_ID (the one
# hypervisor build-id all payloads are for), MKPKG_STEMS, MKPKG_NAME default,
# MKPKG_INFO_JSON (file holding `xen-hotpatch --json info` of all payloads).

mkpkg_read_payloads() {
	tool=${XEN_HOTPATCH:-xen-hotpatch}
	# rpmbuild and dpkg-buildpackage run it from their build folders: make
	# a relative path absolute, and hand it on to the macros and dh add-on.
	case $tool in
	*/*) tool=$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool") ;;
	esac
	XEN_HOTPATCH=$tool
	export XEN_HOTPATCH
	MKPKG_PAYLOADS=""
	MKPKG_STEMS=""
	for p in "$@"; do
		[ -f "$p" ] || die "$p: no such file"
		case $p in
		*.livepatch) ;;
		*) die "$p: payload file names end in .livepatch" ;;
		esac
		abs=$(cd "$(dirname "$p")" && pwd)/$(basename "$p")
		MKPKG_PAYLOADS="$MKPKG_PAYLOADS $abs"
		MKPKG_STEMS="$MKPKG_STEMS $(basename "$p" .livepatch)"
	done
	MKPKG_WORK=$(mktemp -d "${TMPDIR:-/tmp}/xen-hotpatch-mkpkg.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$MKPKG_WORK'" EXIT
	MKPKG_INFO_JSON=$MKPKG_WORK/info.json
	# shellcheck disable=SC2086
	"$tool" --json info $MKPKG_PAYLOADS > "$MKPKG_INFO_JSON" ||
		die "a payload is not valid (see above); nothing built"
	MKPKG_XEN_ID=""
	for p in $MKPKG_PAYLOADS; do
		x=$("$tool" info --query xen_depends "$p") || die "$p: cannot read its .livepatch.xen_depends"
		if [ -z "$MKPKG_XEN_ID" ]; then
			MKPKG_XEN_ID=$x
		elif [ "$MKPKG_XEN_ID" != "$x" ]; then
			die "$p: built for hypervisor $x, the others for $MKPKG_XEN_ID: one package per hypervisor build"
		fi
	done
	case $MKPKG_XEN_ID in
	*[!0-9a-f]* | '') die "hypervisor build-id '$MKPKG_XEN_ID' is not lower-case hex" ;;
	esac
	if [ -z "$MKPKG_NAME" ]; then
		# shellcheck disable=SC2086 # split the list on purpose
		set -- $MKPKG_STEMS
		MKPKG_NAME=xen-hotpatch-$(printf '%s' "$1" | tr 'A-Z_' 'a-z-')
	fi
	[ -n "$MKPKG_SUMMARY" ] || MKPKG_SUMMARY="Xen hotpatches for hypervisor ${MKPKG_XEN_ID}"
	[ -n "$MKPKG_CHANGELOG" ] || MKPKG_CHANGELOG="Hotpatch payloads:$MKPKG_STEMS"
}

# The package's description, for both packagings: the caller's text, then
# what the payloads are, from their notes.
mkpkg_description() {
	if [ -n "$MKPKG_DESCRIPTION" ]; then
		printf '%s\n\n' "$MKPKG_DESCRIPTION"
	fi
	printf 'Xen hotpatch payloads for the hypervisor with build-id\n%s.\n' "$MKPKG_XEN_ID"
	for p in $MKPKG_PAYLOADS; do
		q=$("$tool" info --query name,build_id,depends,stacks_on "$p") || die "$p: cannot read its notes"
		old_ifs=$IFS
		IFS=$(printf '\t')
		# shellcheck disable=SC2086 # split the tab-separated fields
		set -- $q
		IFS=$old_ifs
		printf '\nPayload %s\n  build-id: %s\n' "$1" "$2"
		if [ "$4" = payload ]; then
			printf '  stacks on payload: %s\n' "$3"
		else
			printf '  stacks on the hypervisor\n'
		fi
		mkpkg_modinfo_lines "$p"
	done
}

# The payload's .modinfo strings (e.g. cve=CVE-2024-1234), one per line,
# indented by two spaces, for package descriptions.
mkpkg_modinfo_lines() {
	"${XEN_HOTPATCH:-xen-hotpatch}" info --query modinfo "$1" | tr ';' '\n' |
		sed -n 's/^\(..*\)$/  \1/p'
}
