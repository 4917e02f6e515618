# xen-hotpatch: top-level build. See README.md.
#   make            build xen-hotpatch and xen-hotpatch-sim into build/
#   make demo       forge a small chain and run it on the simulated hypervisor
#   make check      install test dependencies (apt) when missing, run every tier
#   make bench      print performance figures
#   make fuzz       run the payload-reader fuzzer (FUZZ_SECONDS, default 60)
#   make man        the manual pages (pod2man) into build/man
#   make install    PREFIX=/usr DESTDIR=...
#   make dist rpm deb

VERSION    := $(shell sed -n 's/^\#define XHP_VERSION_STRING "\(.*\)"/\1/p' src/xhp.h)
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
LIBEXECDIR ?= $(PREFIX)/libexec
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=

CC       ?= cc
B        ?= build
CFLAGS   ?= -O2 -g
XHP_STD    := -std=c11
XHP_CFLAGS := -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
              -Wmissing-prototypes -Wstrict-prototypes -Isrc
PKG_LIBS := libelf json-c
LIBS     := $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null || echo -lelf -ljson-c)
XHP_CFLAGS += $(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null)

# The xen backend is compiled in when libxenctrl is present (Debian libxen-dev).
# Only what can reach it links libxenctrl: the tool, not the simulator's
# control program (its package must not pull in the Xen libraries).
WITH_XEN ?= $(shell pkg-config --exists xencontrol && echo yes || echo no)
XEN_CFLAGS :=
XEN_LIBS   :=
ifeq ($(WITH_XEN),yes)
XEN_CFLAGS := -DHAVE_XEN $(shell pkg-config --cflags xencontrol)
XEN_LIBS   := $(shell pkg-config --libs xencontrol)
endif

