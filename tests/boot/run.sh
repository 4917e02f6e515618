#!/bin/bash
# Boot tier: the initramfs reapplies the proven stack, safely (issue 5).
#
#  1. Real images: dracut (a private dracutbasedir holding the module; one
#     --no-kernel image and one with Debian's kernel via --kver/--kmoddir)
#     and initramfs-tools (mkinitramfs inside a debootstrap root with the
#     hook installed at its packaged paths); their contents are checked with
#     lsinitrd / lsinitramfs: tool, libraries, xen-privcmd, hook, policy, and
#     no payload.
#  2-6. Each image is unpacked and its hook runs under chroot, through the
#     image's own machinery (dracut-lib.sh's source_hook pre-pivot;
#     initramfs-tools' run_scripts /scripts/init-bottom), against a /sysroot
#     (/root) holding payloads and a policy pointing at the simulated
#     hypervisor, after `xen-hotpatch-sim ... reboot`. The "runtime" steps
#     (what the package trigger runs after the pivot) are the image's own
#     tool run in the same chroot with --root, sharing /run as the real
#     system does. A reboot is `xen-hotpatch-sim reboot` plus an empty /run.
#  Also: the systemd unit passes `systemd-analyze verify`; module-setup.sh's
#  check() answers 0/1/255 as documented; every script is shellcheck-clean.
#
# Needs root (chroot, mknod). Caches under build/cache/ (see cache.sh): the
# kernel .deb, the debootstrap minbase tarball and the mkinitramfs root.
# Ends with "N passed, N failed".
set -u
export LC_ALL=C

top=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
TOOL=${XHP_PLAIN_BIN:-$top/build/xen-hotpatch}
SIM=${XHP_PLAIN_SIM_BIN:-$top/build/xen-hotpatch-sim}
XHP_CACHE=${XHP_CACHE:-$top/build/cache}
W=${XHP_BOOT_WORK:-$top/build/boot}
FORGE=$top/tests/fixtures/forge-payload.sh
export XHP_CACHE
# shellcheck source=tests/boot/cache.sh
. "$top/tests/boot/cache.sh"

# shellcheck source=tests/lib/checks.sh
. "$top/tests/lib/checks.sh"
# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else ko "$d"; fi
}
# same DESCRIPTION EXPECTED ACTUAL
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		ko "$1"
		printf '     expected: %s\n     actual:   %s\n' "$2" "$3"
	fi
}
# has DESCRIPTION TEXT PATTERN (grep -E)
has() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		ok "$1"
	else
		ko "$1"
		printf '     no match for /%s/ in:\n' "$3"
		printf '%s\n' "$2" | sed 's/^/       | /' | tail -n 30
	fi
}
hasnt() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		ko "$1"
		printf '     unexpected match for /%s/ in:\n' "$3"
		printf '%s\n' "$2" | grep -E -- "$3" | sed 's/^/       | /' | head -n 10
	else
		ok "$1"
	fi
}
say() { printf '\n== %s\n' "$*"; }

# ---- prerequisites ------------------------------------------------------------
say "prerequisites"
missing=""
for c in dracut lsinitrd debootstrap systemd-analyze shellcheck jq cpio unshare chroot \
	dpkg-deb apt-get depmod mknod; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -n "$missing" ] && ko "commands present (missing:$missing)"
[ "$(id -u)" -eq 0 ] || ko "running as root (chroot, mknod)"
[ -x "$TOOL" ] || ko "tool built: $TOOL"
[ -x "$SIM" ] || ko "simulated hypervisor built: $SIM"
[ -x "$FORGE" ] || ko "payload forge present: $FORGE"
[ "$fail" -eq 0 ] || finish
setup "root, commands, $TOOL, $SIM"

rm -rf "$W"
mkdir -p "$W/bin"
# One snapshot of the binaries for the whole run (a rebuild may happen meanwhile).
if ! cp "$TOOL" "$W/bin/xen-hotpatch" || ! cp "$SIM" "$W/bin/xen-hotpatch-sim"; then
	ko "copy the binaries"
	finish
fi
TOOL=$W/bin/xen-hotpatch
SIM=$W/bin/xen-hotpatch-sim

