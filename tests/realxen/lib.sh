# shellcheck shell=bash
# Shared by tests/realxen/run.sh and tests/bench-realxen.sh: fetch Debian's
# Xen 4.17 + dom0 kernel through apt, build the dom0 root (debootstrap
# minbase + what dom0 needs), make the root disk and initramfs, boot them
# under QEMU (TCG) and read the results back.
#
# Everything downloaded or slow to make is cached under build/cache/ and
# rebuilt when missing or when the archive's package versions change.
# Sourced, not run: the caller sets -u and defines RX_TOP (repository).

RX_TOP=${RX_TOP:?}
# shellcheck source=tests/lib/minbase.sh
. "$RX_TOP/tests/lib/minbase.sh"
RX_CACHE=$RX_TOP/build/cache/realxen
RX_WORK=${RX_WORK:-$RX_TOP/build/realxen}
RX_LOGS=${RX_LOGS:-$RX_TOP/build/test-logs/realxen}
RX_MINBASE=$RX_TOP/build/cache/bookworm-minbase.tar
RX_HERE=$RX_TOP/tests/realxen
# Bump when the way the dom0 base is made changes (invalidates the cache).
RX_BASE_REV=3
# Debian packages made from the xen source that dom0 needs (same version as
# the hypervisor), fetched with apt-get download and installed from the files.
RX_XEN_PKGS="xen-utils-4.17 xen-utils-common libxenmisc4.17 libxencall1
libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxentoollog1
libxentoolcore1 libxendevicemodel1 libxenstore4 libxenhypfs1"
# From the archive, into the dom0 root: module tools, poweroff, initramfs
# generator, the tool's runtime libraries, rpm/dnf for the RPM scenario,
# python3 for python3-xen-hotpatch (tests/python/realxen_v6.py).
RX_DOM0_PKGS="kmod busybox dracut-core cpio udev e2fsprogs procps
libelf1 libjson-c5 rpm dnf python3"
# Guest memory: keep QEMU's RSS bounded (Xen scrubs all free RAM).
RX_QEMU_MEM=${RX_QEMU_MEM:-1280}
RX_DOM0_MEM=${RX_DOM0_MEM:-1024M}
# One CPU. Under TCG, Xen's livepatch rendezvous of two CPUs times out now
# and then ("Timed out on semaphore in CPU quiesce phase 0/1", rc -EBUSY),
# even with a 2 s timeout and an idle second CPU (dom0_max_vcpus=1); with one
# CPU there is no rendezvous and every action completes. The semantics
# (states, return codes, stacking) are the same; RX_SMP=2 to see it.
RX_SMP=${RX_SMP:-1}
# Xen's command line beyond console and memory.
RX_XEN_CMD_EXTRA=${RX_XEN_CMD_EXTRA-}
# Minutes per boot (TCG is slow and the machine is shared).
RX_BOOT_TIMEOUT_MIN=${RX_BOOT_TIMEOUT_MIN:-8}

rx_say() { printf 'realxen: %s\n' "$*"; }

# One real-Xen run at a time on this machine (the tier or the bench): they
# share the caches, and one QEMU at a time is what 2 shared cores can take.
rx_lock() {
	mkdir -p "$RX_TOP/build/cache"
	exec 9>"$RX_TOP/build/cache/.realxen.lock"
	if ! flock -n 9; then
		rx_say "another real-Xen run holds build/cache/.realxen.lock: waiting"
		flock -w 3600 9 || { rx_die "still locked after an hour"; return 1; }
	fi
}
# rx_prereqs COMMAND...: this machine can boot the real-Xen tiers: root, and
# every COMMAND (with QEMU and the disk tools); else prints what is missing
rx_prereqs() {
	local c
	for c in qemu-system-x86_64 debootstrap mke2fs debugfs unshare "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "$c is not installed (tests/install-deps.sh)"; return 1; }
	done
	[ "$(id -u)" -eq 0 ] || { echo "needs root (debootstrap, chroot)"; return 1; }
}
rx_die() { printf 'realxen: error: %s\n' "$*" >&2; return 1; }

# ---- apt ---------------------------------------------------------------

# The Debian mirror, read from the host's apt sources at run time.
rx_mirror() { xhp_mirror bookworm | head -n 1; }

rx_apt() { apt-get -o DPkg::Lock::Timeout=900 -q "$@"; }

# Candidate version of a package ("" when unknown).
rx_candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }'
}

