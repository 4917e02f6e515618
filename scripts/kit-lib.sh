# shellcheck shell=sh
# kit-lib.sh: reading xen-hotpatch kits; shared by `xen-hotpatch-build kit`
# (which writes them) and `xen-hotpatch-build payload` (which uses them).
# POSIX sh. Source it, then:
#
#   kit_load DIR         kit_read DIR, then kit_check_host: what a payload build calls
#   kit_read DIR         check DIR/kit.env (format, required keys), DIR/xen-syms (its
#                        build-id must be XEN_BUILD_ID) and the tree; set the kit's
#                        variables (README.md "Kit format") and KIT_DIR (absolute)
#   kit_check_host       the host's compiler and binutils are the kit's (command, first
#                        line of --version, package version when the kit names one)
#   kit_object_cmd OBJ [TOP]
#                        print one sh command line that rebuilds OBJ (a path under the
#                        tree, e.g. xen/common/kernel.o) exactly as the hypervisor build
#                        did, in the copy of the tree at TOP (default: the kit's own
#                        tree); it starts with `cd TOP/xen &&`
#   kit_objects_using FILE...
#                        the objects (tree paths, sorted) built from FILE or including
#                        it (FILE: a tree path as in a -p1 patch, e.g. xen/common/kernel.c
#                        or xen/include/xen/sched.h); *.init.o stand for their *.o
#   kit_objects          every object with a recorded build command
#   kit_make TOP ARG...  make in TOP/xen with the kit's make variables and environment
#   kit_build_id ELF     print the GNU build-id of ELF
#   kit_env_put FILE KEY VALUE
#                        append KEY='VALUE' to a kit.env (the one quoting rule)
#
# Every function returns 0, or prints one line "PROG: ..." on stderr and returns 1
# (PROG is $XHP_PROG, default xen-hotpatch-build). Kits are trusted input as far
# as their tree goes (its objects are compiled and linked), but kit.env is
# checked line by line before it is sourced: KEY='value' and nothing else.

XHP_KIT_FORMAT_SUPPORTED=1

# What every kit.env has (values checked by kit_read).
KIT_REQUIRED_KEYS="XHP_KIT_FORMAT XEN_VERSION XEN_BUILD_ID KIT_ORIGIN KIT_ARCH KIT_TREE
KIT_XEN_DIR KIT_BUILD_DIR KIT_CC KIT_LD KIT_OBJCOPY KIT_CC_VERSION KIT_LD_VERSION
KIT_MAKE_VARS KIT_ENV_VARS KIT_SIZE_BUG_FRAME KIT_SIZE_ALT_INSTR
KIT_SIZE_EXCEPTION_TABLE_ENTRY KIT_SIZE_LIVEPATCH_FUNC"

kit_err() {
	printf '%s: %s\n' "${XHP_PROG:-xen-hotpatch-build}" "$*" >&2
	return 1
}

# $1 quoted for sh: 'it'\''s'
kit_shquote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

kit_env_put() {
	case $2 in
	[A-Z]*) ;;
	*) kit_err "kit.env key '$2' is not a variable name"; return 1 ;;
	esac
	case $3 in
	*'
'*) kit_err "kit.env $2: a value holds no newline"; return 1 ;;
	esac
	printf '%s=%s\n' "$2" "$(kit_shquote "$3")" >> "$1"
}

kit_build_id() {
	[ -f "$1" ] || { kit_err "$1: no such file"; return 1; }
	_id=$(LC_ALL=C readelf -n "$1" 2>/dev/null | sed -n 's/^[[:space:]]*Build ID: \([0-9a-f]*\)$/\1/p' | head -n 1)
	[ -n "$_id" ] || { kit_err "$1: no GNU build-id note"; return 1; }
	printf '%s\n' "$_id"
}

# Unset what a previous kit_read set, so that keys absent from this kit stay empty.
kit_forget() {
	for _k in $(set | sed -n 's/^\(KIT_[A-Z0-9_]*\)=.*/\1/p'); do
		case $_k in
		KIT_REQUIRED_KEYS) ;;
		*) unset "$_k" ;;
		esac
	done
	unset XHP_KIT_FORMAT XEN_VERSION XEN_BUILD_ID XEN_UPSTREAM_VERSION
}

