# shellcheck shell=bash
# Helpers of the deb tier: a cached debootstrap root, restored fresh per
# scenario group, and ways to run apt/dpkg in it.
#
#   deb_cache_root            make build/cache/deb-root-bookworm.tar once
#   deb_root_new DIR          restore a fresh root into DIR
#   deb_root_done DIR         unmount and delete it
#   in_root DIR CMD...        run CMD chrooted in DIR (clean environment;
#                             XEN_HOTPATCH_SIM_FAIL passed on when set)
#   apt_root DIR ARGS...      apt-get ARGS in DIR, quiet, non-interactive
#   deb_root_installable DIR PKG...  refresh DIR's lists if PKG... cannot be installed
#
# The mirror is read from the host's apt sources at run time (never written
# into this file); the root gets the host's sources so that the archive
# versions our packages were built against are reachable.

DEB_SUITE=${DEB_SUITE:-bookworm}
DEB_CACHE_DIR=${DEB_CACHE_DIR:-$XHP_TOP/build/cache}
DEB_MINBASE_TAR=$DEB_CACHE_DIR/$DEB_SUITE-minbase.tar
DEB_ROOT_TAR=$DEB_CACHE_DIR/deb-root-$DEB_SUITE.tar
DEB_ARCHIVES=$DEB_CACHE_DIR/deb-archives-$DEB_SUITE
DEB_CACHE_MAX_DAYS=${DEB_CACHE_MAX_DAYS:-14}

# shellcheck source=tests/lib/minbase.sh
. "$XHP_TOP/tests/lib/minbase.sh"
deb_mirror() { xhp_mirror "$DEB_SUITE"; }

# Serialise makers of one cache entry (another tier may make the same one).
deb_cache_lock() {
	exec {DEB_LOCK_FD}>"$DEB_CACHE_DIR/.$1.lock"
	flock "$DEB_LOCK_FD"
}
deb_cache_unlock() { exec {DEB_LOCK_FD}>&-; }

# debootstrap --variant=minbase, as a tarball shared with the other tiers.
deb_cache_minbase() {
	xhp_minbase "$DEB_CACHE_DIR" "$DEB_SUITE"
}

# The minbase root with the host's apt sources (all suites: updates and
# security carry the library versions our binaries were linked against),
# fresh package lists and a policy-rc.d that lets no daemon start. Remade
# when older than DEB_CACHE_MAX_DAYS (package lists go stale).
deb_cache_root() {
	deb_cache_minbase || return 1
	deb_cache_lock "deb-root-$DEB_SUITE"
	if [ -s "$DEB_ROOT_TAR" ] && [ -z "$(find "$DEB_ROOT_TAR" -mtime +"$DEB_CACHE_MAX_DAYS")" ]; then
		deb_cache_unlock
		return 0
	fi
	local tmp r s rc=0
	tmp=$(mktemp -d "$DEB_CACHE_DIR/.deb-root.XXXXXX")
	r=$tmp/root
	mkdir "$r"
	echo "deb: preparing the test root (once; cached as $DEB_ROOT_TAR)"
	tar -C "$r" -xf "$DEB_MINBASE_TAR"
	rm -f "$r/etc/apt/sources.list"
	for s in /etc/apt/sources.list.d/*.sources; do
		[ -f "$s" ] && cp "$s" "$r/etc/apt/sources.list.d/host-$(basename "$s")"
	done
	[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$r/etc/apt/sources.list.d/host.list"
	printf '#!/bin/sh\nexit 101\n' > "$r/usr/sbin/policy-rc.d"
	chmod 0755 "$r/usr/sbin/policy-rc.d"
	in_root "$r" apt-get -q -o Acquire::Retries=3 update > "$tmp/apt.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "deb: apt-get update in the root failed; last lines:" >&2
		tail -n 20 "$tmp/apt.log" >&2
		rm -rf "$tmp"
		deb_cache_unlock
		return 1
	fi
	rm -f "$r"/var/cache/apt/archives/*.deb
	tar -C "$r" -cf "$DEB_ROOT_TAR.tmp.$$" . && mv "$DEB_ROOT_TAR.tmp.$$" "$DEB_ROOT_TAR"
	rm -rf "$tmp"
	# archive packages kept for the old lists are of no use with the new ones
	rm -rf "$DEB_ARCHIVES"
	deb_cache_unlock
}

deb_root_new() {
	local dir=$1
	deb_root_done "$dir"
	mkdir -p "$dir"
	tar -C "$dir" -xf "$DEB_ROOT_TAR" || return 1
	cp /etc/resolv.conf "$dir/etc/resolv.conf" 2> /dev/null || :
	mkdir -p "$DEB_ARCHIVES"
	# archive packages downloaded by earlier groups (hard links: no copy)
	find "$DEB_ARCHIVES" -name '*.deb' -exec cp -l {} "$dir/var/cache/apt/archives/" \; 2>/dev/null ||
		find "$DEB_ARCHIVES" -name '*.deb' -exec cp {} "$dir/var/cache/apt/archives/" \;
}

deb_root_done() {
	local dir=$1
	[ -d "$dir" ] || return 0
	if mountpoint -q "$dir/proc"; then umount "$dir/proc" || umount -l "$dir/proc"; fi
	if [ -d "$dir/var/cache/apt/archives" ] && [ -d "$DEB_ARCHIVES" ]; then
		find "$dir/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n {} "$DEB_ARCHIVES/" \;
	fi
	# never follow anything out of the root: /proc is unmounted above
	mountpoint -q "$dir/proc" && { echo "deb: $dir/proc still mounted" >&2; return 1; }
	rm -rf --one-file-system "$dir"
}

# /proc is mounted only while a command runs in the root, so that a root is
# never copied or deleted with the host's /proc inside it.
in_root() {
	local dir=$1; shift
	local envs=(PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive HOME=/root)
	[ -n "${XEN_HOTPATCH_SIM_FAIL:-}" ] && envs+=("XEN_HOTPATCH_SIM_FAIL=$XEN_HOTPATCH_SIM_FAIL")
	local rc=0 mounted=0
	if ! mountpoint -q "$dir/proc"; then
		mount -t proc proc "$dir/proc" || return 1
		mounted=1
	fi
	chroot "$dir" env -i "${envs[@]}" "$@" || rc=$?
	[ "$mounted" = 1 ] && { umount "$dir/proc" || umount -l "$dir/proc"; }
	return "$rc"
}

# deb_root_installable DIR PKG...: make sure apt in DIR can install PKG...;
# when the cached package lists are older than what the packages were built
# against (the host got a newer library), refresh them in this root.
deb_root_installable() {
	local dir=$1; shift
	apt_root "$dir" install -s "$@" > /dev/null 2>&1 && return 0
	echo "deb: package lists of the cached root are stale: apt-get update in this root"
	apt_root "$dir" -o Acquire::Retries=3 update > /dev/null 2>&1 || return 1
	apt_root "$dir" install -s "$@" > /dev/null
}

apt_root() {
	local dir=$1; shift
	in_root "$dir" apt-get -y -q -o Dpkg::Use-Pty=0 -o APT::Color=0 "$@"
}

# deb_roots_cleanup_on_exit: the roots a tier lists in ROOTS are let go
# (deb_root_done) when it exits, however it exits
ROOTS=()
deb_roots_cleanup() {
	local r
	for r in "${ROOTS[@]}"; do deb_root_done "$r"; done
}
deb_roots_cleanup_on_exit() {
	trap deb_roots_cleanup EXIT
	trap 'exit 130' INT TERM
}