# Resolve what to fetch: RX_XEN_VER, RX_KPKG (linux-image-6.1.0-N-amd64),
# RX_KVER (its version), RX_KREL (6.1.0-N-amd64), RX_KEY (cache key).
rx_resolve() {
	RX_XEN_VER=$(rx_candidate xen-hypervisor-4.17-amd64)
	if [ -z "$RX_XEN_VER" ] || [ "$RX_XEN_VER" = "(none)" ]; then
		rx_say "apt lists lack xen-hypervisor-4.17-amd64: apt-get update"
		rx_apt update >/dev/null || true
		RX_XEN_VER=$(rx_candidate xen-hypervisor-4.17-amd64)
	fi
	if [ -z "$RX_XEN_VER" ] || [ "$RX_XEN_VER" = "(none)" ]; then
		rx_die "xen-hypervisor-4.17-amd64 is not in the apt archive"
		return 1
	fi
	RX_KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.[^ ]*-amd64\)$/\1/p' | head -n 1)
	[ -n "$RX_KPKG" ] || { rx_die "no linux-image-6.1.*-amd64 in the archive"; return 1; }
	RX_KVER=$(rx_candidate "$RX_KPKG")
	RX_KREL=${RX_KPKG#linux-image-}
	local basekey
	basekey="rev=$RX_BASE_REV xen=$RX_XEN_VER kernel=$RX_KPKG=$RX_KVER pkgs=$RX_DOM0_PKGS $RX_XEN_PKGS"
	RX_KEY=$(printf '%s' "$basekey" | sha1sum | cut -c1-12)
	RX_DEBS=$RX_CACHE/debs-$RX_KEY
}

# apt-get download the hypervisor, xen-utils + libraries (pinned to the
# hypervisor's version) and the dom0 kernel into $RX_DEBS.
rx_fetch() {
	if [ -f "$RX_DEBS/.complete" ]; then
		return 0
	fi
	rx_say "fetching Xen $RX_XEN_VER and $RX_KPKG $RX_KVER with apt-get download"
	rm -rf "$RX_DEBS.tmp"
	mkdir -p "$RX_DEBS.tmp"
	local p list="xen-hypervisor-4.17-amd64=$RX_XEN_VER $RX_KPKG=$RX_KVER"
	for p in $RX_XEN_PKGS; do
		list="$list $p=$RX_XEN_VER"
	done
	# shellcheck disable=SC2086
	(cd "$RX_DEBS.tmp" && rx_apt download $list) >"$RX_DEBS.tmp.log" 2>&1 ||
		{ cat "$RX_DEBS.tmp.log"; rx_die "apt-get download failed"; return 1; }
	touch "$RX_DEBS.tmp/.complete"
	# drop older downloads, keep this one
	local old
	for old in "$RX_CACHE"/debs-*; do
		case $old in "$RX_DEBS.tmp"*|"$RX_DEBS") ;; *) rm -rf "$old" ;; esac
	done
	mv "$RX_DEBS.tmp" "$RX_DEBS"
	rm -f "$RX_DEBS.tmp.log"
}

# rx_xen_image [DEB ELF]: the gunzipped hypervisor (ELF32 multiboot image) of
# the hypervisor package DEB (default: the one rx_fetch downloaded), cached as
# ELF; sets RX_XEN_ELF and RX_XEN_ID (its build-id).
rx_xen_image() {
	local deb=${1:-}
	RX_XEN_ELF=${2:-$RX_CACHE/xen-$RX_KEY.elf}
	if [ ! -s "$RX_XEN_ELF" ]; then
		local d=$RX_CACHE/xenhv.tmp
		rm -rf "$d"
		mkdir -p "$d"
		[ -n "$deb" ] || deb=$(printf '%s\n' "$RX_DEBS"/xen-hypervisor-4.17-amd64_*.deb | head -n 1)
		dpkg-deb -x "$deb" "$d"
		local gz
		gz=$(find "$d/boot" -name 'xen-4.17-amd64.gz' | head -n 1)
		[ -n "$gz" ] || { rx_die "no boot/xen-4.17-amd64.gz in the hypervisor package"; return 1; }
		zcat "$gz" >"$RX_XEN_ELF.tmp" && mv "$RX_XEN_ELF.tmp" "$RX_XEN_ELF"
		rm -rf "$d"
	fi
	RX_XEN_ID=$(readelf -n "$RX_XEN_ELF" 2>/dev/null |
		sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p' | head -n 1)
	[ -n "$RX_XEN_ID" ] ||
		{ rx_die "no GNU build-id note in $RX_XEN_ELF (readelf -n)"; return 1; }
}

# ---- the dom0 root -------------------------------------------------------

# build/cache/bookworm-minbase.tar, shared with the deb and boot tiers.
rx_minbase() {
	xhp_minbase "$RX_TOP/build/cache" bookworm || { rx_die "no debootstrap root"; return 1; }
}

# Run a command in a chroot with its own /proc, /sys and /dev (a private
# mount namespace: nothing stays mounted on the host whatever happens).
rx_chroot() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private --fork -- /bin/sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" &&
		mount -t sysfs sys "$r/sys" &&
		mount --rbind /dev "$r/dev" || exit 99
		exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive chroot "$r" "$@"
	' sh "$root" "$@"
}

