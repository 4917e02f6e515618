# shellcheck shell=sh
# shellcheck disable=SC2154 # prog, die and the MKPKG_* / KIT_* values come from mkpkg-kit.sh
# Debian part of `xen-hotpatch-mkpkg --kit`: a source package holding the kit,
# built with dpkg-buildpackage (debhelper compat 13). The kit is installed as it
# is: no stripping (its objects and xen-syms must stay the originals), no shlibs
# (nothing in it runs on dom0).

mkpkg_kit_deb() {
	# shellcheck source=scripts/mkpkg-deb.sh
	. "$lib/mkpkg-deb.sh"	# mkpkg_deb_fold, mkpkg_deb_changelog, mkpkg_deb_build
	command -v dpkg-buildpackage >/dev/null 2>&1 || die "dpkg-buildpackage not found (install dpkg-dev)"
	command -v dh >/dev/null 2>&1 || die "dh not found (install debhelper)"
	printf '%s\n' "$MKPKG_NAME" | grep -Eq '^[a-z0-9][a-z0-9.+-]+$' ||
		die "--name $MKPKG_NAME: not a Debian package name (lower-case letters, digits, . + -)"
	printf '%s\n' "$MKPKG_VERSION-$MKPKG_RELEASE" | grep -Eq '^[0-9][A-Za-z0-9.+~]*-[A-Za-z0-9.+~]+$' ||
		die "version $MKPKG_VERSION-$MKPKG_RELEASE: not a Debian version"

	src=$MKPKG_WORK/deb/$MKPKG_NAME-$MKPKG_VERSION
	mkdir -p "$src/debian/source"
	mkpkg_kit_copy "$src/kit/$XEN_BUILD_ID"

	rel=$(kit_pkg_relations deb) || exit 1
	provides=$(printf '%s\n' "$rel" | sed -n 's/^provides //p' | paste -sd, - | sed 's/,/, /g')
	depends=$(printf '%s\n' "$rel" | sed -n 's/^requires //p' | paste -sd, - | sed 's/,/, /g')
	if [ -z "$depends" ]; then
		printf '%s: warning: the kit names no dpkg packages for its compiler (%s): no exact dependency on them\n' \
			"$prog" "$KIT_CC_VERSION" >&2
	fi
	summary=$(printf '%s' "$MKPKG_SUMMARY" | tr '\n' ' ')
	{
		printf 'Source: %s\nSection: devel\nPriority: optional\n' "$MKPKG_NAME"
		printf 'Maintainer: %s\n' "$(printf '%s' "$MKPKG_MAINTAINER" | tr '\n' ' ')"
		printf 'Build-Depends: debhelper-compat (= 13)\n'
		printf 'Rules-Requires-Root: no\nStandards-Version: 4.6.2\n\n'
		printf 'Package: %s\n' "$MKPKG_NAME"
		# x86-64 objects of the hypervisor build
		printf 'Architecture: amd64\n'
		# shellcheck disable=SC2016 # substvars
		printf 'Depends: ${misc:Depends}, ${shlibs:Depends}%s\n' "${depends:+, $depends}"
		printf 'Recommends: xen-hotpatch-build\n'
		[ -z "${KIT_DEBIAN_HYPERVISOR_PACKAGE:-}" ] ||
			printf 'Enhances: %s (= %s)\n' "$KIT_DEBIAN_HYPERVISOR_PACKAGE" "$XEN_VERSION"
		printf 'Provides: %s\n' "$provides"
		printf 'Description: %s\n' "$summary"
		mkpkg_kit_description | mkpkg_deb_fold
	} > "$src/debian/control"
	mkpkg_deb_changelog "$MKPKG_VERSION-$MKPKG_RELEASE" > "$src/debian/changelog"
	cat > "$src/debian/rules" <<'EOF'
#!/usr/bin/make -f
%:
	dh $@

# The kit is installed exactly as built: its objects and xen-syms are the
# hypervisor's originals, and nothing in it is a dom0 program or library.
# (dh_shlibdeps still runs: the tree's build tools, fixdep and the like, are
# dom0 programs that make runs when a tree is rebuilt.)
override_dh_strip override_dh_dwz override_dh_makeshlibs override_dh_strip_nondeterminism:
	@:

# A kit is hundreds of megabytes of objects: xz -1 packs 324 MB in well under
# a minute where the default xz -6 takes five (zstd would be faster still, but
# Debian's tools call a zstd .deb malformed).
override_dh_builddeb:
	dh_builddeb -- -Zxz -z1
EOF
	chmod 0755 "$src/debian/rules"
	printf '3.0 (native)\n' > "$src/debian/source/format"
	printf 'kit/%s %s/\n' "$XEN_BUILD_ID" "$MKPKG_KIT_PREFIX" > "$src/debian/$MKPKG_NAME.install"
	mkpkg_kit_deb_copyright > "$src/debian/copyright"
	mkpkg_kit_deb_overrides > "$src/debian/$MKPKG_NAME.lintian-overrides"

	mkpkg_deb_build "$src" 'debhelper-compat (= 13)' "$MKPKG_OUTDIR"
}

mkpkg_kit_deb_copyright() {
	printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n'
	printf 'Files: *\nCopyright: 2002-2025 The Xen Project contributors\nLicense: GPL-2\n'
	printf ' The kit is the Xen hypervisor source tree, built (see kit/*/tree/xen/COPYING\n'
	printf ' for the licences of its parts).\n .\n'
	printf ' On Debian systems, the complete text of the GNU General Public License\n'
	printf ' version 2 can be found in /usr/share/common-licenses/GPL-2.\n'
}

# What lintian says of any kit, and why it is so.
mkpkg_kit_deb_overrides() {
	p=$MKPKG_NAME
	k=${MKPKG_KIT_DEST#/}
	printf '# A kit is the hypervisor build tree kept exactly as built: xen-syms and\n'
	printf '# xen are the hypervisor (a static image, its symbols are what payloads\n'
	printf '# are linked against), the build tools keep their symbols too.\n'
	printf '%s: statically-linked-binary [%s/*]\n' "$p" "$k"
	printf '%s: unstripped-binary-or-object [%s/*]\n' "$p" "$k"
	printf '# Boot and EFI images of the hypervisor build (not dom0 programs).\n'
	printf '%s: executable-not-elf-or-script [%s/*]\n' "$p" "$k"
	printf '# The Xen source tree as released.\n'
	printf '%s: package-contains-vcs-control-file [%s/*]\n' "$p" "$k"
	printf '# Xen'\''s build makes xen/source a link to its own folder (Kbuild'\''s srctree).\n'
	printf '%s: symlink-is-self-recursive . [%s/tree/xen/source]\n' "$p" "$k"
	printf '# Kit packages are made locally by xen-hotpatch-mkpkg, not uploaded.\n'
	printf '%s: initial-upload-closes-no-bugs\n' "$p"
}