# ---- scripts ------------------------------------------------------------------
say "scripts: shellcheck"
check "shellcheck: dracut module, hooks, boot tier" \
	shellcheck -x "$top/dracut/95xen-hotpatch/module-setup.sh" \
	"$top/dracut/95xen-hotpatch/xen-hotpatch-hook.sh" \
	"$top/dracut/initramfs-tools/hooks/xen-hotpatch" \
	"$top/dracut/initramfs-tools/init-bottom/xen-hotpatch" \
	"$top/tests/boot/run.sh" "$top/tests/boot/cache.sh"
# The boot-time scripts run under dash / busybox sh: POSIX only.
# shellcheck disable=SC2016
check "boot-time scripts are POSIX sh (shellcheck -s sh, dash -n)" \
	sh -c 'for f; do shellcheck -s sh "$f" && dash -n "$f" || exit 1; done' sh \
	"$top/dracut/95xen-hotpatch/xen-hotpatch-hook.sh" \
	"$top/dracut/initramfs-tools/hooks/xen-hotpatch" \
	"$top/dracut/initramfs-tools/init-bottom/xen-hotpatch"

# ---- the systemd unit -----------------------------------------------------------
say "systemd unit"
unit=$top/scripts/xen-hotpatch.service
uroot=$W/unit-root
mkdir -p "$uroot/usr/sbin" "$uroot/usr/lib/systemd/system" "$uroot/etc"
install -m 0755 "$TOOL" "$uroot/usr/sbin/xen-hotpatch"
install -m 0644 "$unit" "$uroot/usr/lib/systemd/system/xen-hotpatch.service"
# --man=no: the unit's man page comes with the package, not with this test root
out=$(systemd-analyze verify --man=no --root="$uroot" xen-hotpatch.service 2>&1)
rc=$?
same "systemd-analyze verify: exit 0 and no complaint" "0:" "$rc:$out"
u=$(grep -v '^#' "$unit")
has "unit: Type=oneshot" "$u" '^Type=oneshot$'
has "unit: RemainAfterExit=yes" "$u" '^RemainAfterExit=yes$'
has "unit: runs xen-hotpatch boot" "$u" '^ExecStart=/usr/sbin/xen-hotpatch boot$'
hasnt "unit: no stop action" "$u" '^ExecStop'
hasnt "unit: no condition of its own (the tool decides, kill switch included)" "$u" '^Condition'
for s in xenstored xen-init-dom0 xendomains libvirtd; do
	has "unit: ordered before $s.service" "$u" "^Before=.*\\b$s\\.service\\b"
done
has "unit: wanted by multi-user.target" "$u" '^WantedBy=multi-user\.target$'

# ---- dracut module check() ----------------------------------------------------------
say "dracut module check()"
# check() sourced as dracut does, with dinfo as dracut defines it (a logger).
modcheck() { # HOSTONLY TOOL [fake-xen]
	# shellcheck disable=SC2016 # expanded by the inner bash
	local pre='' script='dinfo() { :; }; . "$1"; hostonly=$2; XEN_HOTPATCH_TOOL=$3; check; echo $?'
	if [ "${3-}" = fake-xen ]; then
		# A Xen host as check() sees it: /sys/hypervisor/type says xen
		# (a private mount namespace with its own /sys).
		pre='mount -t tmpfs none /sys && mkdir /sys/hypervisor && echo xen >/sys/hypervisor/type || exit 99; '
		unshare --mount --propagation private --fork -- bash -c "$pre$script" sh \
			"$top/dracut/95xen-hotpatch/module-setup.sh" "$1" "$2"
	else
		bash -c "$script" sh "$top/dracut/95xen-hotpatch/module-setup.sh" "$1" "$2"
	fi
}
same "check(): tool missing -> 1" 1 "$(modcheck yes /nonexistent/xen-hotpatch)"
same "check(): host-only, not a Xen host -> 255 (only on request)" 255 "$(modcheck yes "$TOOL")"
same "check(): host-only on a Xen host -> 0 (included)" 0 "$(modcheck yes "$TOOL" fake-xen)"
same "check(): generic image -> 0" 0 "$(modcheck '' "$TOOL")"

# ---- dracut images ----------------------------------------------------------------
say "dracut images"
dbase=$W/dracutbase
cp -a /usr/lib/dracut "$dbase"
# The module as `make install` lays it out.
install -D -m 0755 "$top/dracut/95xen-hotpatch/module-setup.sh" \
	"$dbase/modules.d/95xen-hotpatch/module-setup.sh"
