# shellcheck shell=bash
# Cached inputs of the boot tier, under $XHP_CACHE (build/cache/, git-ignored).
# Each is rebuilt when missing, written under a temporary name and renamed, so
# a run killed half-way or a helper running at the same time never sees half a
# file. Sourced by tests/boot/run.sh.
#
#   boot_cache_kernel        -> KVER, KDEB, KTREE (extracted linux-image, depmod run)
#   boot_cache_minbase       -> MINBASE_TAR (debootstrap --variant=minbase bookworm,
#                               shared name with the Debian packaging tier)
#   boot_cache_itroot PKGS   -> ITROOT_TAR (minbase + initramfs-tools-core + kmod
#                               + PKGS + the kernel's /boot/config and xen modules)

: "${XHP_CACHE:?}"

# shellcheck source=tests/lib/minbase.sh
. "${XHP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib/minbase.sh"

# Serialise creators of one cache entry (another tier may build the same one).
boot_cache_lock() {
	exec {BOOT_LOCK_FD}>"$XHP_CACHE/.$1.lock"
	flock "$BOOT_LOCK_FD"
}
boot_cache_unlock() {
	exec {BOOT_LOCK_FD}>&-
}

# The Debian 12 kernel the linux-image-amd64 metapackage points at (any one
# already cached is reused, so a cache keeps working after a point release).
boot_cache_kernel() {
	mkdir -p "$XHP_CACHE"
	boot_cache_lock kernel
	KDEB=$(find "$XHP_CACHE" -maxdepth 1 -name 'linux-image-6.*-amd64_*_amd64.deb' | sort | tail -n 1)
	if [ -z "$KDEB" ]; then
		local pkg tmp
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^[[:space:]]*Depends: \(linux-image-[0-9][^[:space:]]*-amd64\)$/\1/p' | head -n 1)
		if [ -z "$pkg" ]; then
			echo "boot: cannot find the linux-image package behind linux-image-amd64" >&2
			boot_cache_unlock
			return 1
		fi
		echo "boot: downloading $pkg (cached in $XHP_CACHE)"
		tmp=$(mktemp -d "$XHP_CACHE/.dl.XXXXXX")
		chmod 0777 "$tmp"
		if ! (cd "$tmp" && apt-get -q download "$pkg" >/dev/null 2>&1); then
			echo "boot: apt-get download $pkg failed" >&2
			rm -rf "$tmp"
			boot_cache_unlock
			return 1
		fi
		KDEB="$XHP_CACHE/$(basename "$tmp"/*.deb)"
		mv "$tmp"/*.deb "$KDEB"
		rmdir "$tmp"
	fi
	KVER=$(dpkg-deb -f "$KDEB" Package)
	KVER=${KVER#linux-image-}
	KTREE="$XHP_CACHE/kernel-$KVER"
	if [ ! -e "$KTREE/lib/modules/$KVER/modules.dep" ]; then
		local tmp
		echo "boot: extracting $(basename "$KDEB")"
		tmp=$(mktemp -d "$XHP_CACHE/.kx.XXXXXX")
		dpkg-deb -x "$KDEB" "$tmp"
		depmod -b "$tmp" "$KVER"
		rm -rf "$KTREE"
		mv "$tmp" "$KTREE"
	fi
	boot_cache_unlock
}

# debootstrap --variant=minbase bookworm, as a tarball shared with the other tiers.
boot_cache_minbase() {
	xhp_minbase "$XHP_CACHE" bookworm
}

# Run a command chrooted into ROOT with its own /proc (a private mount
# namespace: nothing stays mounted on the host whatever happens).
boot_chroot_proc() {
	local root=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private --fork -- /bin/sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" || exit 99
		exec chroot "$r" "$@"
	' sh "$root" "$@"
}

# The minbase root with initramfs-tools-core, kmod and the packages named in
# $1 (the tool's runtime libraries) installed from the archive, and the
# kernel's config and Xen modules in place: what mkinitramfs needs. Only the
# kernel's drivers/xen directory is copied (plus depmod's files), which is all
# a MODULES=list image with the xen-hotpatch hook asks for.
boot_cache_itroot() {
	local extra=$1 key
	boot_cache_kernel || return 1
	boot_cache_minbase || return 1
	key=$(printf '%s %s' "$KVER" "$extra" | sha1sum | cut -c1-12)
	ITROOT_TAR="$XHP_CACHE/boot-itroot-$key.tar"
	boot_cache_lock boot-itroot
	if [ ! -s "$ITROOT_TAR" ]; then
		local tmp r rc=0
		tmp=$(mktemp -d "$XHP_CACHE/.itroot.XXXXXX")
		r="$tmp/root"
		mkdir "$r"
		tar -C "$r" -xf "$MINBASE_TAR"
		echo "boot: installing initramfs-tools-core $extra into a minbase chroot (once)"
		cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || :
		# No service may start inside the chroot.
		printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
		chmod 0755 "$r/usr/sbin/policy-rc.d"
		# shellcheck disable=SC2086 # $extra is a list of package names
		{
			boot_chroot_proc "$r" env DEBIAN_FRONTEND=noninteractive \
				apt-get -q -o APT::Sandbox::User=root update &&
				boot_chroot_proc "$r" env DEBIAN_FRONTEND=noninteractive \
					apt-get -q -y -o APT::Sandbox::User=root --no-install-recommends \
					install initramfs-tools-core kmod zstd cpio $extra
		} >"$tmp/apt.log" 2>&1 || rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "boot: apt-get in the chroot failed; last lines:" >&2
			tail -n 20 "$tmp/apt.log" >&2
			rm -rf "$tmp"
			boot_cache_unlock
			return 1
		fi
		rm -f "$r/usr/sbin/policy-rc.d"
		chroot "$r" apt-get clean
		mkdir -p "$r/boot" "$r/lib/modules/$KVER/kernel/drivers"
		cp "$KTREE/boot/config-$KVER" "$r/boot/"
		cp -a "$KTREE/lib/modules/$KVER/kernel/drivers/xen" "$r/lib/modules/$KVER/kernel/drivers/"
		cp -a "$KTREE/lib/modules/$KVER"/modules.builtin* "$KTREE/lib/modules/$KVER/modules.order" \
			"$r/lib/modules/$KVER/"
		chroot "$r" depmod "$KVER"
		tar -C "$r" -cf "$ITROOT_TAR.tmp.$$" .
		mv "$ITROOT_TAR.tmp.$$" "$ITROOT_TAR"
		rm -rf "$tmp"
	fi
	boot_cache_unlock
}
