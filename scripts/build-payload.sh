# shellcheck shell=sh
# build-payload.sh: `xen-hotpatch-build payload`, sourced by scripts/xen-hotpatch-build
# after kit-lib.sh; defines build_payload.
#
#   xen-hotpatch-build payload --kit DIR --patch FILE... --name NAME
#       [--depends PAYLOAD.livepatch | --cumulative] [--version V]
#       [--modinfo KEY=VALUE]... [-j N] [-v] -o OUT
#
# 1. The patches (-p1 against the hypervisor source tree, XSA style) are applied
#    without fuzz to copies of the files they touch; the kit is never written
#    to. C sources and headers under xen/ only (others outside xen/ are left
#    out, saying so; assembly, build files and new sources are refused). A
#    changed struct or union definition, or a renumbered enum, is refused
#    (a data layout change).
# 2. The objects built from the touched files, or including them, are rebuilt
#    patched in a scratch tree of symbolic links to the kit's sources, with the
#    kit's recorded commands (its compiler and flags, with -ffunction-sections
#    -fdata-sections); the originals are the kit's objects, two of them rebuilt
#    here first and checked byte for byte (else the host toolchain is not the
#    kit's).
# 3. xen-hotpatch-diff compares each changed pair and writes OUT, or refuses.
#
# --depends P stacks the payload on payload P (its build-id); the default, and
# --cumulative, stack it on the hypervisor (what REPLACE needs). .modinfo gets
# name, version (default 1), patches=FILE[,FILE...] (the patch files' names),
# xen_version, and the --modinfo pairs. Exit: 0 built, 1 refused (one line; OUT untouched), 2 usage.
# XEN_HOTPATCH_BUILD_KEEP=1 keeps the scratch directory (for debugging).

bp_usage() {
	sed -n '/^#   xen-hotpatch-build payload/,/^#$/p' "$XHP_BUILD_PAYLOAD_SELF" | sed 's/^# \{0,1\}//'
	exit "$1"
}

bp_die() {
	printf '%s: %s\n' "${XHP_PROG:-xen-hotpatch-build}" "$*" >&2
	exit 1
}

bp_bad() {
	printf '%s: payload: %s\n' "${XHP_PROG:-xen-hotpatch-build}" "$*" >&2
	exit 2
}

bp_note() {
	[ "$bp_verbose" = 0 ] || printf '%s: %s\n' "${XHP_PROG:-xen-hotpatch-build}" "$*" >&2
}

# The engine: $XEN_HOTPATCH_DIFF, the source tree's build, or the installed one
# (PREFIX/libexec/xen-hotpatch/, this file being in PREFIX/share/xen-hotpatch/build/).
bp_engine() {
	for _e in "${XEN_HOTPATCH_DIFF:-}" "$bp_lib/../build/xen-hotpatch-diff" \
		"$bp_lib/../../../libexec/xen-hotpatch/xen-hotpatch-diff" \
		/usr/libexec/xen-hotpatch/xen-hotpatch-diff; do
		if [ -n "$_e" ] && [ -x "$_e" ]; then
			printf '%s\n' "$_e"
			return 0
		fi
	done
	bp_die "cannot find xen-hotpatch-diff (set XEN_HOTPATCH_DIFF)"
}