rx_chroot_apt() {
	local root=$1
	shift
	rx_chroot "$root" apt-get -q -o Acquire::Check-Valid-Until=false \
		-o APT::Sandbox::User=root -o Dpkg::Use-Pty=0 "$@"
}

# Extract a tarball into a fresh directory.
rx_untar() {
	rm -rf "$2"
	mkdir -p "$2"
	tar -C "$2" -xf "$1"
}

# The dom0 base root (minbase + Xen utils + kernel + tools), cached as
# build/cache/realxen/dom0-base-KEY.tar.
rx_dom0_base() {
	RX_BASE_TAR=$RX_CACHE/dom0-base-$RX_KEY.tar
	[ -s "$RX_BASE_TAR" ] && return 0
	rx_minbase || return 1
	local d=$RX_CACHE/dom0-base.tmp r
	r=$d/root
	rx_say "building the dom0 base root (cached as ${RX_BASE_TAR#"$RX_TOP"/})"
	rx_untar "$RX_MINBASE" "$r"
	local mirror
	mirror=$(rx_mirror)
	printf 'deb %s bookworm main\n' "$mirror" >"$r/etc/apt/sources.list"
	# services never start inside the image build
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 0755 "$r/usr/sbin/policy-rc.d"
	mkdir -p "$r/tmp/debs"
	cp "$RX_DEBS"/*.deb "$r/tmp/debs/"
	# the kernel's postinst must not try to build an initramfs of its own
	mkdir -p "$r/etc/kernel"
	local files="" f
	for f in "$r"/tmp/debs/*.deb; do
		case $f in */xen-hypervisor-*) ;; *) files="$files ${f#"$r"}" ;; esac
	done
	# shellcheck disable=SC2086 # lists of words
	if ! { rx_chroot_apt "$r" update &&
		rx_chroot_apt "$r" install -y --no-install-recommends $RX_DOM0_PKGS $files; } >"$d/log" 2>&1; then
		tail -n 30 "$d/log"
		rx_die "installing the dom0 packages failed (log: $d/log)"
		return 1
	fi
	rm -rf "$r/tmp/debs" "$r/var/cache/apt/archives/"*.deb
	rm -f "$r/usr/sbin/policy-rc.d"
	[ -e "$r/boot/vmlinuz-$RX_KREL" ] || { rx_die "no /boot/vmlinuz-$RX_KREL in the dom0 root"; return 1; }
	[ -x "$r/usr/lib/xen-4.17/bin/xen-livepatch" ] || { rx_die "no xen-livepatch in the dom0 root"; return 1; }
	tar -C "$r" -cf "$d/base.tar" . || return 1
	local old
	for old in "$RX_CACHE"/dom0-base-*.tar; do
		[ "$old" = "$RX_BASE_TAR" ] || rm -f "$old"
	done
	mv "$d/base.tar" "$RX_BASE_TAR"
	rm -rf "$d"
}

# Everything that does not depend on the project's parts.
rx_prepare_base() {
	mkdir -p "$RX_CACHE" "$RX_WORK" "$RX_LOGS"
	rx_resolve && rx_fetch && rx_xen_image "" "" && rx_dom0_base
}

# ---- payloads for the hypervisor actually booted --------------------------