kit_read() {
	[ -d "$1" ] || { kit_err "kit $1: no such directory"; return 1; }
	_dir=$(cd "$1" && pwd) || return 1
	_env=$_dir/kit.env
	[ -f "$_env" ] || { kit_err "kit $1: no kit.env (not a kit)"; return 1; }
	_q="'"
	_bad=$(grep -vnxE "[A-Z][A-Z0-9_]*=${_q}([^${_q}]|${_q}\\\\${_q}${_q})*${_q}|#.*" "$_env" | grep -v '^[0-9]*:$' | head -n 1)
	[ -z "$_bad" ] || { kit_err "kit $1: kit.env line ${_bad%%:*} is not KEY='value'"; return 1; }
	kit_forget
	# shellcheck source=/dev/null # checked above: KEY='value' lines only
	. "$_env"
	KIT_DIR=$_dir
	[ "${XHP_KIT_FORMAT:-}" = "$XHP_KIT_FORMAT_SUPPORTED" ] ||
		{ kit_err "kit $1: format '${XHP_KIT_FORMAT:-}', this tool reads format $XHP_KIT_FORMAT_SUPPORTED"; return 1; }
	for _k in $KIT_REQUIRED_KEYS; do
		eval "_v=\${$_k:-}"
		[ -n "$_v" ] || { kit_err "kit $1: kit.env has no $_k"; return 1; }
	done
	case $XEN_BUILD_ID in
	*[!0-9a-f]*) kit_err "kit $1: XEN_BUILD_ID '$XEN_BUILD_ID' is not lower-case hex"; return 1 ;;
	esac
	case $KIT_TREE/$KIT_XEN_DIR in
	/* | *..*) kit_err "kit $1: KIT_TREE/KIT_XEN_DIR must be relative paths inside the kit"; return 1 ;;
	esac
	[ -d "$_dir/$KIT_TREE/$KIT_XEN_DIR" ] ||
		{ kit_err "kit $1: no source tree $KIT_TREE/$KIT_XEN_DIR"; return 1; }
	_id=$(kit_build_id "$_dir/xen-syms") || { kit_err "kit $1: xen-syms is missing or has no build-id"; return 1; }
	[ "$_id" = "$XEN_BUILD_ID" ] ||
		{ kit_err "kit $1: xen-syms has build-id $_id, kit.env says $XEN_BUILD_ID"; return 1; }
}

# The version of package $2 as package manager $1 (dpkg|rpm) has it installed.
kit_pkg_version() {
	case $1 in
	dpkg) dpkg-query -W -f '${Version}' "$2" 2>/dev/null ;;
	rpm) rpm -q --qf '%{EVR}' "$2" 2>/dev/null ;;
	*) return 1 ;;
	esac
}

# kit_check_tool WHAT COMMAND WANTED-FIRST-LINE
kit_check_tool() {
	command -v "$2" >/dev/null 2>&1 ||
		{ kit_err "kit $KIT_DIR: $1 $2 not found on this host (the kit was built with: $3)"; return 1; }
	_have=$(LC_ALL=C "$2" --version 2>/dev/null | head -n 1)
	[ "$_have" = "$3" ] ||
		{ kit_err "kit $KIT_DIR: this host's $1 is '$_have', the kit was built with '$3'"; return 1; }
}

kit_check_host() {
	kit_check_tool compiler "$KIT_CC" "$KIT_CC_VERSION" || return 1
	kit_check_tool linker "$KIT_LD" "$KIT_LD_VERSION" || return 1
	[ -n "${KIT_TOOLCHAIN_PACKAGER:-}" ] || return 0
	command -v "$KIT_TOOLCHAIN_PACKAGER" >/dev/null 2>&1 || command -v "$KIT_TOOLCHAIN_PACKAGER-query" >/dev/null 2>&1 || return 0
	for _p in CC BINUTILS; do
		eval "_name=\${KIT_${_p}_PACKAGE:-} _want=\${KIT_${_p}_PACKAGE_VERSION:-}"
		[ -n "$_name" ] || continue
		_have=$(kit_pkg_version "$KIT_TOOLCHAIN_PACKAGER" "$_name") || _have=""
		[ "$_have" = "$_want" ] ||
			{ kit_err "kit $KIT_DIR: package $_name is ${_have:-not installed} here, the kit was built with $_want"; return 1; }
	done
}

kit_load() {
	kit_read "$1" && kit_check_host
}

# Replace every occurrence of $2 in $1 by $3 (no pattern characters).
kit_subst() {
	awk -v s="$1" -v from="$2" -v to="$3" 'BEGIN {
		out = ""
		while ((i = index(s, from)) > 0) { out = out substr(s, 1, i - 1) to; s = substr(s, i + length(from)) }
		print out s }'
}

# The command recorded in a Kbuild .cmd file ($1), make's escaping undone
# ($$ is $, $(pound) is #).
kit_cmd_line() {
	sed -n '1s/^cmd_[^ ]* := //p' "$1" | awk '{
		out = ""; s = $0
		while ((i = index(s, "$")) > 0) {
			out = out substr(s, 1, i - 1)
			if (substr(s, i, 2) == "$$") { out = out "$"; s = substr(s, i + 2) }
			else if (substr(s, i, 8) == "$(pound)") { out = out "#"; s = substr(s, i + 8) }
			else { out = out "$"; s = substr(s, i + 1) }
		}
		print out s }'
}

# The command building one object REL (relative to the xen directory), in the
# tree whose xen directory is $2 (where symlinked sources are resolved).
kit_one_cmd() {
	_rel=$1
	_cf=$KIT_DIR/$KIT_TREE/$KIT_XEN_DIR/$(dirname "$_rel")/.$(basename "$_rel").cmd
	[ -f "$_cf" ] || { kit_err "kit $KIT_DIR: no recorded build command for $KIT_XEN_DIR/$_rel"; return 1; }
	_c=$(kit_cmd_line "$_cf")
	[ -n "$_c" ] || { kit_err "kit $KIT_DIR: $_cf holds no command"; return 1; }
	printf '%s' "$_c"
	# CONFIG_ENFORCE_UNIQUE_SYMBOLS: C objects are compiled to .NAME.o.tmp, then
	# their STT_FILE symbol is renamed from the source's base name to its real
	# path under xen/ (Xen's Rules.mk, cmd_objcopy_fix_sym); .cmd files do not
	# record that step.
	_tmp=$(dirname "$_rel")/.$(basename "$_rel").tmp
	case " $_c " in
	*" -o $_tmp "*)
		_src=$(sed -n "s|^source_$_rel := ||p" "$_cf")
		[ -n "$_src" ] || { kit_err "kit $KIT_DIR: $_cf names no source"; return 1; }
		if ! _real=$(cd "$2" && readlink -f "$_src") || ! _xtop=$(cd "$2" && pwd -P); then
			kit_err "kit $KIT_DIR: cannot resolve $_src"
			return 1
		fi
		printf ' && %s --redefine-sym %s=%s %s %s && rm -f %s' "$KIT_OBJCOPY" \
			"$(basename "$_src")" "${_real#"$_xtop"/}" "$_tmp" "$_rel" "$_tmp"
		;;
	esac
}

kit_object_cmd() {
	_obj=$1
	_top=${2:-$KIT_DIR/$KIT_TREE}
	case $_obj in
	/* | *..* | *' '*) kit_err "object $_obj: give a path inside the tree, e.g. $KIT_XEN_DIR/common/kernel.o"; return 1 ;;
	"$KIT_XEN_DIR"/*.o) ;;
	*) kit_err "object $_obj: not an object under $KIT_XEN_DIR/"; return 1 ;;
	esac
	_r=${_obj#"$KIT_XEN_DIR"/}
	_xd=$KIT_DIR/$KIT_TREE/$KIT_XEN_DIR
	_out="cd $(kit_shquote "$_top/$KIT_XEN_DIR") && "
	case $_r in
	*.init.o)
		# X.init.o is X.o with its sections renamed: build X.o first
		if [ -f "$_xd/$(dirname "$_r")/.$(basename "$_r" .init.o).o.cmd" ]; then
			_c=$(kit_one_cmd "${_r%.init.o}.o" "$_xd") || return 1
			_out="$_out$_c && "
		fi
		;;
	esac
	_c=$(kit_one_cmd "$_r" "$_xd") || return 1
	_out=$_out$_c
	kit_subst "$_out" "$KIT_BUILD_DIR" "$_top"
}

# The .cmd files of objects, one per line, relative to the xen directory.
kit_cmd_files() {
	(cd "$KIT_DIR/$KIT_TREE/$KIT_XEN_DIR" && find . -name '.*.o.cmd' -type f | sed 's|^\./||' | LC_ALL=C sort)
}

kit_objects() {
	kit_cmd_files | sed -e 's|\(.*/\)\{0,1\}\.\([^/]*\)\.cmd$|\1\2|' -e "s|^|$KIT_XEN_DIR/|"
}