install -D -m 0755 "$top/dracut/95xen-hotpatch/xen-hotpatch-hook.sh" \
	"$dbase/modules.d/95xen-hotpatch/xen-hotpatch-hook.sh"
mkdir -p "$W/dconf" "$W/dtmp" "$W/policy/conf.d"
# The policy the images carry (a test marker in conf.d).
if [ -f "$top/policy/xen-hotpatch.conf" ]; then
	cp "$top/policy/xen-hotpatch.conf" "$W/policy/xen-hotpatch.conf"
else
	printf '# xen-hotpatch policy\nboot_apply = yes\n' >"$W/policy/xen-hotpatch.conf"
fi
printf '# boot tier marker\nblocked = boot-tier-marker\n' >"$W/policy/conf.d/50-boot-tier.conf"

mkdracut() { # OUT LOG [dracut args...]
	local out=$1 log=$2
	shift 2
	env dracutbasedir="$dbase" XEN_HOTPATCH_TOOL="$TOOL" XEN_HOTPATCH_POLICY_DIR="$W/policy" \
		dracut --force --conf /dev/null --confdir "$W/dconf" --tmpdir "$W/dtmp" \
		--no-hostonly --no-early-microcode "$@" "$out" >"$log" 2>&1
}

# Expected libraries: what the dynamic loader resolves for the tool.
tool_libs=$(ldd "$TOOL" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' | xargs -n1 basename | sort -u)

# dracut_contents NAME IMG: the image holds tool, libs, hook, policy, no payload
dracut_contents() {
	local name=$1 img=$2 list lib hook miss=""
	list=$(lsinitrd "$img" 2>&1)
	has "$name: lsinitrd lists module xen-hotpatch" "$list" '^xen-hotpatch$'
	has "$name: tool at usr/sbin/xen-hotpatch" "$list" ' usr/sbin/xen-hotpatch$'
	for lib in $tool_libs; do
		printf '%s\n' "$list" | grep -Eq "/$lib( |\$)" || miss="$miss $lib"
	done
	same "$name: every library of the tool is in (missing: ${miss:-none})" "" "$miss"
	hook=$(lsinitrd -f usr/lib/dracut/hooks/pre-pivot/70-xen-hotpatch-hook.sh "$img" 2>/dev/null)
	same "$name: pre-pivot hook 70-xen-hotpatch-hook.sh is the module's hook" \
		"$(cat "$top/dracut/95xen-hotpatch/xen-hotpatch-hook.sh")" "$hook"
	has "$name: policy etc/xen-hotpatch/xen-hotpatch.conf" "$list" ' etc/xen-hotpatch/xen-hotpatch\.conf$'
	has "$name: policy conf.d file" "$list" ' etc/xen-hotpatch/conf\.d/50-boot-tier\.conf$'
	hasnt "$name: no payload (*.livepatch, usr/lib/xen-hotpatch/)" "$list" '\.livepatch|usr/lib/xen-hotpatch'
}

img_nk=$W/dracut-nokernel.img
if mkdracut "$img_nk" "$W/dracut-nokernel.log" --no-kernel --no-compress -m "base xen-hotpatch"; then
	ok "dracut --no-kernel -m 'base xen-hotpatch'"
	dracut_contents "dracut no-kernel" "$img_nk"
else
	ko "dracut --no-kernel -m 'base xen-hotpatch' (log: $W/dracut-nokernel.log)"
	tail -n 20 "$W/dracut-nokernel.log"
	img_nk=""
fi

# check() = 1: a request for the module fails the build, as dracut documents.
env dracutbasedir="$dbase" XEN_HOTPATCH_TOOL=/nonexistent/xen-hotpatch \
	dracut --force --conf /dev/null --confdir "$W/dconf" --tmpdir "$W/dtmp" --no-hostonly \
	--no-kernel --no-early-microcode -m "base" --add xen-hotpatch "$W/notool.img" >"$W/notool.log" 2>&1
rc=$?
same "dracut --add xen-hotpatch without the tool fails (exit 1)" 1 "$rc"

img_kv=""
if boot_cache_kernel; then
	img_kv=$W/dracut-$KVER.img
	if mkdracut "$img_kv" "$W/dracut-kver.log" --kver "$KVER" \
		--kmoddir "$KTREE/lib/modules/$KVER" -m "base xen-hotpatch"; then
		ok "dracut --kver $KVER --kmoddir (Debian's linux-image)"
		dracut_contents "dracut $KVER" "$img_kv"
		has "dracut $KVER: xen-privcmd.ko" "$(lsinitrd "$img_kv")" \
			" usr/lib/modules/$KVER/kernel/drivers/xen/xen-privcmd\.ko(\.[a-z]+)?$"
	else
		ko "dracut --kver $KVER (log: $W/dracut-kver.log)"
		tail -n 20 "$W/dracut-kver.log"
		img_kv=""
	fi
else
	ko "Debian linux-image fetched and extracted"
fi

# ---- initramfs-tools image ------------------------------------------------------------
say "initramfs-tools image (mkinitramfs in a debootstrap root)"
# The tool's runtime libraries as Debian packages, installed in the root from
# the archive the way the xen-hotpatch package's dependencies would be.
lib_pkgs=""
for l in $(ldd "$TOOL" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p'); do
	p=$(dpkg -S "$l" 2>/dev/null || dpkg -S "$(readlink -f "$l")" 2>/dev/null)
	p=${p%%:*}
	[ -n "$p" ] && lib_pkgs="$lib_pkgs $p"
done
# shellcheck disable=SC2086 # a list of names
lib_pkgs=$(printf '%s\n' $lib_pkgs | sort -u | tr '\n' ' ')
img_it=""
itr=$W/itroot
if boot_cache_itroot "$lib_pkgs"; then
	mkdir -p "$itr"
	tar -C "$itr" -xf "$ITROOT_TAR"
	# The packaged layout (Makefile INSTALL_FILES).
	install -D -m 0755 "$TOOL" "$itr/usr/sbin/xen-hotpatch"
	install -D -m 0755 "$top/dracut/initramfs-tools/hooks/xen-hotpatch" \
		"$itr/usr/share/initramfs-tools/hooks/xen-hotpatch"
	install -D -m 0755 "$top/dracut/initramfs-tools/init-bottom/xen-hotpatch" \
		"$itr/usr/share/initramfs-tools/scripts/init-bottom/xen-hotpatch"
	install -D -m 0644 "$W/policy/xen-hotpatch.conf" "$itr/etc/xen-hotpatch/xen-hotpatch.conf"
	install -D -m 0644 "$W/policy/conf.d/50-boot-tier.conf" "$itr/etc/xen-hotpatch/conf.d/50-boot-tier.conf"
	# A payload installed on the build host: it must stay out of the image.
	"$FORGE" -o "$itr/usr/lib/xen-hotpatch/00ff/installed-on-host.livepatch" --xen-id 00ff >/dev/null
	# MODULES=list: only what hooks ask for (ours: xen-privcmd), fast.
	sed -i 's/^MODULES=.*/MODULES=list/' "$itr/etc/initramfs-tools/initramfs.conf"
	if boot_chroot_proc "$itr" mkinitramfs -o /tmp/initrd.img "$KVER" >"$W/mkinitramfs.log" 2>&1; then
		ok "mkinitramfs $KVER in the chroot"
		list=$(boot_chroot_proc "$itr" lsinitramfs -l /tmp/initrd.img 2>&1)
		img_it=$W/initramfs-tools-$KVER.img
		mv "$itr/tmp/initrd.img" "$img_it"
		has "initramfs-tools: tool at usr/sbin/xen-hotpatch" "$list" ' usr/sbin/xen-hotpatch$'
		miss=""
		for lib in $tool_libs; do
			printf '%s\n' "$list" | grep -Eq "/$lib( |\$)" || miss="$miss $lib"
		done
		same "initramfs-tools: every library of the tool is in (missing: ${miss:-none})" "" "$miss"
		has "initramfs-tools: xen-privcmd.ko" "$list" \
			" usr/lib/modules/$KVER/kernel/drivers/xen/xen-privcmd\.ko(\.[a-z]+)?$"
		has "initramfs-tools: scripts/init-bottom/xen-hotpatch" "$list" ' scripts/init-bottom/xen-hotpatch$'
		has "initramfs-tools: policy" "$list" ' etc/xen-hotpatch/xen-hotpatch\.conf$'
		has "initramfs-tools: policy conf.d file" "$list" ' etc/xen-hotpatch/conf\.d/50-boot-tier\.conf$'
		hasnt "initramfs-tools: no payload although one is installed" "$list" '\.livepatch|usr/lib/xen-hotpatch'
	else
		ko "mkinitramfs $KVER in the chroot (log: $W/mkinitramfs.log)"
		tail -n 20 "$W/mkinitramfs.log"
	fi
else
	ko "debootstrap root with initramfs-tools-core"
fi

# ---- payload fixtures ------------------------------------------------------------------
say "payload fixtures"
H1=$(printf 'boot tier hypervisor one' | sha1sum | cut -c1-40)
H2=$(printf 'boot tier hypervisor two' | sha1sum | cut -c1-40)
fx=$W/fixtures
# A chain whose file names sort against chain order: zz-base <- mm-mid <-
# aa-top <- late-p4 (installed after the image) <- crash-p5 <- crash-p6 (each
# kills the host on its first apply).
forged=1
id_zz=$("$FORGE" -o "$fx/zz-base.livepatch" --xen-id "$H1") || forged=0
id_mm=$("$FORGE" -o "$fx/mm-mid.livepatch" --xen-id "$H1" --depends-id "$id_zz") || forged=0
id_aa=$("$FORGE" -o "$fx/aa-top.livepatch" --xen-id "$H1" --depends-id "$id_mm") || forged=0
id_p4=$("$FORGE" -o "$fx/late-p4.livepatch" --xen-id "$H1" --depends-id "$id_aa") || forged=0
id_p5=$("$FORGE" -o "$fx/crash-p5.livepatch" --xen-id "$H1" --depends-id "$id_p4") || forged=0
"$FORGE" -o "$fx/crash-p6.livepatch" --xen-id "$H1" --depends-id "$id_p5" >/dev/null || forged=0
"$FORGE" -o "$fx/h2-only.livepatch" --xen-id "$H2" >/dev/null || forged=0
if [ "$forged" -eq 1 ]; then setup "forged zz-base <- mm-mid <- aa-top <- late-p4 <- crash-p5 <- crash-p6 for $H1"; else
	ko "forge payloads"
	finish
fi

# ---- running a hook inside an unpacked image ----------------------------------------------
# unpack KIND IMG DIR: the image's files, a /dev with null and a kmsg file
# (the hooks' kernel log, read back by the test), the real root at ROOT
# (sysroot for dracut, root for initramfs-tools) with a policy pointing at
# the simulated hypervisor at /sim.
unpack() {
	local kind=$1 img=$2 d=$3
	rm -rf "$d"
	mkdir -p "$d"
	(cd "$d" && lsinitrd --unpack "$img") >/dev/null 2>&1 || return 1
	[ -x "$d/usr/sbin/xen-hotpatch" ] || return 1
	mkdir -p "$d/dev" "$d/run" "$d/tmp"
	[ -e "$d/dev/null" ] || mknod -m 0666 "$d/dev/null" c 1 3
	# the kernel log: a FIFO that boot() drains into kmsg.log (the hooks
	# write it with ">", as to the real /dev/kmsg: a plain file would keep
	# only the last line)
	rm -f "$d/dev/kmsg"
	mkfifo "$d/dev/kmsg"
	case $kind in
	dracut) R=sysroot ;;
	it) R=root ;;
	esac
	mkdir -p "$d/$R/usr/lib/xen-hotpatch/$H1" "$d/$R/etc/xen-hotpatch/conf.d" "$d/$R/var/lib"
	printf '# boot tier\nbackend = sim:/sim\n' >"$d/$R/etc/xen-hotpatch/xen-hotpatch.conf"
	"$SIM" "$d/sim" init --build-id "$H1" >/dev/null
}

