# shellcheck shell=bash
# tests/lib/minbase.sh: the debootstrap root the deb, boot and realxen tiers
# start from, made once and cached as a tarball; and the Debian mirror the
# host's apt uses (read at run time, never written into the project).
#
#   xhp_mirror [SUITE]            the first apt source URI serving SUITE (bookworm)
#   xhp_minbase CACHE_DIR [SUITE] makes CACHE_DIR/SUITE-minbase.tar if missing
#                                 (locked, written under a temporary name and
#                                 renamed); sets MINBASE_TAR

xhp_mirror() {
	local suite=${1:-bookworm} f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" '
			/^[ \t]*$/ { if (uri != "" && ok) { print uri; exit } uri=""; ok=0; next }
			tolower($1) == "uris:" { uri=$2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok=1 }
			END { if (uri != "" && ok) print uri }' "$f" | head -n 1
	done | head -n 1
	if [ -f /etc/apt/sources.list ]; then
		awk -v suite="$suite" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) == suite) { print $i; exit } } }' /etc/apt/sources.list
	fi
}

xhp_minbase() {
	local dir=$1 suite=${2:-bookworm} mirror tmp fd rc=0
	MINBASE_TAR=$dir/$suite-minbase.tar
	mkdir -p "$dir"
	exec {fd}>"$dir/.$suite-minbase.lock"
	flock "$fd"
	if [ ! -s "$MINBASE_TAR" ]; then
		mirror=$(xhp_mirror "$suite" | head -n 1)
		if [ -z "$mirror" ]; then
			echo "minbase: no apt source for $suite on this host" >&2
			rc=1
		else
			tmp=$(mktemp -d "$dir/.debootstrap.XXXXXX")
			echo "minbase: debootstrap --variant=minbase $suite (once; cached as $MINBASE_TAR)"
			if debootstrap --variant=minbase "$suite" "$tmp/root" "$mirror" >"$tmp.log" 2>&1; then
				tar -C "$tmp/root" -cf "$MINBASE_TAR.tmp.$$" . &&
					mv "$MINBASE_TAR.tmp.$$" "$MINBASE_TAR" || rc=1
			else
				echo "minbase: debootstrap failed; last lines of its log:" >&2
				tail -n 20 "$tmp.log" >&2
				rc=1
			fi
			rm -rf "$tmp" "$tmp.log" "$MINBASE_TAR.tmp.$$"
		fi
	fi
	exec {fd}>&-
	return "$rc"
}