# rx_forge DIR: forge the tier's payloads for $RX_XEN_ID with
# tests/fixtures/forge-payload.sh (real gcc/as/objcopy/ld), write DIR/ids.env.
#   rx-c1 <- rx-c2 <- rx-c3   a chain on the hypervisor, each replacing
#                             xen_extra_version() with "-xhp-cN"
#   rx-cum                    cumulative (depends = xen): REPLACE candidate
#   rx-r1                     stacks on rx-cum (the RPM payload)
#   rx-bad                    wrong xen_depends (another hypervisor's id)
#   rx-nofn                   right ids, stacks on rx-c3, but replaces a
#                             function this Xen does not have (upload ENOENT)
#   rx-c1dup                  rx-c1's bytes under another name (EEXIST)
#   rx-syma, rx-symb          same new symbol names (second upload EEXIST)
#   rx-crash                  stacks on rx-r1; its apply action hook returns 0
#                             without patching: Xen panics applying it (a
#                             host that dies in the middle of an apply)
#   rx-b1 .. rx-b6            the bench chain
# and for fidelity-late.steps (reader cases, hooks, REPLACE's partial
# outcomes; tests/fixtures/forge-payload.sh --bad/--odd/--hook-rc):
#   rx-ragged rx-pc32 rx-altout rx-altrep   refused (EINVAL, EOVERFLOW)
#   rx-odd-*                  unusual ELF shapes Xen accepts
#   rx-expok rx-expbad        cumulative, expectation right / wrong
#   rx-veto                   pre-apply hook returns -EPERM
#   rx-veto1                  pre-revert hook returns -EPERM on its first call
#   rx-apfail                 cumulative, apply action hook returns -EINVAL
#   rx-rvfail <- rx-rvtop     revert action hook of rx-rvfail returns -EINVAL
rx_forge_late() {
	local dir=$1 x=$RX_XEN_ID forge=$RX_TOP/tests/fixtures/forge-payload.sh k
	for k in ragged:rela-ragged pc32:pc32-overflow altout:alt-outside-text \
		altrep:alt-repl-outside; do
		"$forge" -o "$dir/rx-${k%%:*}.livepatch" --xen-id "$x" --bad "${k#*:}" >/dev/null || return 1
	done
	for k in shent:shentsize-80 sym32:symtab-entsize-32 rela32:rela-entsize-32 \
		erela:empty-rela erel:empty-rel hookna:hook-not-alloc alt:alt-good; do
		"$forge" -o "$dir/rx-odd-${k%%:*}.livepatch" --xen-id "$x" --odd "${k#*:}" >/dev/null || return 1
	done
	# the first bytes of Debian's xen_extra_version: lea 0x...(%rip),%rax
	"$forge" -o "$dir/rx-expok.livepatch" --xen-id "$x" --string -xhp-expok --expect 488d05 >/dev/null &&
		"$forge" -o "$dir/rx-expbad.livepatch" --xen-id "$x" --string -xhp-expbad --expect 9090 >/dev/null &&
		"$forge" -o "$dir/rx-veto.livepatch" --xen-id "$x" --hook-rc preapply=-1 >/dev/null &&
		"$forge" -o "$dir/rx-veto1.livepatch" --xen-id "$x" --hook-rc prerevert=-1:once >/dev/null &&
		"$forge" -o "$dir/rx-apfail.livepatch" --xen-id "$x" --hook-rc apply=-22 >/dev/null &&
		"$forge" -o "$dir/rx-rvfail.livepatch" --xen-id "$x" --hook-rc revert=-22 >/dev/null &&
		"$forge" -o "$dir/rx-rvtop.livepatch" --xen-id "$x" --depends-file "$dir/rx-rvfail.livepatch" \
			--string -xhp-rvtop >/dev/null
}

rx_forge() {
	local dir=$1 forge=$RX_TOP/tests/fixtures/forge-payload.sh
	[ -x "$forge" ] || { rx_die "missing tests/fixtures/forge-payload.sh"; return 1; }
	rm -rf "$dir"
	mkdir -p "$dir"
	local x=$RX_XEN_ID bad_id
	# the same length, every byte changed
	bad_id=$(printf '%s' "$x" | tr '0-9a-f' '123456789abcdef0')
	{
		local prev=$x n id
		for n in 1 2 3; do
			id=$("$forge" -o "$dir/rx-c$n.livepatch" --xen-id "$x" \
				--depends-id "$prev" --string "-xhp-c$n" --modinfo version=1) || return 1
			echo "RX_C${n}_ID=$id"
			prev=$id
		done
		id=$("$forge" -o "$dir/rx-cum.livepatch" --xen-id "$x" \
			--string "-xhp-cum" --modinfo version=2) || return 1
		echo "RX_CUM_ID=$id"
		id=$("$forge" -o "$dir/rx-r1.livepatch" --xen-id "$x" \
			--depends-file "$dir/rx-cum.livepatch" --string "-xhp-r1") || return 1
		echo "RX_R1_ID=$id"
		id=$("$forge" -o "$dir/rx-crash.livepatch" --xen-id "$x" \
			--depends-file "$dir/rx-r1.livepatch" --hook apply --string "-xhp-crash") || return 1
		echo "RX_CRASH_ID=$id"
		id=$("$forge" -o "$dir/rx-bad.livepatch" --xen-id "$bad_id" \
			--string "-xhp-bad") || return 1
		echo "RX_BAD_ID=$id"
		echo "RX_BAD_XEN_ID=$bad_id"
		id=$("$forge" -o "$dir/rx-nofn.livepatch" --xen-id "$x" \
			--depends-file "$dir/rx-c3.livepatch" \
			--func xhp_no_such_function:12) || return 1
		echo "RX_NOFN_ID=$id"
		cp "$dir/rx-c1.livepatch" "$dir/rx-c1dup.livepatch"
		id=$("$forge" -o "$dir/rx-syma.livepatch" --xen-id "$x" --sym xhp_rxdup \
			--string "-xhp-syma") || return 1
		echo "RX_SYMA_ID=$id"
		id=$("$forge" -o "$dir/rx-symb.livepatch" --xen-id "$x" --sym xhp_rxdup \
			--string "-xhp-symb") || return 1
		echo "RX_SYMB_ID=$id"
		prev=$x
		for n in 1 2 3 4 5 6; do
			id=$("$forge" -o "$dir/bench/rx-b$n.livepatch" --xen-id "$x" \
				--depends-id "$prev" --string "-xhp-b$n") || return 1
			prev=$id
		done
		rx_forge_late "$dir" || return 1
		echo "RX_XEN_ID=$x"
	} >"$dir/ids.env.tmp" && mv "$dir/ids.env.tmp" "$dir/ids.env"
}