# boot KIND DIR [VAR=VALUE...]: a reboot, then the initramfs hook, run by the
# image's own machinery in a chroot with a clean environment. What the hook
# logged is left in $HOOKLOG: dracut's kernel log (info: "<30>dracut: ",
# warn: "<28>dracut Warning: "), initramfs-tools' console (log_*_msg).
# shellcheck disable=SC2317 # called through check()
boot() {
	local kind=$1 d=$2 sim_args=() ro=()
	shift 2
	if [ "${1-}" = --build-id ]; then
		sim_args=(--build-id "$2")
		shift 2
	fi
	if [ "${1-}" = --ro ]; then
		# The real root mounted read-only, as at pre-pivot with "ro" on the
		# command line (a private mount namespace: nothing leaks).
		# shellcheck disable=SC2016
		ro=(unshare --mount --propagation private --fork -- sh -c '
			mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" || exit 99
			exec "$@"' "$d/$R")
		shift
	fi
	"$SIM" "$d/sim" reboot "${sim_args[@]}" >/dev/null || return 1
	rm -rf "$d/run" && mkdir -p "$d/run"
	# read the kernel log until the end marker written below
	sed -n '/^xhp-boot-tier-end$/q; p' <>"$d/dev/kmsg" >"$d/kmsg.log" &
	local reader=$!
	case $kind in
	dracut)
		# shellcheck disable=SC2016
		"${ro[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" chroot "$d" /bin/sh -c '
			. /lib/dracut-lib.sh
			NEWROOT=/sysroot
			export NEWROOT
			source_hook pre-pivot
			echo "hooks done"' >"$d/hook.out" 2>&1
		;;
	it)
		# shellcheck disable=SC2016
		"${ro[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin quiet=n rootmnt=/root "$@" \
			chroot "$d" /bin/sh -c '
			. /scripts/functions
			run_scripts /scripts/init-bottom
			echo "hooks done"' >"$d/hook.out" 2>&1
		;;
	esac
	local rc=$?
	echo xhp-boot-tier-end >"$d/dev/kmsg"
	wait "$reader"
	case $kind in
	dracut) HOOKLOG=$(cat "$d/kmsg.log") ;;
	it) HOOKLOG=$(cat "$d/hook.out") ;;
	esac
	[ "$rc" -eq 0 ] && grep -q '^hooks done$' "$d/hook.out"
}