bp_parse() {
	while [ $# -gt 0 ]; do
		case $1 in
		--kit) [ $# -ge 2 ] || bp_bad "--kit needs a directory"; bp_kit=$2; shift ;;
		--patch) [ $# -ge 2 ] || bp_bad "--patch needs a file"
			bp_patches="$bp_patches$2
"; shift ;;
		--name) [ $# -ge 2 ] || bp_bad "--name needs a value"; bp_name=$2; shift ;;
		--depends) [ $# -ge 2 ] || bp_bad "--depends needs a payload"; bp_depends=$2; shift ;;
		--cumulative) bp_cumulative=1 ;;
		--version) [ $# -ge 2 ] || bp_bad "--version needs a value"; bp_version=$2; shift ;;
		--modinfo) [ $# -ge 2 ] || bp_bad "--modinfo needs KEY=VALUE"
			bp_modinfo="$bp_modinfo$2
"; shift ;;
		-o) [ $# -ge 2 ] || bp_bad "-o needs a file"; bp_out=$2; shift ;;
		-j) [ $# -ge 2 ] || bp_bad "-j needs a number"; bp_jobs=$2; shift ;;
		-v) bp_verbose=1 ;;
		-h | --help) bp_usage 0 ;;
		*) bp_bad "unknown argument '$1' (see --help)" ;;
		esac
		shift
	done
	[ -n "$bp_kit" ] || bp_bad "--kit DIR is required"
	[ -n "$bp_patches" ] || bp_bad "at least one --patch FILE is required"
	[ -n "$bp_name" ] || bp_bad "--name NAME is required"
	[ -n "$bp_out" ] || bp_bad "-o OUT is required"
	[ -z "$bp_depends" ] || [ "$bp_cumulative" = 0 ] || bp_bad "--depends and --cumulative exclude each other"
	case $bp_name in
	*[!A-Za-z0-9._-]* | . | ..) bp_bad "--name '$bp_name': use letters, digits, '.', '_' and '-'" ;;
	esac
	[ "${#bp_name}" -le 127 ] || bp_bad "--name: at most 127 characters"
	case $bp_jobs in '' | *[!0-9]* | 0) bp_bad "-j wants a positive number" ;; esac
	case $bp_version in '' | *[![:print:]]*) bp_bad "--version wants printable text" ;; esac
	printf '%s' "$bp_modinfo" | while IFS= read -r _kv; do
		case $_kv in
		name=*) bp_bad "--modinfo name=...: the name is --name" ;;
		[A-Za-z0-9_.-]*=*) ;;
		*) bp_bad "--modinfo '$_kv': want KEY=VALUE" ;;
		esac
	done || exit 2
}

# bp_diff FILE [PREFIX]: without PREFIX, the files the unified diff FILE
# touches, as -p1 paths ("xen/common/kernel.c"; "BAD NAME" for a name it
# cannot read); with PREFIX, the diff reduced to its files under PREFIX/ (what
# patch applies to the kit's tree, which has no tools/ or docs/). Hunks are
# read by their line counts: a removed line "-- x" is not a file header. CRs
# ending lines are dropped (a mailed patch), as GNU patch does.
bp_diff() {
	awk -v keep="${2:-}" '
	function counts(h, n) { sub(/^[-+][0-9]+/, "", h); return h == "" ? 1 : substr(h, 2) + 0 }
	function file(plus,   f, n) {
		f = plus; sub(/^\+\+\+ /, "", f); sub(/\t.*/, "", f)
		if (f == "/dev/null") { f = minus; sub(/^--- /, "", f); sub(/\t.*/, "", f) }
		if (f ~ /^"/ || !(n = index(f, "/"))) return "BAD " f
		return substr(f, n + 1)
	}
	{ sub(/\r$/, "") }	# a patch mailed with CRLF line ends (as patch does)
	(ol > 0 || nl > 0) && !/^\\/ {
		c = substr($0, 1, 1)
		if (c == "-") ol--; else if (c == "+") nl--; else { ol--; nl-- }
		if (out) print
		next
	}
	minus != "" && !/^\+\+\+ / { head = head minus "\n"; minus = "" }
	/^@@ -[0-9]+(,[0-9]+)? \+[0-9]+(,[0-9]+)? @@/ { ol = counts($2); nl = counts($3); if (out) print; next }
	/^\\/ { if (out) print; next }
	/^--- / { minus = $0; next }
	/^\+\+\+ / && minus != "" {
		f = file($0)
		if (keep == "") print f
		out = keep != "" && index(f, keep "/") == 1
		if (out) printf "%s%s\n%s\n", head, minus, $0
		head = ""; minus = ""
		next
	}
	{ head = head $0 "\n" }' "$1"
}

# Check the patch files and make their paths absolute (patch runs elsewhere).
bp_check_inputs() {
	_list=$bp_patches
	bp_patches=""
	while IFS= read -r _p; do
		[ -n "$_p" ] || continue
		{ [ -f "$_p" ] && [ -r "$_p" ]; } || bp_die "$_p: no such patch file"
		_t=$(bp_diff "$_p")
		[ -n "$_t" ] || bp_die "$_p: not a unified diff (no +++ lines)"
		case $_t in *"BAD "*) bp_die "$_p: cannot read the file names (want -p1 paths like a/xen/common/kernel.c)" ;; esac
		case $(basename "$_p") in
		*,* | *[![:print:]]*) bp_bad "$_p: a patch file name without ',' or control characters, please" ;;
		esac
		_abs=$(cd "$(dirname "$_p")" && pwd)/$(basename "$_p")
		bp_patches="$bp_patches$_abs
