# shellcheck shell=bash
# Host side of the realbuild tier (tests/realbuild/run.sh), sourced after
# tests/realxen/lib.sh: Debian's 4.17.5+72 hypervisor, its kit, Xen's own
# livepatch test payloads built from the kit's tree, and the check that a NOP
# patch fits the code it patches.
#
#   rb_hypervisor        apt-get download of xen-hypervisor-4.17-amd64=$RB_XEN_VER
#                        (cached), gunzipped; sets RX_XEN_ELF, RX_XEN_ID
#   rb_kit               the kit for $RX_XEN_ID under build/cache/kits (made with
#                        `xen-hotpatch-build kit --debian` when missing and the
#                        builder is there); loaded with kit-lib.sh; sets KIT_*
#   rb_xen_tests OUT     `make tests` in a copy of the kit's tree: Xen's
#                        xen/test/livepatch payloads for exactly this build, plus
#                        xen_nop_fit (below), into OUT (cached per build-id)
#   rb_nop_fit SYMS P    does every NOP entry of payload P end on an instruction
#                        boundary of the code it patches in SYMS (xen-syms)?
#                        prints one line per NOP entry; 0 fit, 1 unfit, 2 unknown
#
# xen_nop.c NOPs "everything but the last instruction" of xen_minor_version,
# assuming that instruction is a one-byte `ret` (new_size = size - 1). Debian
# builds with -mfunction-return=thunk-extern: the function ends in a five-byte
# `jmp __x86_return_thunk`, the NOP stops inside it, and Xen executes the jump's
# last byte as an instruction (it double-faults). xen_nop_fit is the same test
# source with new_size = the offset of the function's last instruction, read
# from xen-syms: what the test means, on this build.

RB_XEN_VER=${RB_XEN_VER:-4.17.5+72-g01140da4e8-1}
RB_CACHE=$RX_TOP/build/cache/realbuild
RB_KITS=$RX_TOP/build/cache/kits
# Bump when the way the test payloads are built changes (invalidates the cache).
RB_TESTS_REV=1

rb_say() { printf 'realbuild: %s\n' "$*"; }
rb_die() { printf 'realbuild: error: %s\n' "$*" >&2; return 1; }

rb_hypervisor() {
	local deb=$RB_CACHE/xen-hypervisor-4.17-amd64_${RB_XEN_VER}_amd64.deb
	mkdir -p "$RB_CACHE"
	if [ ! -s "$deb" ]; then
		rb_say "fetching xen-hypervisor-4.17-amd64 $RB_XEN_VER with apt-get download"
		(cd "$RB_CACHE" && rx_apt download "xen-hypervisor-4.17-amd64=$RB_XEN_VER") \
			>"$RB_CACHE/download.log" 2>&1 ||
			{ tail -n 5 "$RB_CACHE/download.log"; rb_die "apt-get download of the $RB_XEN_VER hypervisor failed"; return 1; }
	fi
	rx_xen_image "$deb" "$RB_CACHE/xen-$RB_XEN_VER.elf"
}

# The kit: build/cache/kits/<build-id>, made once by `xen-hotpatch-build kit
# --debian` through tests/kit/lib.sh (the kit tier's cache) when that is there.
rb_kit() {
	local kit=$RB_KITS/$RX_XEN_ID
	if [ -f "$RX_TOP/tests/kit/lib.sh" ]; then
		# shellcheck disable=SC2016 # expanded by the inner shell
		kit=$(rb_kit_lib 'kit_test_debian "$1" >&2 && echo "$KIT"' "$RB_XEN_VER") ||
			{ rb_die "xen-hotpatch-build kit --debian $RB_XEN_VER failed (tests/kit/lib.sh)"; return 1; }
	elif [ ! -f "$kit/kit.env" ]; then
		rb_die "no kit at ${kit#"$RX_TOP"/} and no kit builder on this branch (tests/kit/lib.sh)"
		return 1
	fi
	# shellcheck source=scripts/kit-lib.sh
	. "$RX_TOP/scripts/kit-lib.sh"
	XHP_PROG=realbuild kit_load "$kit"
}

# rb_kit_lib SCRIPT ARG...: bash -c SCRIPT with tests/kit/lib.sh sourced (in a
# shell of its own: kit-lib.sh forgets every KIT_* variable when it loads a kit)
rb_kit_lib() {
	local script=$1
	shift
	XHP_TOP=$RX_TOP bash -c ". \"\$XHP_TOP/tests/kit/lib.sh\" && $script" rb-kit "$@"
}