# ---- the step runner (fidelity) ----------------------------------------------

# Build build/realxen/xhp-steps from tests/realxen/xhp-steps.c against the
# plain build's build/libxhp.a (the same library the tool is made of).
rx_build_steps() {
	RX_STEPS_BIN=$RX_WORK/xhp-steps
	local lib=$RX_TOP/build/libxhp.a src=$RX_HERE/xhp-steps.c
	[ -f "$lib" ] || { rx_die "no build/libxhp.a (make all)"; return 1; }
	if [ -x "$RX_STEPS_BIN" ] && [ "$RX_STEPS_BIN" -nt "$lib" ] && [ "$RX_STEPS_BIN" -nt "$src" ]; then
		return 0
	fi
	local cflags libs
	cflags=$(pkg-config --cflags libelf json-c xencontrol 2>/dev/null)
	libs=$(pkg-config --libs libelf json-c xencontrol 2>/dev/null) || libs="-lelf -ljson-c -lxenctrl"
	# shellcheck disable=SC2086
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -I"$RX_TOP/src" $cflags \
		-o "$RX_STEPS_BIN.tmp" "$src" "$lib" $libs &&
		mv "$RX_STEPS_BIN.tmp" "$RX_STEPS_BIN"
}

# ---- the dom0 disk ---------------------------------------------------------------

# rx_root_init ROOT: the cached base, plus the tier's files under /xhp-rx:
#   bin/ (init, scenarios, xhp-steps, fidelity.steps), payloads/, results/
rx_root_init() {
	local r=$1
	rx_untar "$RX_BASE_TAR" "$r" || return 1
	mkdir -p "$r/xhp-rx/bin" "$r/xhp-rx/results" "$r/usr/local/sbin"
	install -m 0755 "$RX_HERE/dom0-init.sh" "$r/usr/local/sbin/xhp-rx-init"
	install -m 0644 "$RX_HERE/scenarios.sh" "$r/xhp-rx/bin/scenarios.sh"
	install -m 0644 "$RX_HERE/boot-stages.sh" "$r/xhp-rx/bin/boot-stages.sh"
	install -m 0644 "$RX_HERE/fidelity.steps" "$r/xhp-rx/bin/fidelity.steps"
	install -m 0644 "$RX_HERE/fidelity-late.steps" "$r/xhp-rx/bin/fidelity-late.steps"
	install -m 0755 "$RX_HERE/tool-steps.sh" "$r/xhp-rx/bin/tool-steps.sh"
	install -m 0644 "$RX_TOP/tests/python/realxen_v6.py" "$r/xhp-rx/bin/realxen_v6.py"
	cp -r "$RX_PAYLOADS" "$r/xhp-rx/payloads"
	if [ -n "${RX_STEPS_BIN:-}" ] && [ -x "$RX_STEPS_BIN" ]; then
		install -m 0755 "$RX_STEPS_BIN" "$r/xhp-rx/bin/xhp-steps"
	fi
	# dom0 has no network: apt reads only the tier's local repository
	: >"$r/etc/apt/sources.list"
	# the initramfs is made by dracut (rx_initrd); initramfs-tools (pulled in
	# by the kernel package) must not rebuild one on every trigger
	if [ -f "$r/etc/initramfs-tools/update-initramfs.conf" ]; then
		sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$r/etc/initramfs-tools/update-initramfs.conf"
	fi
	echo dom0 >"$r/etc/hostname"
}