"
	done <<EOF
$_list
EOF
	[ -z "$bp_depends" ] || [ -f "$bp_depends" ] || bp_die "$bp_depends: no such payload"
	_d=$(dirname "$bp_out")
	[ -d "$_d" ] || bp_die "$bp_out: directory $_d does not exist"
	[ ! -d "$bp_out" ] || bp_die "$bp_out: is a directory"
}

# Directories (tree paths) holding the given files, with all their parents.
bp_dirs_of() {
	for _f in "$@"; do
		_d=$(dirname "$_f")
		while [ "$_d" != . ] && [ "$_d" != / ]; do
			printf '%s\n' "$_d"
			_d=$(dirname "$_d")
		done
	done | LC_ALL=C sort -u
}

# The scratch tree: a real directory for every directory holding a touched file
# or a rebuilt object (and their parents), a link for everything else -- whole
# directories included -- except build outputs, so nothing compiled or patched
# here can write through a link into the kit.
bp_farm() {
	_top=$1
	shift
	_unfold=$(bp_dirs_of "$@")
	_kt=$KIT_DIR/$KIT_TREE
	mkdir "$_top" || bp_die "cannot create $_top"
	for _d in $_unfold; do
		mkdir -p "$_top/$_d" || bp_die "cannot create $_top/$_d"
	done
	for _d in . $_unfold; do
		[ -d "$_kt/$_d" ] || continue
		for _e in "$_kt/$_d"/* "$_kt/$_d"/.[!.]*; do
			[ -e "$_e" ] || [ -L "$_e" ] || continue
			_n=$(basename "$_e")
			[ ! -e "$_top/$_d/$_n" ] || continue	# an unfolded directory
			case $_n in
			*.o | *.a | *.tmp | .*.d | .*.cmd | xen-syms* | xen.gz | xen.efi*) continue ;;
			esac
			ln -s "$_e" "$_top/$_d/$_n" || bp_die "cannot populate the scratch tree $_top"
		done
	done
}

# Apply the patches, in order, to copies of the files they touch under $2.
bp_apply() {
	_top=$1 _pf=$2
	mkdir -p "$_pf"
	for _f in $bp_files; do
		if [ -e "$_top/$_f" ]; then
			mkdir -p "$_pf/$(dirname "$_f")"
			cp "$_top/$_f" "$_pf/$_f" || bp_die "cannot copy $_f"
		fi
	done
	while IFS= read -r _p; do
		[ -n "$_p" ] || continue
		# no fuzz: a hunk whose context does not match exactly is refused
		# (only its files of the hypervisor: the others are left out)
		if ! _msg=$(bp_diff "$_p" "$KIT_XEN_DIR" | (cd "$_pf" &&
			patch -p1 -F 0 --batch --forward --no-backup-if-mismatch -r - -s) 2>&1); then
			_msg=$(printf '%s\n' "$_msg" | grep -v '^$' | head -n 1)
			bp_die "$_p: does not apply to the kit's source: ${_msg:-patch failed}"
		fi
	done <<EOF
$bp_patches
EOF
}

# Rebuild objects (one per line in $1) in tree $2 into directory $3, at most
# $bp_jobs at a time. A failure names the object and its first error line.
bp_compile() {
	_objs=$1 _top=$2 _into=$3 _what=$4
	mkdir -p "$_into"
	[ -n "$_objs" ] || return 0
	printf '%s\n' "$_objs" | while IFS= read -r _o; do
		[ -n "$_o" ] || continue
		_c=$(kit_object_cmd "$_o" "$_top") || exit 1
		case $_c in
		*-ffunction-sections*) ;;
		*) _c=$(kit_subst "$_c" " -c " " -ffunction-sections -fdata-sections -c ")
		   : >"$_into/added-flags" ;;
		esac
		_log=$_into/$(printf '%s' "$_o" | tr / _).log
		printf '%s\t%s\t%s\n' "$_o" "$_log" "$_c"
	done >"$_into/jobs" || exit 1
	# shellcheck disable=SC2016 # the script is for the inner sh
	tr '\n' '\0' <"$_into/jobs" | xargs -0 -r -n 1 -P "$bp_jobs" sh -c '
		o=$(printf "%s" "$1" | cut -f 1); log=$(printf "%s" "$1" | cut -f 2)
		cmd=$(printf "%s" "$1" | cut -f 3-)
		sh -c "$cmd" >"$log" 2>&1 || { echo "$o" >>"$log.failed"; exit 0; }' sh
	while IFS="$(printf '\t')" read -r _o _log _c; do
		if [ -f "$_log.failed" ]; then
			_e=$(grep -m 1 -E 'error|Error' "$_log" || head -n 1 "$_log")
			bp_die "$_o: does not compile ($_what): $_e"
		fi
		mkdir -p "$_into/$(dirname "$_o")"
		mv "$_top/$_o" "$_into/$_o" || bp_die "$_o: the $_what build left no object"
	done <"$_into/jobs"
}

# Put the patched files into the scratch tree (links replaced, deleted files removed).
bp_install_patched() {
	_top=$1 _pf=$2
	for _f in $bp_files; do
		rm -f "$_top/$_f"
		if [ -e "$_pf/$_f" ]; then
			mkdir -p "$_top/$(dirname "$_f")"
			cp "$_pf/$_f" "$_top/$_f" || bp_die "cannot install patched $_f"
		fi
	done
}

# The struct, union and enum definitions at file level of C file $1, one line
# each: "KEY<TAB>LINE<TAB>BODY" (KEY "struct NAME", or for an anonymous one
# "struct {} WHAT-FOLLOWS": its typedef or variable name; BODY its text
# without comments, blanks squeezed). Rough C: comments, literals and
# preprocessor lines (but in a type's body) are skipped; a "{" at file level opens a type when the
# text before it (after its last ")", attributes removed) names struct or
# union and holds no "=".
bp_types() {
	awk '
	function emit(   key, t) {
		key = kind " " name
		if (name == "") {
			t = tail; gsub(/[;{}]/, "", t); gsub(/^[ \t]+|[ \t]+$/, "", t)
			key = kind " {} " t
		}
		gsub(/[ \t]+/, " ", body)
		printf "%s\t%d\t%s\n", key, start, body
	}
	function opens(h,   m) {
		gsub(/__attribute__[ \t]*\(\(.*\)\)/, "", h)
		sub(/^.*\)/, "", h)
		if (h !~ /(^|[^A-Za-z0-9_])(struct|union|enum)([^A-Za-z0-9_]|$)/ || h ~ /=/)
			return 0
		kind = "enum"
		if (h ~ /(^|[^A-Za-z0-9_])union([^A-Za-z0-9_]|$)/) kind = "union"
		if (h ~ /(^|[^A-Za-z0-9_])struct([^A-Za-z0-9_]|$)/) kind = "struct"
		m = h; sub(/^.*(struct|union|enum)[ \t]*/, "", m); sub(/[ \t]+$/, "", m)
		name = m ~ /^[A-Za-z_][A-Za-z0-9_]*$/ ? m : ""
		return 1
	}
	function strip(line,   out, tok) {
		out = ""
		while (length(line)) {
			if (incomment) {
				if (!index(line, "*/")) return out
				line = substr(line, index(line, "*/") + 2); incomment = 0; continue
			}
			if (!match(line, /\/\*|\/\/|"([^"\\]|\\.)*"|\047([^\047\\]|\\.)*\047/))
				return out line
			tok = substr(line, RSTART, RLENGTH)
			out = out substr(line, 1, RSTART - 1)
			line = substr(line, RSTART + RLENGTH)
			if (tok == "/*") { incomment = 1; out = out " " }
			else if (tok == "//") return out
			else out = out "\"\""
		}
		return out
	}
	{
		out = strip($0)
		# preprocessor lines with their continuations: part of a type
		# they stand in, else no code
		if (inpp || out ~ /^[ \t]*#/) {
			inpp = out ~ /\\$/
			if (intype == 1) body = body out " "
			else if (depth == 0) head = ""
			next
		}
		n = length(out)
		for (i = 1; i <= n; i++) {
			c = substr(out, i, 1)
			if (intype == 1) body = body c
			if (c == "{") {
				if (depth == 0 && opens(head)) { intype = 1; start = NR; body = ""; tail = "" }
				depth++
			} else if (c == "}") {
				if (depth > 0) depth--
				if (depth == 0) { head = ""; if (intype) intype = 2 }
			} else if (depth == 0 && intype == 2) {
				if (c == ";") { emit(); intype = 0 } else tail = tail c
			} else if (depth == 0) {
				if (c == ";") head = ""; else head = head c
			}
		}
		if (intype == 1) body = body " "
		if (depth == 0) head = head " "
	}' "$1"
}

