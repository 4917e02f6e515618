# xen_hotpatch, the Python bindings, and the Ansible collection over them
# (included by the top-level Makefile).
#   make python           build $(B)/python/xen_hotpatch/ (PYTHONPATH=$(B)/python)
#   make install-python   install it under $(PYTHON_SITEARCH) (DESTDIR aware)
#   make install-ansible  install the collection xen.hotpatch under
#                         $(ANSIBLE_COLLECTIONS_DIR), its modules also under
#                         $(ANSIBLE_MODULES_DIR) (short names without
#                         `collections:`)
# The library is built a second time as position-independent code for the
# extension ($(B)/pic). PYTHON is Debian's interpreter, never a pyenv one
# from PATH: the extension is built for the interpreter that loads it.

PYTHON          ?= /usr/bin/python3
PY_CFG           = $(PYTHON) -c 'import sysconfig as s; print(s.$(1))'
PY_INCLUDE      := $(shell $(call PY_CFG,get_paths()["include"]) 2>/dev/null)
PY_EXT_SUFFIX   := $(shell $(call PY_CFG,get_config_var("EXT_SUFFIX")) 2>/dev/null)
# Debian: /usr/lib/python3/dist-packages (the deb_system scheme); elsewhere
# the interpreter's platlib. Packagers pass their own (RPM: %{python3_sitearch}).
PYTHON_SITEARCH ?= $(shell $(PYTHON) -c 'import sysconfig as s; \
  n = "deb_system" if "deb_system" in s.get_scheme_names() else None; \
  print(s.get_path("platlib", n) if n else s.get_path("platlib"))' 2>/dev/null)

PY_SRCS  := $(wildcard src/python/*.c)
PY_HDRS  := $(wildcard src/python/*.h)
PY_FILES := $(wildcard src/python/xen_hotpatch/*.py src/python/xen_hotpatch/*.pyi) \
            src/python/xen_hotpatch/py.typed
PIC_OBJS := $(LIB_SRCS:src/%.c=$(B)/pic/%.o)
PY_PKG   := $(B)/python/xen_hotpatch
PY_EXT   := $(PY_PKG)/_xen_hotpatch$(PY_EXT_SUFFIX)

$(B)/pic/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(XHP_STD) $(XHP_CFLAGS) $(CFLAGS) -fPIC -c -o $@ $<
$(B)/pic/backend-xen.o: XHP_STD := -std=gnu11
$(B)/pic/backend-xen.o: XHP_CFLAGS += $(XEN_CFLAGS)

$(B)/libxhp-pic.a: $(PIC_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(PY_EXT): $(PY_SRCS) $(PY_HDRS) $(HDRS) $(B)/libxhp-pic.a
	@test -n "$(PY_INCLUDE)" -a -f "$(PY_INCLUDE)/Python.h" || \
	  { echo "python: no Python.h for $(PYTHON) (install python3-dev)" >&2; exit 1; }
	@mkdir -p $(@D)
	$(CC) $(XHP_STD) $(XHP_CFLAGS) -I$(PY_INCLUDE) -Isrc/python $(CFLAGS) -fPIC -shared \
	  -fvisibility=hidden $(LDFLAGS) -o $@ $(PY_SRCS) $(B)/libxhp-pic.a $(LIBS) $(XEN_LIBS)

python: $(PY_EXT) $(PY_FILES)
	@mkdir -p $(PY_PKG)
	cp $(PY_FILES) $(PY_PKG)/

install-python: python
	install -d $(DESTDIR)$(PYTHON_SITEARCH)/xen_hotpatch
	install -m 0644 $(PY_FILES) $(DESTDIR)$(PYTHON_SITEARCH)/xen_hotpatch/
	install -m 0644 $(PY_EXT) $(DESTDIR)$(PYTHON_SITEARCH)/xen_hotpatch/

# The collection: every file under src/ansible/ansible_collections.
ANSIBLE_COLLECTIONS_DIR ?= $(PREFIX)/share/ansible/collections
ANSIBLE_MODULES_DIR     ?= $(PREFIX)/share/ansible/plugins/modules
ANSIBLE_FILES := $(shell cd src/ansible && find ansible_collections -type f ! -name '*.pyc' | LC_ALL=C sort)
ANSIBLE_MODULES := $(notdir $(wildcard src/ansible/ansible_collections/xen/hotpatch/plugins/modules/*.py))

install-ansible:
	@set -e; for f in $(ANSIBLE_FILES); do \
	  install -D -m 0644 "src/ansible/$$f" "$(DESTDIR)$(ANSIBLE_COLLECTIONS_DIR)/$$f"; done
	install -d $(DESTDIR)$(ANSIBLE_MODULES_DIR)
	@set -e; for m in $(ANSIBLE_MODULES); do \
	  ln -sfr "$(DESTDIR)$(ANSIBLE_COLLECTIONS_DIR)/ansible_collections/xen/hotpatch/plugins/modules/$$m" \
	    "$(DESTDIR)$(ANSIBLE_MODULES_DIR)/$$m"; done

.PHONY: python install-python install-ansible