kit_objects_using() {
	_xd=$KIT_DIR/$KIT_TREE/$KIT_XEN_DIR
	_want=""
	for _f in "$@"; do
		case $_f in
		"$KIT_XEN_DIR"/*) _want="$_want ${_f#"$KIT_XEN_DIR"/}" ;;
		*) kit_err "$_f: not a file under $KIT_XEN_DIR/ of the tree"; return 1 ;;
		esac
	done
	# sources reached through symlinks (x86's efi/*.c are links to common/efi/)
	_links=$(cd "$_xd" && find . -type l -name '*.[chS]' | sed 's|^\./||' | while read -r _l; do
		_t=$(readlink -f "$_l") && printf '%s %s\n' "$_l" "${_t#"$(pwd -P)"/}"
	done)
	for _w in $_want; do
		_alias=$(printf '%s\n' "$_links" | awk -v w="$_w" '$2 == w { print $1 }')
		_want="$_want $_alias"
	done
	# shellcheck disable=SC2016 # an awk program
	# paths in .cmd files may go through "..": common/compat/kernel.o lists
	# common/compat/../kernel.c, which is common/kernel.c
	kit_cmd_files | (cd "$_xd" && xargs awk -v want="$_want" '
		function norm(p,   n, i, k, part, out) {
			n = split(p, part, "/"); k = 0
			for (i = 1; i <= n; i++) {
				if (part[i] == "." || part[i] == "") continue
				if (part[i] == ".." && k > 0) { k--; continue }
				out[++k] = part[i]
			}
			p = out[1]; for (i = 2; i <= k; i++) p = p "/" out[i]
			return p
		}
		BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) wanted[w[i]] = 1 }
		FNR == 1 { obj = substr($1, 5); indeps = 0 }
		/^source_/ { if (norm($3) in wanted) print obj }
		/^deps_/ { indeps = 1; next }
		indeps && /^ / { if (norm($1) in wanted) print obj; next }
		indeps { indeps = 0 }') |
	while read -r _o; do
		# an X.o that is only the input of X.init.o stands for X.init.o
		if [ -f "$_xd/$(dirname "$_o")/.$(basename "$_o" .o).init.o.cmd" ]; then
			_o=${_o%.o}.init.o
		fi
		printf '%s/%s\n' "$KIT_XEN_DIR" "$_o"
	done | LC_ALL=C sort -u
}

# kit_make TOP ARG...: make -C TOP/xen with the kit's make variables (KIT_MAKE_VARS,
# values KIT_MAKE_<VAR>) and environment (KIT_ENV_VARS, values KIT_ENV_<VAR>),
# the kit's build directory replaced by TOP in both.
kit_make() {
	_top=$1
	shift
	(
		for _v in $KIT_ENV_VARS; do
			eval "_val=\${KIT_ENV_$_v-}"
			_val=$(kit_subst "$_val" "$KIT_BUILD_DIR" "$_top")
			eval "$_v=\$_val"
			export "${_v?}"
		done
		for _v in $KIT_MAKE_VARS; do
			eval "_val=\${KIT_MAKE_$_v-}"
			set -- "$@" "$_v=$(kit_subst "$_val" "$KIT_BUILD_DIR" "$_top")"
		done
		cd "$_top" && make -C "$KIT_XEN_DIR" "$@"
	)
}