# A struct or union the running hypervisor holds data of cannot change: live
# data keeps the old layout while patched code would use the new one; an
# enum's existing enumerators keep their values (new ones may follow them).
# Each definition of a touched file (C sources and headers) is compared by
# name between the kit's source and the patched one; new types may be added.
bp_check_types() {
	_top=$1 _pf=$2
	for _f in $bp_files; do
		case $_f in *.c | *.h) ;; *) continue ;; esac
		{ [ -f "$_top/$_f" ] && [ -f "$_pf/$_f" ]; } || continue
		bp_types "$_top/$_f" | cut -f 1,3 >"$bp_tmp/types.orig"
		_bad=$(bp_types "$_pf/$_f" | awk -F '\t' -v orig="$bp_tmp/types.orig" '
			function items(b, a,   n) {
				gsub(/[ }]/, "", b); n = split(b, a, ","); if (n && a[n] == "") n--; return n
			}
			function prefix(o, p,   x, y, n, i) {
				n = items(o, x); if (items(p, y) < n) return 0
				for (i = 1; i <= n; i++) if (x[i] != y[i]) return 0
				return 1
			}
			BEGIN { while ((getline l < orig) > 0) { split(l, f, "\t"); had[f[1]] = f[2]; same[l] = 1 } }
			!($1 in had) || same[$1 "\t" $3] { next }
			/^enum / { if (!prefix(had[$1], $3)) { print $1 " (line " $2 ")\tits enumerators are renumbered or removed: live data holding the old values would change meaning (new ones may be added at the end)"; exit }; next }
			{ print $1 " (line " $2 ")\tits definition changes: live data of the old layout cannot be patched (a payload may add a new type, not change one)"; exit }')
		[ -z "$_bad" ] || bp_die "$_f: $(printf '%s' "$_bad" | tr '\t' ':' | sed 's/:/: /')"
	done
}