# rx_initrd ROOT OUT [DRACUT-MODULE...]: dracut, run inside the dom0 root
# (its kernel, its modules, its dracut modules), written to OUT. Cached
# under build/cache/realxen/initrd-KEY.img, KEY covering the base root, this
# function, the modules asked for and what the xen-hotpatch module installs.
rx_initrd() {
	local r=$1 out=$2
	shift 2
	local mods="base udev-rules rootfs-block fs-lib $*" key f
	key=$( {
		echo "$RX_KEY $mods"
		declare -f rx_initrd
		for f in "$r"/usr/lib/dracut/modules.d/95xen-hotpatch/* "$r/usr/sbin/xen-hotpatch" \
			"$r"/etc/xen-hotpatch/xen-hotpatch.conf "$r"/etc/xen-hotpatch/conf.d/*; do
			[ -f "$f" ] && sha1sum <"$f"
		done
	} | sha1sum | cut -c1-12)
	cp "$r/boot/vmlinuz-$RX_KREL" "$RX_WORK/vmlinuz"
	if [ -s "$RX_CACHE/initrd-$key.img" ]; then
		cp "$RX_CACHE/initrd-$key.img" "$out"
		return 0
	fi
	mkdir -p "$r/tmp/xhp-rx-dracut.d"
	rx_chroot "$r" dracut --force --no-hostonly --no-hostonly-cmdline \
		--kver "$RX_KREL" -m "$mods" \
		--add-drivers "virtio_pci virtio_blk ext4 xen-privcmd" \
		--force-drivers "virtio_pci virtio_blk" \
		--no-early-microcode --conf /dev/null --confdir /tmp/xhp-rx-dracut.d \
		/tmp/xhp-rx-initrd.img >"$RX_WORK/dracut.log" 2>&1 || {
		tail -n 20 "$RX_WORK/dracut.log"
		rx_die "dracut failed in the dom0 root (log: ${RX_WORK#"$RX_TOP"/}/dracut.log)"
		return 1
	}
	rm -f "$RX_CACHE"/initrd-*.img
	cp "$r/tmp/xhp-rx-initrd.img" "$RX_CACHE/initrd-$key.img"
	mv "$r/tmp/xhp-rx-initrd.img" "$out"
}

# rx_initrd_it ROOT OUT: the initramfs-tools image Debian's dom0 boots
# with: `update-initramfs -c` run inside the dom0 root, whose
# xen-hotpatch-initramfs-tools puts the tool and its init-bottom script in.
# The root's initramfs-tools configuration takes only the modules a virtio
# disk needs (MODULES=list: fast to build and to boot under TCG), and fsck
# for the ext4 root (FSTYPE: the build cannot probe /dev/vda), which checks
# it before it is mounted, as on a Debian dom0: after the host died (s3) the
# root disk, which has no journal, has bitmaps behind its inodes. Written to
# OUT; cached like rx_initrd, KEY covering what the image is made of.
rx_initrd_it() {
	local r=$1 out=$2 key f img=/boot/initrd.img-$RX_KREL
	key=$( {
		echo "$RX_KEY it"
		declare -f rx_initrd_it
		for f in "$r"/usr/share/initramfs-tools/hooks/xen-hotpatch \
			"$r"/usr/share/initramfs-tools/scripts/init-bottom/xen-hotpatch "$r/usr/sbin/xen-hotpatch" \
			"$r"/etc/xen-hotpatch/xen-hotpatch.conf "$r"/etc/xen-hotpatch/conf.d/*; do
			[ -f "$f" ] && sha1sum <"$f"
		done
	} | sha1sum | cut -c1-12)
	if [ -s "$RX_CACHE/initramfs-tools-$key.img" ]; then
		cp "$RX_CACHE/initramfs-tools-$key.img" "$out"
		return 0
	fi
	printf 'MODULES=list\nRESUME=none\nFSTYPE=ext4\n' >"$r/etc/initramfs-tools/conf.d/xhp-rx.conf"
	printf 'virtio_pci\nvirtio_blk\next4\n' >>"$r/etc/initramfs-tools/modules"
	rx_chroot "$r" update-initramfs -c -k "$RX_KREL" >"$RX_WORK/update-initramfs.log" 2>&1
	[ -s "$r$img" ] || {
		tail -n 20 "$RX_WORK/update-initramfs.log"
		rx_die "update-initramfs failed in the dom0 root (log: ${RX_WORK#"$RX_TOP"/}/update-initramfs.log)"
		return 1
	}
	rm -f "$RX_CACHE"/initramfs-tools-*.img
	cp "$r$img" "$RX_CACHE/initramfs-tools-$key.img"
	mv "$r$img" "$out"
}

# rx_disk ROOT IMG: an ext4 image made from the directory (no mount). No
# journal: the host reads the results back with debugfs after the guest's
# sync + power-off, with nothing to replay.
rx_disk() {
	local r=$1 img=$2 mb
	mb=$(du -sm "$r" | cut -f1)
	mb=$((mb + 768))
	rm -f "$img"
	mke2fs -q -F -t ext4 -O ^has_journal -L xhp-dom0 -d "$r" "$img" "${mb}M"
}

# rx_read IMG PATH: a file of the image on stdout (debugfs, no mount).
rx_read() {
	debugfs -R "cat $2" "$1" 2>/dev/null
}

# ---- QEMU ----------------------------------------------------------------------

# rx_boot NAME IMG "DOM0-CMDLINE-EXTRA" [INITRD]: boot Xen + dom0 on IMG once
# (one retry when the boot timed out: the disk is restored first), with
# INITRD (default: the dracut image, $RX_WORK/initrd.img). The serial
# console goes to $RX_LOGS/NAME.serial. Returns QEMU's status (124: timeout).
RX_BOOT_SECONDS=0
rx_boot() {
	local name=$1 img=$2 extra=$3 initrd=${4:-$RX_WORK/initrd.img} log=$RX_LOGS/$1.serial try rc t0
	local xen_cmd="console=com1 com1=115200,8n1 dom0_mem=$RX_DOM0_MEM,max:$RX_DOM0_MEM loglvl=all guest_loglvl=all $RX_XEN_CMD_EXTRA"
	local dom0_cmd="console=hvc0 earlyprintk=xen root=/dev/vda rw rootfstype=ext4 init=/usr/local/sbin/xhp-rx-init rd.shell=0 rd.retry=10 rd.timeout=180 panic=-1 loglevel=5 $extra"
	# -initrd lists the multiboot modules; a comma inside one is written ",,"
	dom0_cmd=${dom0_cmd//,/,,}
	cp --sparse=always "$img" "$img.pre"
	for try in 1 2; do
		t0=$(date +%s)
		rx_say "boot $name (try $try): Xen + dom0 under QEMU/TCG, timeout ${RX_BOOT_TIMEOUT_MIN} min"
		timeout -k 20 "${RX_BOOT_TIMEOUT_MIN}m" qemu-system-x86_64 -accel tcg -machine pc \
			-cpu Nehalem -m "$RX_QEMU_MEM" -smp "$RX_SMP" -nographic -no-reboot \
			-kernel "$RX_XEN_ELF" -append "$xen_cmd" \
			-initrd "$RX_WORK/vmlinuz $dom0_cmd,$initrd" \
			-drive "file=$img,format=raw,if=virtio" \
			</dev/null >"$log.try$try" 2>&1
		rc=$?
		RX_BOOT_SECONDS=$(( $(date +%s) - t0 ))
		rx_say "boot $name: QEMU exited $rc after ${RX_BOOT_SECONDS}s"
		cp "$log.try$try" "$log"
		if [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]; then
			break
		fi
		if [ "$try" = 1 ]; then
			rx_say "boot $name timed out: one retry from the same disk state"
			cp --sparse=always "$img.pre" "$img"
		fi
	done
	rm -f "$img.pre"
	return "$rc"
}

# ---- the project's packages -------------------------------------------------------

# rx_mkpkg FORMAT OUTDIR NAME VERSION [--obsoletes N]... PAYLOAD...: one payload
# package with scripts/xen-hotpatch-mkpkg (the tool from the plain build reads
# the payloads).
rx_mkpkg() {
	local fmt=$1 out=$2 name=$3 ver=$4
	shift 4
	mkdir -p "$out"
	XEN_HOTPATCH=$RX_TOP/build/xen-hotpatch "$RX_TOP/scripts/xen-hotpatch-mkpkg" "--$fmt" \
		--name "$name" --version "$ver" --outdir "$out" "$@"
}

# rx_debs DIR: the project's .debs (make deb, built in DIR) and the payload
# packages: DIR/repo1 (what s1 installs) and DIR/repo2 (the cumulative as
# version 2 of xen-hotpatch-rx-c3, renaming rx-c1 and rx-c2 away), each a
# flat apt repository. Sets RX_PROJ_DEBS. Output in DIR/debs.log.
# B goes to make through the environment: on the command line it would reach
# debian/rules through MAKEFLAGS and override its own B (whose clean target
# removes $(B)).
rx_debs() {
	local d=$1 p=$RX_PAYLOADS
	rm -rf "$d/repo1" "$d/repo2"
	{
		rx_proj_debs "$d" &&
		rx_mkpkg deb "$d/repo1" xen-hotpatch-rx-c1 1 "$p/rx-c1.livepatch" &&
		rx_mkpkg deb "$d/repo1" xen-hotpatch-rx-c2 1 "$p/rx-c2.livepatch" &&
		rx_mkpkg deb "$d/repo1" xen-hotpatch-rx-c3 1 "$p/rx-c3.livepatch" &&
		rx_mkpkg deb "$d/repo1" xen-hotpatch-rx-nofn 1 "$p/rx-nofn.livepatch" &&
		rx_mkpkg deb "$d/repo1" xen-hotpatch-rx-bad 1 "$p/rx-bad.livepatch" &&
		cp -r "$d/repo1" "$d/repo2" &&
		rx_mkpkg deb "$d/repo2" xen-hotpatch-rx-c3 2 --obsoletes xen-hotpatch-rx-c1 \
			--obsoletes xen-hotpatch-rx-c2 "$p/rx-cum.livepatch" &&
		(cd "$d/repo1" && dpkg-scanpackages . >Packages 2>/dev/null) &&
		(cd "$d/repo2" && dpkg-scanpackages . >Packages 2>/dev/null)
	} >"$d/debs.log" 2>&1
}

# rx_proj_debs DIR: the project's .debs (make deb, built in DIR); sets
# RX_PROJ_DEBS (the tool, its initramfs packages and the Python bindings).
rx_proj_debs() {
	local d=$1 f
	B=$d make -s -C "$RX_TOP" deb || return 1
	RX_PROJ_DEBS=""
	for f in "$d"/deb/xen-hotpatch_*.deb "$d"/deb/xen-hotpatch-dracut_*.deb \
		"$d"/deb/xen-hotpatch-initramfs-tools_*.deb "$d"/deb/python3-xen-hotpatch_*.deb; do
		[ -f "$f" ] && RX_PROJ_DEBS="$RX_PROJ_DEBS $f"
	done
	[ -n "$RX_PROJ_DEBS" ]
}

# rx_rpms DIR: the project's RPMs (make rpm) and an RPM repository DIR/rpmrepo
# with xen-hotpatch-rx-cum and xen-hotpatch-rx-r1 (stacked on it). Sets
# RX_PROJ_RPM (the tool's RPM). Output in DIR/rpms.log.
rx_rpms() {
	local d=$1 p=$RX_PAYLOADS
	rm -rf "$d/rpmrepo"
	{
		B=$d make -s -C "$RX_TOP" rpm &&
		rx_mkpkg rpm "$d/rpmrepo" xen-hotpatch-rx-cum 1 "$p/rx-cum.livepatch" &&
		rx_mkpkg rpm "$d/rpmrepo" xen-hotpatch-rx-r1 1 "$p/rx-r1.livepatch" &&
		createrepo_c -q "$d/rpmrepo"
	} >"$d/rpms.log" 2>&1 || return 1
	local f
	RX_PROJ_RPM=""
	for f in "$d"/rpm/RPMS/*/xen-hotpatch-[0-9]*.rpm; do
		[ -f "$f" ] && RX_PROJ_RPM=$f
	done
	[ -n "$RX_PROJ_RPM" ]
}

# rx_root_debs ROOT DIR: the project's .debs installed with apt in the root
# (chroot, offline: their dependencies are in the base), the payload
# repositories at /xhp-rx/repo1 and /xhp-rx/repo2, apt pointed at repo1.
rx_root_debs() {
	local r=$1 d=$2
	rx_root_proj_debs "$r" "$d/root-debs.log" || return 1
	cp -r "$d/repo1" "$d/repo2" "$r/xhp-rx/"
	echo "deb [trusted=yes] file:/xhp-rx/repo1 ./" >"$r/etc/apt/sources.list"
}

# rx_root_proj_debs ROOT LOG: apt-get install of $RX_PROJ_DEBS in the root
# (chroot, offline), its output in LOG.
rx_root_proj_debs() {
	local r=$1 f list=""
	mkdir -p "$r/tmp/xhp-rx-debs"
	for f in $RX_PROJ_DEBS; do
		cp "$f" "$r/tmp/xhp-rx-debs/"
		list="$list /tmp/xhp-rx-debs/${f##*/}"
	done
	# shellcheck disable=SC2086 # a list of files
	rx_chroot_apt "$r" install -y --no-install-recommends $list >"$2" 2>&1 || return 1
	rm -rf "$r/tmp/xhp-rx-debs"
}

# rx_root_rpms ROOT DIR: the tool's RPM in the root's rpmdb (rpm -i --nodeps:
# its library requirements are Debian packages, unknown to rpm), so that its
# transaction file trigger runs for payload RPMs; dnf pointed at the repo.
rx_root_rpms() {
	local r=$1 d=$2
	mkdir -p "$r/etc/rpm" "$r/etc/yum.repos.d" "$r/var/lib/rpm"
	echo '%_dbpath /var/lib/rpm' >"$r/etc/rpm/macros.xhp-rx"
	cp "$RX_PROJ_RPM" "$r/tmp/xhp-rx-tool.rpm"
	rx_chroot "$r" rpm -i --nodeps --replacefiles /tmp/xhp-rx-tool.rpm >"$d/root-rpms.log" 2>&1 || return 1
	rm -f "$r/tmp/xhp-rx-tool.rpm"
	cp -r "$d/rpmrepo" "$r/xhp-rx/rpmrepo"
	printf '[xhp-rx]\nname=xhp-rx\nbaseurl=file:///xhp-rx/rpmrepo\ngpgcheck=0\nenabled=1\n' \
		>"$r/etc/yum.repos.d/xhp-rx.repo"
}