# runtime DIR ARGS...: the tool after the pivot (the package trigger, an
# operator), on the same real root and /run.
runtime() {
	local d=$1
	shift
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin ${RUNTIME_ENV:+"$RUNTIME_ENV"} \
		chroot "$d" /usr/sbin/xen-hotpatch --root "/$R" "$@"
}

applied() { "$SIM" "$1/sim" show --json | jq -r '.applied | join(" ")'; }
sim_build_id() { "$SIM" "$1/sim" show --json | jq -r '.build_id'; }
install_payload() { cp "$fx/$2.livepatch" "$1/$R/usr/lib/xen-hotpatch/$H1/"; }

# ---- scenarios 2-6 against one image ---------------------------------------------------------
scenarios() {
	local kind=$1 img=$2 name=$3 d sum out st info warn
	d=$W/run-$kind-$(basename "$img" .img)
	# How a line of the tool (stdout) and a warning appear in $HOOKLOG.
	case $kind in
	dracut) info='^<30>dracut: ' warn='^<28>dracut Warning: ' ;;
	# (a tool killed mid-line leaves the console's line open: no ^ for warn)
	it) info='^' warn='(Warning|Failure): ' ;;
	esac
	say "$name: hook runs (tests 2-6)"
	if ! unpack "$kind" "$img" "$d"; then
		ko "$name: unpack the image"
		return
	fi
	setup "$name: unpacked; /$R holds payloads, policy backend = sim:/sim"
	sum=$(sha256sum <"$img")

	# 2. The proven stack comes back, in chain order, and nothing unproven.
	for p in zz-base mm-mid aa-top; do install_payload "$d" $p; done
	out=$(runtime "$d" apply 2>&1)
	same "$name: runtime apply puts the chain on (exit 0)" "0: zz-base mm-mid aa-top" "$?: $(applied "$d")"
	install_payload "$d" late-p4 # installed, never applied: not proven
	check "$name: boot hook runs and returns 0" boot "$kind" "$d"
	same "$name: after reboot the hook reapplied the proven stack in chain order" \
		"zz-base mm-mid aa-top" "$(applied "$d")"
	has "$name: the hook logged the tool's lines" "$HOOKLOG" "${info}apply zz-base"
	has "$name: the hook's log says late-p4 is not proven" "$HOOKLOG" "${info}.*late-p4.*not proven"
	hasnt "$name: no warning on a clean boot" "$HOOKLOG" "$warn"
	same "$name: the hypervisor never had late-p4" "" \
		"$("$SIM" "$d/sim" show --json | jq -r '[.history[][]] | map(select(. == "late-p4")) | join(" ")')"

	# 5. A payload installed after the image was built comes back once proven.
	out=$(runtime "$d" apply 2>&1)
	same "$name: runtime apply adds late-p4 (exit 0)" "0: zz-base mm-mid aa-top late-p4" "$?: $(applied "$d")"
	check "$name: boot hook runs" boot "$kind" "$d"
	same "$name: late-p4 (installed after the image) reapplied at boot, no rebuild" \
		"zz-base mm-mid aa-top late-p4" "$(applied "$d")"
	same "$name: image unchanged" "$sum" "$(sha256sum <"$img")"
	st=$(runtime "$d" status 2>&1)
	same "$name: status after boot: in sync (exit 0)" 0 "$(runtime "$d" status >/dev/null 2>&1; echo $?)"

	# The tool dying in the initramfs does not stop the boot.
	check "$name: boot while the tool is killed applying mm-mid: the hook still returns 0" \
		boot "$kind" "$d" XEN_HOTPATCH_SIM_FAIL=apply:mm-mid:crash
	has "$name: a warning says the tool failed and the boot goes on" "$HOOKLOG" \
		"${warn}xen-hotpatch boot exited [0-9]+; the boot goes on"
	# The host died applying mm-mid at boot (the attempt record was written
	# first, the root being writable): the next boot quarantines mm-mid
	# instead of dying again, and keeps what lies below it.
	check "$name: boot after the boot-time crash returns 0" boot "$kind" "$d"
	same "$name: a boot-time crash quarantines mm-mid: the stack stops below it" \
		"zz-base" "$(applied "$d")"
	has "$name: the log says mm-mid is quarantined" "$HOOKLOG" 'mm-mid.*quarantine'
	check "$name: clear mm-mid" runtime "$d" clear mm-mid
	out=$(runtime "$d" apply 2>&1)
	same "$name: after clear, apply puts the stack back (exit 0)" \
		"0: zz-base mm-mid aa-top late-p4" "$?: $(applied "$d")"

	# 3. Kill switch and policy: the hook has no parser of its own; the
	# tool reads the command line (XEN_HOTPATCH_CMDLINE stands for
	# /proc/cmdline) and says why through the hook's log.
	echo "ro quiet xen_hotpatch=0" >"$d/tmp/cmdline"
	check "$name: boot with xen_hotpatch=0 returns 0" boot "$kind" "$d" XEN_HOTPATCH_CMDLINE=/tmp/cmdline
	same "$name: xen_hotpatch=0: nothing applied" "" "$(applied "$d")"
	has "$name: xen_hotpatch=0: the tool's reason is in the hook's log" "$HOOKLOG" "${info}.*xen_hotpatch=0"
	echo "boot_apply = no" >"$d/$R/etc/xen-hotpatch/conf.d/90-off.conf"
	check "$name: boot with boot_apply = no returns 0" boot "$kind" "$d"
	same "$name: boot_apply = no: nothing applied" "" "$(applied "$d")"
	has "$name: boot_apply = no: the log says why" "$HOOKLOG" 'boot_apply'
	rm -f "$d/$R/etc/xen-hotpatch/conf.d/90-off.conf"
	check "$name: boot without the switches" boot "$kind" "$d"
	same "$name: switches off: the stack is back" "zz-base mm-mid aa-top late-p4" "$(applied "$d")"
	if [ "$kind" = it ]; then
		# "quiet": initramfs-tools' log_*_msg print nothing, the tool runs with -q
		check "$name: boot with quiet" boot "$kind" "$d" quiet=y
		same "$name: quiet: the stack is back" "zz-base mm-mid aa-top late-p4" "$(applied "$d")"
		hasnt "$name: quiet: nothing of the hook or the tool on the console" "$HOOKLOG" \
			'Reapplying|xen-hotpatch|upload |apply |not proven'
	fi

	# 4. Crash loop: the host dies while a new payload is applied.
	install_payload "$d" crash-p5
	out=$(RUNTIME_ENV=XEN_HOTPATCH_SIM_FAIL=apply:crash-p5:crash runtime "$d" apply 2>&1)
	st=$?
	check "$name: the runtime apply of crash-p5 died (exit $st)" test "$st" -ne 0
	has "$name: an attempt record names crash-p5" \
		"$(cat "$d/$R"/var/lib/xen-hotpatch/attempts/* 2>/dev/null)" '^crash-p5$'
	check "$name: boot after the crash returns 0" boot "$kind" "$d"
	same "$name: crash-p5 quarantined, the rest reapplied" \
		"zz-base mm-mid aa-top late-p4" "$(applied "$d")"
	has "$name: the log says crash-p5 is quarantined" "$HOOKLOG" 'crash-p5.*quarantine'
	has "$name: quarantine record for crash-p5" \
		"$(cat "$d/$R"/var/lib/xen-hotpatch/quarantine/* 2>/dev/null)" '^crash-p5$'
	st=$(runtime "$d" status 2>&1)
	has "$name: status shows crash-p5 quarantined" "$st" 'crash-p5.*quarantine|quarantine.*crash-p5'
	out=$(runtime "$d" apply 2>&1)
	same "$name: runtime apply leaves the quarantined crash-p5 off" \
		"zz-base mm-mid aa-top late-p4" "$(applied "$d")"
	out=$(runtime "$d" clear crash-p5 2>&1)
	check "$name: clear crash-p5 (exit 0)" test $? -eq 0
	hasnt "$name: status no longer shows a quarantine" "$(runtime "$d" status 2>&1)" 'quarantin'
	out=$(runtime "$d" apply 2>&1)
	same "$name: after clear, runtime apply puts crash-p5 on" \
		"zz-base mm-mid aa-top late-p4 crash-p5" "$(applied "$d")"
	check "$name: boot hook runs" boot "$kind" "$d"
	same "$name: crash-p5, now proven, comes back at boot" \
		"zz-base mm-mid aa-top late-p4 crash-p5" "$(applied "$d")"

	# 4b. The same with the real root read-only in the initramfs (the usual
	# case): the hook cannot write the quarantine; it still applies only the
	# proven stack, and the unit's run after the pivot (root writable) records
	# the quarantine without touching the converged stack.
	install_payload "$d" crash-p6
	out=$(RUNTIME_ENV=XEN_HOTPATCH_SIM_FAIL=apply:crash-p6:crash runtime "$d" apply 2>&1)
	check "$name: the runtime apply of crash-p6 died" test $? -ne 0
	check "$name: boot after the crash, root read-only, returns 0" boot "$kind" "$d" --ro
	same "$name: read-only root: crash-p6 left off, the proven stack reapplied" \
		"zz-base mm-mid aa-top late-p4 crash-p5" "$(applied "$d")"
	nact=$("$SIM" "$d/sim" show --json | jq '.actions | length')
	out=$(runtime "$d" boot 2>&1)
	same "$name: the unit's xen-hotpatch boot after the pivot exits 0" 0 "$?"
	same "$name: ... changes nothing on the hypervisor (no action)" "$nact" \
		"$("$SIM" "$d/sim" show --json | jq '.actions | length')"
	has "$name: ... and quarantines crash-p6" \
		"$(cat "$d/$R"/var/lib/xen-hotpatch/quarantine/* 2>/dev/null)" '^crash-p6$'
	has "$name: ... saying so" "$out" 'crash-p6.*quarantine'

	# 6. Xen upgraded: another build-id boots; nothing of the old one applies.
	mkdir -p "$d/$R/usr/lib/xen-hotpatch/$H2"
	cp "$fx/h2-only.livepatch" "$d/$R/usr/lib/xen-hotpatch/$H2/"
	check "$name: boot on hypervisor $H2 returns 0" boot "$kind" "$d" --build-id "$H2"
	same "$name: the hypervisor is $H2" "$H2" "$(sim_build_id "$d")"
	same "$name: on $H2 nothing applied (old payloads foreign, h2-only not proven)" "" "$(applied "$d")"
	st=$(runtime "$d" status 2>&1)
	has "$name: status says the $H1 payloads are for another hypervisor" "$st" "$H1|other hypervisor"
	has "$name: status says h2-only is not applied" "$st" 'h2-only'
	check "$name: back on $H1" boot "$kind" "$d" --build-id "$H1"
	same "$name: back on $H1 the proven stack returns" \
		"zz-base mm-mid aa-top late-p4 crash-p5" "$(applied "$d")"
}

[ -n "$img_nk" ] && scenarios dracut "$img_nk" "dracut no-kernel"
[ -n "$img_kv" ] && scenarios dracut "$img_kv" "dracut $KVER"
[ -n "$img_it" ] && scenarios it "$img_it" "initramfs-tools $KVER"

finish