# Objects affected by the touched files. C sources and headers of the
# hypervisor only: assembly, build files and new sources are refused; files
# outside it (tools, docs) are left out, saying so.
bp_objects() {
	_x="" _left=""
	for _f in $bp_files; do
		case $_f in
		"$KIT_XEN_DIR"/*.S) bp_die "$_f: an assembly source: the payload builder patches C code only" ;;
		"$KIT_XEN_DIR"/*.c)
			[ -e "$KIT_DIR/$KIT_TREE/$_f" ] ||
				bp_die "$_f: a new source file: a payload cannot add an object to the build"
			_x="$_x $_f" ;;
		"$KIT_XEN_DIR"/*.h) _x="$_x $_f" ;;
		"$KIT_XEN_DIR"/*) bp_die "$_f: not a C source or header: a build change cannot go into a payload" ;;
		*) _left="$_left $_f" ;;
		esac
	done
	# a refusal is one line: the files left out are named in it
	# shellcheck disable=SC2086 # a list of paths without blanks
	[ -n "$_x" ] || bp_die "$(bp_list $_left): not part of the hypervisor ($KIT_XEN_DIR/): the patches touch nothing to patch"
	for _f in $_left; do
		printf '%s: %s: not part of the hypervisor, left out\n' "${XHP_PROG:-xen-hotpatch-build}" "$_f" >&2
	done
	# shellcheck disable=SC2086 # a list of tree paths without blanks
	_objs=$(kit_objects_using $_x) || exit 1
	# shellcheck disable=SC2086
	[ -n "$_objs" ] || bp_die "$(bp_list $_x): no object of the kit is built from it (not part of this hypervisor's configuration)"
	printf '%s\n' "$_objs"
}

# The patch files' names, comma-separated (they hold no comma).
bp_patch_names() {
	printf '%s' "$bp_patches" | while IFS= read -r _p; do
		[ -n "$_p" ] && basename "$_p"
	done | paste -s -d, -
}

# The words given, comma-separated ("a.c, b.h").
bp_list() {
	printf '%s\n' "$@" | paste -s -d, - | sed 's/,/, /g'
}

# The recompiled originals must be the kit's objects (same toolchain, same flags).
bp_check_reproduced() {
	printf '%s\n' "$1" | while IFS= read -r _o; do
		[ -n "$_o" ] || continue
		cmp -s "$2/$_o" "$KIT_DIR/$KIT_TREE/$_o" ||
			bp_die "$_o: rebuilding it here does not reproduce the kit's object: this host's toolchain or environment differs from the kit's"
	done || exit 1
}

# The original objects, into $2. The first two are rebuilt here and must be
# the kit's objects byte for byte (the host's toolchain and environment are
# the kit's); the others are then the kit's own, which saves half of the
# compiling when a header touches many objects. A kit built without
# -ffunction-sections has every original rebuilt with it instead.
bp_originals() {
	_probe=$(printf '%s\n' "$1" | head -n 2)
	bp_compile "$_probe" "$bp_tmp/top" "$2" original
	if [ ! -e "$2/added-flags" ]; then
		bp_check_reproduced "$_probe" "$2"
		printf '%s\n' "$1" | tail -n +3 | while IFS= read -r _o; do
			[ -n "$_o" ] || continue
			mkdir -p "$2/$(dirname "$_o")"
			cp "$KIT_DIR/$KIT_TREE/$_o" "$2/$_o" || bp_die "$_o: cannot copy the kit's object"
		done || exit 1
	else
		bp_compile "$(printf '%s\n' "$1" | tail -n +3)" "$bp_tmp/top" "$2" original
	fi
}

# "orig patched source" triples of the objects whose code changed.
bp_pairs() {
	printf '%s\n' "$1" | while IFS= read -r _o; do
		[ -n "$_o" ] || continue
		if ! cmp -s "$2/$_o" "$3/$_o"; then
			printf '%s\n%s\n%s\n' "$2/$_o" "$3/$_o" "${_o#"$KIT_XEN_DIR"/}"
		fi
	done
}

build_payload() {
	bp_kit="" bp_patches="" bp_name="" bp_depends="" bp_cumulative=0 bp_version=1
	bp_modinfo="" bp_out="" bp_verbose=0
	bp_jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
	bp_lib=${lib:-$(dirname "$0")}
	XHP_BUILD_PAYLOAD_SELF=$bp_lib/build-payload.sh
	bp_parse "$@"
	bp_check_inputs
	bp_start=$(date +%s)
	kit_load "$bp_kit" || exit 1
	for _s in BUG_FRAME:8 ALT_INSTR:14 EXCEPTION_TABLE_ENTRY:8 LIVEPATCH_FUNC:104; do
		_v=""
		eval "_v=\${KIT_SIZE_${_s%:*}}"
		[ "$_v" = "${_s#*:}" ] ||
			bp_die "kit $KIT_DIR: struct size ${_s%:*}=$_v, this builder knows Xen 4.17's ${_s#*:}"
	done
	bp_engine=$(bp_engine)
	bp_files=$(printf '%s' "$bp_patches" | while IFS= read -r _p; do
		[ -n "$_p" ] && bp_diff "$_p"; done | LC_ALL=C sort -u)

	bp_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xen-hotpatch-build.XXXXXX") || bp_die "cannot create a scratch directory"
	if [ -n "${XEN_HOTPATCH_BUILD_KEEP:-}" ]; then
		printf '%s: keeping the scratch directory %s\n' "${XHP_PROG:-xen-hotpatch-build}" "$bp_tmp" >&2
	else
		# shellcheck disable=SC2064 # expand now: the path is fixed
		trap "rm -rf '$bp_tmp'" EXIT
	fi
	trap 'exit 1' HUP INT TERM
	bp_objs=$(bp_objects) || exit 1
	# shellcheck disable=SC2086 # tree paths without blanks
	bp_farm "$bp_tmp/top" $bp_files $bp_objs
	bp_apply "$bp_tmp/top" "$bp_tmp/patched-files"
	bp_check_types "$bp_tmp/top" "$bp_tmp/patched-files"
	bp_note "rebuilding $(printf '%s\n' "$bp_objs" | wc -l) object(s)"
	bp_originals "$bp_objs" "$bp_tmp/orig"
	bp_install_patched "$bp_tmp/top" "$bp_tmp/patched-files"
	bp_compile "$bp_objs" "$bp_tmp/top" "$bp_tmp/patched" patched
	bp_triples=$(bp_pairs "$bp_objs" "$bp_tmp/orig" "$bp_tmp/patched")
	[ -n "$bp_triples" ] ||
		bp_die "$(bp_patch_names | sed 's/,/, /g'): the patches change no object code of the hypervisor: nothing to patch"

	set -- --xen-syms "$KIT_DIR/xen-syms" --xen-id "$XEN_BUILD_ID" --name "$bp_name" \
		-o "$bp_out" --modinfo "version=$bp_version"
	[ "$bp_verbose" = 0 ] || set -- "$@" -v
	[ -z "$bp_depends" ] || set -- "$@" --depends "$bp_depends"
	set -- "$@" --modinfo "patches=$(bp_patch_names)"
	set -- "$@" --modinfo "xen_version=$XEN_VERSION"
	while IFS= read -r _kv; do
		[ -n "$_kv" ] && set -- "$@" --modinfo "$_kv"
	done <<EOF
$bp_modinfo
EOF
	while IFS= read -r _a; do
		set -- "$@" "$_a"
	done <<EOF
$bp_triples
EOF
	"$bp_engine" "$@" >"$bp_tmp/engine.out" || exit "$?"
	sed 's/^/  /' "$bp_tmp/engine.out"
	printf '%s: wrote %s in %ss\n' "${XHP_PROG:-xen-hotpatch-build}" "$bp_out" "$(($(date +%s) - bp_start))"
}