MAINS    := src/main.c src/xen-hotpatch-sim.c
CMD_SRCS := $(wildcard src/cmd-*.c)
LIB_SRCS := $(filter-out $(MAINS) $(CMD_SRCS),$(wildcard src/*.c))
HDRS     := $(wildcard src/*.h)

LIB_OBJS := $(LIB_SRCS:src/%.c=$(B)/obj/%.o)
CMD_OBJS := $(CMD_SRCS:src/%.c=$(B)/obj/%.o)
# src/backend-xen.c is built twice: with libxenctrl (in libxhp.a, for the
# tool and the unit tests) and as its stub (backend-noxen.o) for
# xen-hotpatch-sim, whose package must not pull in the Xen libraries. The
# stub object comes before libxhp.a on the sim's link line, so the linker
# never takes the archive's backend-xen.o (nor libxenctrl) for it.
XEN_OBJ   := $(B)/obj/backend-xen.o
NOXEN_OBJ := $(B)/obj/backend-noxen.o

all: $(B)/xen-hotpatch $(B)/xen-hotpatch-sim $(B)/xen-hotpatch-diff

$(B)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(XHP_STD) $(XHP_CFLAGS) $(CFLAGS) -c -o $@ $<

# xenctrl.h itself needs GNU C (anonymous unions, __align8__): only the file
# that includes it is built as gnu11; everything else is strict C11.
$(XEN_OBJ): XHP_STD := -std=gnu11
$(XEN_OBJ): XHP_CFLAGS += $(XEN_CFLAGS)
$(NOXEN_OBJ): src/backend-xen.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(XHP_STD) $(XHP_CFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libxhp.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/xen-hotpatch: $(B)/obj/main.o $(CMD_OBJS) $(B)/libxhp.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(B)/obj/main.o $(CMD_OBJS) $(B)/libxhp.a $(LIBS) $(XEN_LIBS)

$(B)/xen-hotpatch-sim: $(B)/obj/xen-hotpatch-sim.o $(B)/libxhp.a $(NOXEN_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(NOXEN_OBJ) $(B)/libxhp.a $(LIBS)

# ---- the payload builder's diff engine: its own program (src/builder/), ---
# ---- linking libxhp for the payload reader and build-id helpers -----------
BUILDER_SRCS := $(wildcard src/builder/*.c)
BUILDER_HDRS := $(wildcard src/builder/*.h)
BUILDER_OBJS := $(BUILDER_SRCS:src/builder/%.c=$(B)/obj/builder/%.o)
$(B)/obj/builder/%.o: src/builder/%.c $(BUILDER_HDRS) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(XHP_STD) $(XHP_CFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/xen-hotpatch-diff: $(BUILDER_OBJS) $(B)/libxhp.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(BUILDER_OBJS) $(B)/libxhp.a $(LIBS)

# ---- unit tests (cmocka), one binary per tests/unit/test-*.c -------------
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/unit/%)
# the payload builder's helpers: its objects but main's, then libxhp
$(B)/unit/test-builder: tests/unit/test-builder.c $(filter-out %/main.o,$(BUILDER_OBJS)) $(B)/libxhp.a $(HDRS) $(BUILDER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(XHP_STD) $(XHP_CFLAGS) $(CFLAGS) -o $@ $< $(filter-out %/main.o,$(BUILDER_OBJS)) $(B)/libxhp.a $(LIBS) -lcmocka
$(B)/unit/%: tests/unit/%.c $(B)/libxhp.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(XHP_STD) $(XHP_CFLAGS) $(CFLAGS) -o $@ $< $(B)/libxhp.a $(LIBS) $(XEN_LIBS) -lcmocka
unit: $(UNIT_BINS)

# ---- Python bindings (python, install-python) -------------------------------
include src/python/python.mk

# ---- sanitizer build used by make check ------------------------------------
asan:
	$(MAKE) B=build/asan CC=$(CC) \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all unit python

# ---- fuzzing (libFuzzer, clang) --------------------------------------------
FUZZ_SECONDS ?= 60
$(B)/fuzz/fuzz-payload: tests/fuzz/fuzz-payload.c $(LIB_SRCS) $(HDRS)
	@mkdir -p $(@D)
	clang -std=gnu11 $(XHP_CFLAGS) $(XEN_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ \
	  tests/fuzz/fuzz-payload.c $(LIB_SRCS) $(LIBS) $(XEN_LIBS)
fuzz: $(B)/fuzz/fuzz-payload
	tests/fuzz/run.sh $(B)/fuzz/fuzz-payload $(FUZZ_SECONDS)

# ---- the two commands of README.md ----------------------------------------
demo: deps
	$(MAKE) all
	tests/demo.sh

check: deps
	$(MAKE) all
	$(MAKE) asan
	tests/run-all.sh

deps:
	tests/install-deps.sh

bench: all
	tests/bench.sh

# ---- manual pages -------------------------------------------------------------
# One source per page, rendered here for every packaging (make install puts
# them under MANDIR; debian/ and the spec list the installed files):
# src/man/NAME.SECTION.pod, or the POD inside a Perl command (dh_xen_hotpatch,
# as debhelper's own commands do). A new page is a new src/man/NAME.SECTION.pod:
# the wildcard renders and installs it; its package lists it.
MAN_PAGES := $(patsubst src/man/%.pod,$(B)/man/%,$(wildcard src/man/*.pod)) $(B)/man/dh_xen_hotpatch.1
POD2MAN   := pod2man --center=xen-hotpatch --release="xen-hotpatch $(VERSION)"
man: $(MAN_PAGES)
$(B)/man/%: src/man/%.pod
	@mkdir -p $(@D)
	$(POD2MAN) --section=$(subst .,,$(suffix $*)) --name="$$(echo $(basename $(notdir $*)) | tr a-z A-Z)" $< $@
$(B)/man/dh_xen_hotpatch.1: scripts/debhelper/dh_xen_hotpatch
	@mkdir -p $(@D)
	$(POD2MAN) --section=1 --center=Debhelper --name=DH_XEN_HOTPATCH $< $@

# ---- install / dist ---------------------------------------------------------
# Every deliverable file, "source:destination:mode". A missing source fails
# the install: add an entry together with the file it names.
INSTALL_FILES := \
  $(B)/xen-hotpatch:$(SBINDIR)/xen-hotpatch:0755 \
  $(B)/xen-hotpatch-sim:$(BINDIR)/xen-hotpatch-sim:0755 \
  policy/xen-hotpatch.conf:$(SYSCONFDIR)/xen-hotpatch/xen-hotpatch.conf:0644 \
  scripts/xen-hotpatch.service:$(LIBDIR)/systemd/system/xen-hotpatch.service:0644 \
  scripts/xen-hotpatch-mkpkg:$(BINDIR)/xen-hotpatch-mkpkg:0755 \
  dracut/95xen-hotpatch/module-setup.sh:$(LIBDIR)/dracut/modules.d/95xen-hotpatch/module-setup.sh:0755 \
  dracut/95xen-hotpatch/xen-hotpatch-hook.sh:$(LIBDIR)/dracut/modules.d/95xen-hotpatch/xen-hotpatch-hook.sh:0755 \
  dracut/initramfs-tools/hooks/xen-hotpatch:$(PREFIX)/share/initramfs-tools/hooks/xen-hotpatch:0755 \
  dracut/initramfs-tools/init-bottom/xen-hotpatch:$(PREFIX)/share/initramfs-tools/scripts/init-bottom/xen-hotpatch:0755 \
  spec/macros.xen-hotpatch:$(LIBDIR)/rpm/macros.d/macros.xen-hotpatch:0644 \
  spec/xen_hotpatch.attr:$(LIBDIR)/rpm/fileattrs/xen_hotpatch.attr:0644 \
  spec/xen-hotpatch-rpmdeps:$(LIBDIR)/rpm/xen-hotpatch-rpmdeps:0755 \
  scripts/debhelper/dh_xen_hotpatch:$(BINDIR)/dh_xen_hotpatch:0755 \
  scripts/debhelper/xen_hotpatch.pm:$(PREFIX)/share/perl5/Debian/Debhelper/Sequence/xen_hotpatch.pm:0644 \
  scripts/mkpkg-common.sh:$(PREFIX)/share/xen-hotpatch/mkpkg/mkpkg-common.sh:0644 \
  scripts/mkpkg-rpm.sh:$(PREFIX)/share/xen-hotpatch/mkpkg/mkpkg-rpm.sh:0644 \
  scripts/mkpkg-deb.sh:$(PREFIX)/share/xen-hotpatch/mkpkg/mkpkg-deb.sh:0644 \
  spec/payload.spec.in:$(PREFIX)/share/xen-hotpatch/mkpkg/payload.spec.in:0644 \
  spec/payload.rpmlintrc:$(PREFIX)/share/xen-hotpatch/mkpkg/payload.rpmlintrc:0644 \
  scripts/xen-hotpatch-build:$(BINDIR)/xen-hotpatch-build:0755 \
  scripts/kit-lib.sh:$(PREFIX)/share/xen-hotpatch/build/kit-lib.sh:0644 \
  scripts/build-kit.sh:$(PREFIX)/share/xen-hotpatch/build/build-kit.sh:0644 \
  spec/kit.spec.in:$(PREFIX)/share/xen-hotpatch/build/kit.spec.in:0644 \
  spec/kit.rpmlintrc:$(PREFIX)/share/xen-hotpatch/build/kit.rpmlintrc:0644 \
  spec/macros.xen-hotpatch-kit:$(LIBDIR)/rpm/macros.d/macros.xen-hotpatch-kit:0644 \
  spec/xen_hotpatch_kit.attr:$(LIBDIR)/rpm/fileattrs/xen_hotpatch_kit.attr:0644 \
  spec/xen-hotpatch-kit-rpmdeps:$(LIBDIR)/rpm/xen-hotpatch-kit-rpmdeps:0755 \
  scripts/mkpkg-kit.sh:$(PREFIX)/share/xen-hotpatch/mkpkg/mkpkg-kit.sh:0644 \
  scripts/mkpkg-kit-deb.sh:$(PREFIX)/share/xen-hotpatch/mkpkg/mkpkg-kit-deb.sh:0644 \
  scripts/mkpkg-kit-rpm.sh:$(PREFIX)/share/xen-hotpatch/mkpkg/mkpkg-kit-rpm.sh:0644 \
  $(B)/xen-hotpatch-diff:$(LIBEXECDIR)/xen-hotpatch/xen-hotpatch-diff:0755 \
  scripts/build-payload.sh:$(PREFIX)/share/xen-hotpatch/build/build-payload.sh:0644 \
  $(foreach m,$(MAN_PAGES),$(m):$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)):0644)

install: all man
	@set -e; for e in $(INSTALL_FILES); do \
	  src=$${e%%:*}; rest=$${e#*:}; dst=$${rest%:*}; mode=$${rest##*:}; \
	  if [ ! -e "$$src" ]; then echo "make install: $$src is missing (INSTALL_FILES)" >&2; exit 1; fi; \
	  install -D -m $$mode "$$src" "$(DESTDIR)$$dst"; done
	install -d -m 0755 $(DESTDIR)$(LIBDIR)/xen-hotpatch
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/xen-hotpatch/conf.d

# The working tree's files (tracked and untracked, minus what .gitignore says),
# so uncommitted work is included; deleted tracked files are left out.
dist:
	@mkdir -p $(B)
	{ git ls-files -co --exclude-standard; git ls-files -d; } | LC_ALL=C sort | uniq -u | \
	  tar --no-recursion --sort=name --owner=0 --group=0 --numeric-owner \
	    --transform 's,^,xen-hotpatch-$(VERSION)/,' \
	    -czf $(B)/xen-hotpatch-$(VERSION).tar.gz --verbatim-files-from -T -
	@echo $(B)/xen-hotpatch-$(VERSION).tar.gz

# RPMs of this tree (spec/xen-hotpatch.spec) into $(B)/rpm/RPMS and SRPMS.
# --nodeps: the spec's BuildRequires name Fedora/RHEL packages (xen-devel, ...)
# that a Debian host's rpmdb does not know; the build tools are those of
# tests/install-deps.sh. HOME points at $(B)/rpm so that Debian's rpm keeps its
# database (%_dbpath ~/.rpmdb) out of the user's home.
RPM_TOPDIR := $(abspath $(B))/rpm
rpm: dist
	@v=$$(sed -n 's/^Version:[[:space:]]*//p' spec/xen-hotpatch.spec); \
	  [ "$$v" = "$(VERSION)" ] || { echo "spec/xen-hotpatch.spec: Version $$v, src/xhp.h says $(VERSION)" >&2; exit 1; }
	rm -rf $(RPM_TOPDIR)
	mkdir -p $(RPM_TOPDIR)
	HOME=$(RPM_TOPDIR) rpmbuild -ta --nodeps --define '_topdir $(RPM_TOPDIR)' \
	  $(B)/xen-hotpatch-$(VERSION).tar.gz
	@ls $(RPM_TOPDIR)/RPMS/*/*.rpm

# Debian packages of this tree (debian/) into $(B)/deb: dpkg-buildpackage runs
# in an unpacked copy of `make dist`, so the working tree gets no debian/tmp
# and the .debs do not land in its parent folder.
DEB_DIR := $(abspath $(B))/deb
deb: dist
	@v=$$(dpkg-parsechangelog -S Version); \
	  [ "$$v" = "$(VERSION)" ] || { echo "debian/changelog: Version $$v, src/xhp.h says $(VERSION)" >&2; exit 1; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -C $(DEB_DIR)/src -xzf $(B)/xen-hotpatch-$(VERSION).tar.gz
	# MAKEFLAGS would carry this make's B= into debian/rules (which builds into
	# and cleans its own debian/build): the package build starts from none.
	cd $(DEB_DIR)/src/xen-hotpatch-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b
	mv $(DEB_DIR)/src/*.deb $(DEB_DIR)/src/*.buildinfo $(DEB_DIR)/src/*.changes $(DEB_DIR)/
	rm -rf $(DEB_DIR)/src
	@ls $(DEB_DIR)/*.deb

# The Xen hypervisor with livepatch and its kit subpackage (spec/xen-livepatch.spec.in)
# into $(B)/xen-rpm/RPMS and SRPMS. XEN_ORIG: Debian's orig tarball of a Xen
# snapshot, xen_X.Y.Z+N-gCOMMIT.orig.tar.xz (`xen-hotpatch-build kit --debian`
# keeps 4.17.5+72's in its download cache); its name fills in the spec. The kit
# builder, kit macros and dependency generator are this tree's; --nodeps and
# HOME as for `make rpm`. Takes a hypervisor build (minutes).
XEN_RPM_TOPDIR := $(abspath $(B))/xen-rpm
xen-livepatch-rpm:
	@v=$$(printf '%s\n' "$(notdir $(XEN_ORIG))" | \
	  sed -n 's/^xen_\([0-9][0-9.]*\)\(+[0-9][0-9]*\)-\(g[0-9a-f]*\)\.orig\.tar\.[a-z0-9]*$$/\1 \2 \3/p'); \
	  if [ ! -f "$(XEN_ORIG)" ] || [ -z "$$v" ]; then \
	    echo "XEN_ORIG=$(XEN_ORIG): give Debian's orig tarball of a Xen snapshot, xen_X.Y.Z+N-gCOMMIT.orig.tar.xz" >&2; exit 1; fi; \
	  rm -rf $(XEN_RPM_TOPDIR) && mkdir -p $(XEN_RPM_TOPDIR)/SOURCES $(XEN_RPM_TOPDIR)/SPECS && \
	  set -- $$v && sed -e "s/@XEN_UPSTREAM@/$$1/" -e "s/@XEN_SNAPSHOT@/$$2/" -e "s/@XEN_COMMIT@/$$3/" \
	    spec/xen-livepatch.spec.in > $(XEN_RPM_TOPDIR)/SPECS/xen-livepatch.spec
	cp $(XEN_ORIG) spec/xen-livepatch.config $(XEN_RPM_TOPDIR)/SOURCES/
	sh -c '. scripts/mkpkg-kit-rpm.sh && mkpkg_kit_rpm_macros "$$1" "$$2"' sh $(abspath spec) $(XEN_RPM_TOPDIR)
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL HOME=$(XEN_RPM_TOPDIR) XEN_HOTPATCH_BUILD_LIB=$(abspath scripts) \
	  rpmbuild -ba --nodeps --define '_topdir $(XEN_RPM_TOPDIR)' --load $(XEN_RPM_TOPDIR)/kit-rpm.macros \
	  --define 'xen_hotpatch_build $(abspath scripts/xen-hotpatch-build)' $(XEN_RPM_TOPDIR)/SPECS/xen-livepatch.spec
	@ls $(XEN_RPM_TOPDIR)/RPMS/*/*.rpm

clean:
	rm -rf build

.PHONY: all unit asan fuzz demo check deps bench man install dist clean rpm deb xen-livepatch-rpm