# rb_insns SYMS ADDR SIZE: the offsets of the instructions in [ADDR, ADDR+SIZE)
# of SYMS, one per line (ADDR a bash integer; 64-bit arithmetic stays in bash:
# awk's numbers are doubles)
rb_insns() {
	local a
	objdump -d --no-show-raw-insn --start-address="$(printf '0x%x' "$2")" \
		--stop-address="$(printf '0x%x' $(($2 + $3)))" "$1" |
		sed -n 's/^ *\([0-9a-f]*\):\t.*/\1/p' | while read -r a; do echo $((16#$a - $2)); done
}

# rb_sym SYMS NAME: "ADDR SIZE" of the function NAME (bash integers)
rb_sym() {
	local a s
	read -r a s < <(nm -S "$1" | awk -v f="$2" '$4 == f { print $1, $2; exit }')
	[ -n "$a" ] && echo "$((16#$a)) $((16#${s:-0}))"
}

# rb_last_insn SYMS FUNC: offset of the last instruction of FUNC (its nm size)
rb_last_insn() {
	local a s
	read -r a s < <(rb_sym "$1" "$2")
	[ -n "$a" ] || return 1
	rb_insns "$1" "$a" "$s" | tail -n 1
}

rb_xen_tests() {
	local out=$1 top=$RX_WORK/xtree key fit
	key=$(printf '%s %s\n%s' "$RB_TESTS_REV" "$XEN_BUILD_ID" "$(declare -f rb_xen_tests rb_last_insn)" | sha1sum | cut -c1-12)
	if [ -f "$RB_CACHE/xen-tests-$key/.complete" ]; then
		rm -rf "$out"
		cp -r "$RB_CACHE/xen-tests-$key" "$out"
		return 0
	fi
	fit=$(rb_last_insn "$KIT_DIR/xen-syms" xen_minor_version) ||
		{ rb_die "no xen_minor_version in the kit's xen-syms"; return 1; }
	rm -rf "$top"
	cp -a "$KIT_DIR/$KIT_TREE" "$top"
	local t=$top/$KIT_XEN_DIR/test/livepatch
	# xen_nop_fit: xen_nop.c with new_size = the last instruction's offset
	{
		printf '#define MINOR_VERSION_FIT_SZ %s\n' "$fit"
		sed 's/MINOR_VERSION_SZ-1/MINOR_VERSION_FIT_SZ/' "$t/xen_nop.c"
	} >"$t/xen_nop_fit.c"
	# its rules, before the Makefile turns extra-y into targets
	# shellcheck disable=SC2016 # make's $(obj), not the shell's
	sed -i '/^quiet_cmd_livepatch/i \
extra-y += xen_nop_fit.livepatch\
xen_nop_fit-objs := xen_nop_fit.o note.o xen_note.o\
$(obj)/xen_nop_fit.o: $(obj)/config.h\
' "$t/Makefile"
	grep -q '^xen_nop_fit-objs' "$t/Makefile" || { rb_die "no quiet_cmd_livepatch in $t/Makefile"; return 1; }
	kit_make "$top" tests >"$RX_WORK/xen-tests.log" 2>&1 ||
		{ tail -n 5 "$RX_WORK/xen-tests.log"; rb_die "make tests in a copy of the kit's tree failed (${RX_WORK#"$RX_TOP"/}/xen-tests.log)"; return 1; }
	rm -rf "$out" "$RB_CACHE/xen-tests-$key"
	mkdir -p "$out"
	cp "$t"/*.livepatch "$out/"
	rm -rf "$top" "$RB_CACHE"/xen-tests-*
	cp -r "$out" "$RB_CACHE/xen-tests-$key"
	touch "$RB_CACHE/xen-tests-$key/.complete"
}

# ---- the dom0 disk ----------------------------------------------------------------

# rb_image PKG IMG [DIR...]: the dom0 disk: the real-Xen tier's base root, the
# project's .debs (make deb, built in PKG) installed with apt, stages.sh as
# /xhp-rx/custom.sh, Xen's test payloads ($RX_PAYLOADS) in /xhp-rx/payloads,
# each DIR copied under /xhp-rx/, /xhp-rx/config; the dracut initramfs
# ($RX_WORK/initrd.img, with the project's module).
rb_image() {
	local pkg=$1 img=$2 root=$RX_WORK/root d mods=""
	shift 2
	rx_proj_debs "$pkg" >"$pkg/debs.log" 2>&1 ||
		{ tail -n 3 "$pkg/debs.log"; rb_die "make deb failed"; return 1; }
	rx_root_init "$root" || { rb_die "could not unpack the dom0 base"; return 1; }
	rx_root_proj_debs "$root" "$pkg/root-debs.log" ||
		{ tail -n 3 "$pkg/root-debs.log"; rb_die "apt-get install of the project's .debs in the dom0 root failed"; return 1; }
	install -m 0644 "$RX_TOP/tests/realbuild/stages.sh" "$root/xhp-rx/custom.sh"
	for d; do
		cp -r "$d" "$root/xhp-rx/"
	done
	printf 'RX_XEN_ID=%s\nRX_MODE=deb\nRB_RPM_ID=%s\n' "$RX_XEN_ID" "${RB_RPM_ID:-}" >"$root/xhp-rx/config"
	[ ! -d "$root/usr/lib/dracut/modules.d/95xen-hotpatch" ] || mods=xen-hotpatch
	rx_initrd "$root" "$RX_WORK/initrd.img" $mods || { rb_die "dracut failed"; return 1; }
	rx_disk "$root" "$img" || { rb_die "mke2fs -d failed"; return 1; }
	rm -rf "$root"
}

# ---- does a NOP patch fit? ------------------------------------------------------

# rb_u LE-HEX-BYTES...: the little-endian number of the bytes given
rb_u() {
	local v="" b
	for b in "$@"; do v=$b$v; done
	echo $((16#${v:-0}))
}

# rb_reloc_at OFFSET: "SYMBOL ADDEND" of the relocation of .livepatch.funcs at
# OFFSET (from $RB_RELOCS, readelf -rW lines of that section), or nothing.
rb_reloc_at() {
	local off sym sign add
	while read -r off _ _ _ sym sign add; do
		if [ -z "$off" ] || [ $((16#$off)) != "$1" ]; then
			continue
		fi
		case $sign in
		+) echo "$sym $((16#$add))" ;;
		-) echo "$sym -$((16#$add))" ;;
		*) echo "$sym 0" ;;
		esac
		return
	done <<<"$RB_RELOCS"
}

# rb_cstring PAYLOAD SYMBOL ADDEND: the NUL-terminated string at SYMBOL+ADDEND
rb_cstring() {
	local sec val tmp
	read -r sec val < <(objdump -t "$1" | awk -v s="$2" '$NF == s { print $(NF - 2), $1; exit }')
	[ -n "$sec" ] || return 1
	tmp=$(mktemp)
	objcopy --dump-section "$sec=$tmp" "$1" /dev/null 2>/dev/null
	tail -c +$((16#$val + $3 + 1)) "$tmp" | tr '\0' '\n' | head -n 1
	rm -f "$tmp"
}

# rb_addr SYMS NAME: the address of NAME in SYMS (bash integer), or nothing
rb_addr() {
	local a
	a=$(nm "$1" | awk -v s="$2" '$3 == s { print $1; exit }')
	[ -n "$a" ] && echo $((16#$a))
}

rb_nop_fit() {
	local syms=$1 pl=$2 tmp bytes n i o rel old name new_size old_size start bounds at insn hex rc=0
	tmp=$(mktemp)
	if ! objcopy --dump-section ".livepatch.funcs=$tmp" "$pl" /dev/null 2>/dev/null; then
		rm -f "$tmp"
		echo "no .livepatch.funcs: nothing to check"
		return 0
	fi
	read -r -a bytes < <(od -An -tx1 -v "$tmp" | tr '\n' ' ')
	rm -f "$tmp"
	RB_RELOCS=$(readelf -rW "$pl" | awk -v q="'" '/^Relocation section/ { on = ($3 == q ".rela.livepatch.funcs" q); next } on && /^[0-9a-f]+ /')
	n=$((${#bytes[@]} / 104))
	for ((i = 0; i < n; i++)); do
		o=$((i * 104))
		# a NOP entry: new_addr 0, and no relocation gives it one
		[ -z "$(rb_reloc_at $((o + 8)))" ] || continue
		[ "$(rb_u "${bytes[@]:o+8:8}")" = 0 ] || continue
		new_size=$(rb_u "${bytes[@]:o+24:4}")
		old_size=$(rb_u "${bytes[@]:o+28:4}")
		rel=$(rb_reloc_at $((o + 16)))
		old=""
		if [ -n "$rel" ]; then
			old=$(rb_addr "$syms" "${rel% *}") && old=$((old + ${rel#* }))
		else
			old=$(rb_u "${bytes[@]:o+16:8}")
		fi
		if [ "${old:-0}" = 0 ]; then
			rel=$(rb_reloc_at "$o")
			name=""
			[ -z "$rel" ] || name=$(rb_cstring "$pl" "${rel% *}" "${rel#* }")
			old=$([ -n "$name" ] && rb_addr "$syms" "$name")
		fi
		if [ "${old:-0}" = 0 ]; then
			echo "entry $i: cannot find the code it patches in $syms"
			rc=2
			continue
		fi
		hex=$(printf '%016x' "$old")
		name=$(nm "$syms" | awk -v a="$hex" '$1 == a && ($2 == "T" || $2 == "t") { print $3; exit }')
		name=${name:-0x$hex}
		# Xen starts the NOP after an ENDBR64 (patch_offset 4)
		start=0
		! objdump -d --start-address="0x$hex" --stop-address="$(printf '0x%x' $((old + 4)))" "$syms" |
			grep -q endbr64 || start=4
		bounds=$(rb_insns "$syms" "$old" "$old_size")
		if grep -qx "$new_size" <<<"$bounds" || [ "$new_size" = "$old_size" ]; then
			echo "entry $i: NOP of $name+$start..+$new_size ($((new_size - start)) bytes) ends on an instruction boundary: fit"
			continue
		fi
		at=$(awk -v e="$new_size" '$1 < e { a = $1 } END { print a }' <<<"$bounds")
		insn=$(objdump -d --start-address="$(printf '0x%x' $((old + at)))" \
			--stop-address="$(printf '0x%x' $((old + at + 16)))" "$syms" |
			sed -n 's/^ *[0-9a-f]*:\t[0-9a-f ]*\t//p' | head -n 1 | tr -s ' \t' ' ')
		echo "entry $i: NOP of $name+$start..+$new_size ($((new_size - start)) bytes) ends inside the instruction at +$at ($insn): not fit to apply on this build, Xen would execute the rest of that instruction"
		rc=1
	done
	return $rc
}

# ---- payloads built from source patches (xen-hotpatch-build payload) -------------

# rb_built OUT: the payloads tests/builder/make-payloads.sh builds from the
# patches of tests/builder/patches/ with the kit, and its expect.tsv (what dom0
# sees once each is applied), into OUT; and OUT/refusals: for each patch the
# builder must refuse, "NAME EXIT FILE-LEFT" and its words. Cached per kit and
# per content of the patches and the builder.
rb_built() {
	local out=$1 key tmp r rc
	key=$( {
		echo "$XEN_BUILD_ID"
		cat "$RX_TOP"/tests/builder/make-payloads.sh "$RX_TOP"/tests/builder/patches/*.patch \
			"$RX_TOP"/scripts/build-payload.sh "$RX_TOP"/scripts/kit-lib.sh "$RX_TOP"/src/builder/*.[ch]
		declare -f rb_built
	} | sha1sum | cut -c1-12)
	if [ ! -f "$RB_CACHE/built-$key/.complete" ]; then
		tmp=$RB_CACHE/built-$key.tmp
		rm -rf "$tmp"
		mkdir -p "$tmp"
		"$RX_TOP/tests/builder/make-payloads.sh" -o "$tmp" --kit "$KIT_DIR" >"$RX_WORK/built.log" 2>&1 ||
			{ tail -n 5 "$RX_WORK/built.log"; rb_die "tests/builder/make-payloads.sh failed (${RX_WORK#"$RX_TOP"/}/built.log)"; return 1; }
		for r in "$RX_TOP"/tests/builder/patches/refuse-*.patch; do
			r=${r##*/}
			r=${r%.patch}
			"$RX_TOP/scripts/xen-hotpatch-build" payload --kit "$KIT_DIR" --name "rb-$r" \
				--patch "$RX_TOP/tests/builder/patches/$r.patch" -o "$tmp/rb-$r.livepatch" >"$tmp/$r.out" 2>&1
			rc=$?
			printf '%s %s %s %s\n' "$r" "$rc" "$([ -e "$tmp/rb-$r.livepatch" ] && echo left || echo none)" \
				"$(tr '\n' '|' <"$tmp/$r.out")" >>"$tmp/refusals"
			rm -f "$tmp/$r.out" "$tmp/rb-$r.livepatch"
		done
		for r in "$RB_CACHE"/built-*; do
			[ "$r" = "$tmp" ] || rm -rf "$r"
		done
		touch "$tmp/.complete"
		mv "$tmp" "$RB_CACHE/built-$key"
	fi
	rm -rf "$out"
	cp -r "$RB_CACHE/built-$key" "$out"
}

# rb_built_debs BUILT DIR: the payload packages (xen-hotpatch-mkpkg --deb) in
# two flat apt repositories: DIR/rb-repo1 holds xen-hotpatch-rb-X 1 for each
# built payload xhp-X but the cumulative one (xen-hotpatch-rb-compiled-by's
# payload stacks on xen-hotpatch-rb-extra's); DIR/rb-repo2 the same plus the
# vendor's cumulative update: xen-hotpatch-rb-extra 2 (xhp-cumulative),
# renaming xen-hotpatch-rb-compiled-by away. Output in DIR/built-debs.log.
rb_built_debs() {
	local b=$1 d=$2 f p
	rm -rf "$d/rb-repo1" "$d/rb-repo2"
	{
		for f in "$b"/xhp-*.livepatch; do
			p=$(basename "$f" .livepatch)
			[ "$p" = xhp-cumulative ] && continue
			rx_mkpkg deb "$d/rb-repo1" "xen-hotpatch-rb-${p#xhp-}" 1 "$f" || return 1
		done
		cp -r "$d/rb-repo1" "$d/rb-repo2" &&
		rx_mkpkg deb "$d/rb-repo2" xen-hotpatch-rb-extra 2 --obsoletes xen-hotpatch-rb-compiled-by \
			"$b/xhp-cumulative.livepatch" &&
		(cd "$d/rb-repo1" && dpkg-scanpackages . >Packages 2>/dev/null) &&
		(cd "$d/rb-repo2" && dpkg-scanpackages . >Packages 2>/dev/null)
	} >"$d/built-debs.log" 2>&1
}

# ---- the hypervisor spec/xen-livepatch.spec.in builds -------------------------------

# rb_rpm_xen OUT: the xen-livepatch RPM and its kit subpackage (tests/kit/lib.sh's
# kit_test_xen_rpm: `make xen-livepatch-rpm`, cached); its hypervisor image,
# and OUT/xhp-rpm-extra.livepatch built from its kit with patches/extra-rb.patch.
# Sets RB_RPM_ELF, RB_RPM_ID, RB_RPM_KIT.
rb_rpm_xen() {
	local out=$1 dir rpm d id
	# shellcheck disable=SC2016 # expanded by the inner shell
	read -r dir RB_RPM_ID RB_RPM_KIT < <(rb_kit_lib 'kit_test_debian "$1" >&2 && kit_test_xen_rpm >&2 &&
		echo "$XEN_RPM_DIR $XEN_RPM_ID $XEN_RPM_KIT"' "$RB_XEN_VER" 2>"$RX_WORK/xen-rpm.log")
	[ -n "${RB_RPM_KIT:-}" ] ||
		{ tail -n 5 "$RX_WORK/xen-rpm.log"; rb_die "make xen-livepatch-rpm failed (${RX_WORK#"$RX_TOP"/}/xen-rpm.log)"; return 1; }
	RB_RPM_ELF=$RB_CACHE/xen-rpm-$RB_RPM_ID.elf
	if [ ! -s "$RB_RPM_ELF" ]; then
		rpm=$(find "$dir/RPMS" -name 'xen-livepatch-[0-9]*.rpm' | head -n 1)
		d=$(mktemp -d)
		(cd "$d" && rpm2cpio "$rpm" | cpio -idm --quiet) && zcat "$d"/boot/xen-*.gz >"$RB_RPM_ELF.tmp" &&
			mv "$RB_RPM_ELF.tmp" "$RB_RPM_ELF"
		rm -rf "$d" "$RB_RPM_ELF.tmp"
	fi
	id=$(readelf -n "$RB_RPM_ELF" 2>/dev/null | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p' | head -n 1)
	[ "${id:-none}" = "$RB_RPM_ID" ] ||
		{ rb_die "the xen-livepatch RPM's hypervisor has build-id '$id', its kit $RB_RPM_ID"; return 1; }
	rm -rf "$out"
	mkdir -p "$out"
	"$RX_TOP/scripts/xen-hotpatch-build" payload --kit "$RB_RPM_KIT" --patch "$RX_TOP/tests/realbuild/patches/extra-rb.patch" \
		--name xhp-rpm-extra -o "$out/xhp-rpm-extra.livepatch" >"$RX_WORK/rpm-payload.log" 2>&1 ||
		{ tail -n 3 "$RX_WORK/rpm-payload.log"; rb_die "xen-hotpatch-build payload with the RPM's kit failed"; return 1; }
}
