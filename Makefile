# SPDX-License-Identifier: Apache-2.0
# podman-disk
#
#   make              build build/podman-disk
#   make check        run the unit and end-to-end tests (README's test command;
#                     TESTS="tests/test-x.sh ..." runs some only)
#   make check-sanitize   the same, built with ASan+UBSan into build-sanitize/
#   make demo         build a demo containerDisk image and show locate/json on it
#   make bench        speed ratios against the alternatives, measured in one run
#   make check-valgrind   the e2e tests with podman-disk under valgrind memcheck
#   make fuzz         libFuzzer targets, FUZZ_SECONDS each (fuzz-ci: 20 s); fuzz/fuzz.mk
#   make deps         install the build and test dependencies (apt-get or dnf)
#   make man          the man pages, man/*.1 and man/*.5, with go-md2man
#   make install      PREFIX=/usr/local DESTDIR= (also BINDIR, LIBEXECDIR,
#                     MANDIR, HOOKSDIR, NBDKIT_PLUGINDIR, SYSTEMDUNITDIR,
#                     ...); make uninstall
#                     undoes it
#   make plugin       the nbdkit plugin build/nbdkit-podman-disk-plugin.so
#                     (also built by 'make' when nbdkit's plugin header is
#                     there: Debian nbdkit-plugin-dev, Fedora nbdkit-devel)
#   make dist         podman-disk-VERSION.tar.gz of the files git tracks
#   make rpm          build the RPMs from it (RPMBUILD_FLAGS=--nodeps off Fedora)

PACKAGE_VERSION = 0.1.0

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
HOOKSDIR   ?= $(DATADIR)/containers/oci/hooks.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# nbdkit loads 'nbdkit podman-disk' from its own plugin directory only.
NBDKIT_PLUGINDIR ?= $(shell $(PKG_CONFIG) --variable=plugindir nbdkit 2>/dev/null)
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
BUILDDIR   ?= build
SANITIZE   ?=
MAKEFLAGS  += --no-print-directory

# json-c is on every path and linked; the others are loaded with dlopen on
# first use (src/common/dl.c), so only their headers are needed here.
DL_PKGS    = libarchive libnbd mount libselinux
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags json-c $(DL_PKGS))
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs json-c)
soname      = $(shell objdump -p $$($(PKG_CONFIG) --variable=libdir $(1))/$(2).so 2>/dev/null | awk '/SONAME/ {print $$2}')
SONAMES    := -DLIBARCHIVE_SONAME='"$(or $(call soname,libarchive,libarchive),libarchive.so.13)"' \
              -DLIBNBD_SONAME='"$(or $(call soname,libnbd,libnbd),libnbd.so.0)"' \
              -DLIBMOUNT_SONAME='"$(or $(call soname,mount,libmount),libmount.so.1)"' \
              -DLIBSELINUX_SONAME='"libselinux.so.1"'

WARNFLAGS  = -Wall -Wextra -Wformat=2 -Wshadow
CFLAGS     ?= -O2 -g
ifneq ($(SANITIZE),)
CFLAGS     += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DPACKAGE_VERSION='"$(PACKAGE_VERSION)"' \
             -DLIBEXECDIR='"$(LIBEXECDIR)"' $(SONAMES) \
             -DNBDKIT_PLUGINDIR='"$(NBDKIT_PLUGINDIR)"' \
             -DPLUGIN_BESIDE_PROGRAM=$(if $(SANITIZE),0,1) \
             -Isrc $(WARNFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LIBS       = $(PKG_LIBS) -ldl

SRCS       = $(wildcard src/*.c src/common/*.c src/image/*.c src/storage/*.c src/layout/*.c src/serve/*.c src/registry/*.c src/hook/*.c src/clone/*.c src/pull/*.c)
OBJS       = $(SRCS:%.c=$(BUILDDIR)/%.o)
LIB_OBJS   = $(filter-out $(BUILDDIR)/src/main.o,$(OBJS))
UNIT_SRCS  = $(wildcard tests/unit/test-*.c)
UNIT_BINS  = $(UNIT_SRCS:%.c=$(BUILDDIR)/%)
PROG       = $(BUILDDIR)/podman-disk

# The nbdkit plugin (src/nbdkit/): a shared object linked against the core
# library, the CLI's own sources and location record without main and the
# commands, compiled a second time as position-independent code under
# $(BUILDDIR)/pic/.  Only plugin_init and the plugin's -D debug flag are
# exported (src/nbdkit/plugin.syms): podman-disk's error() must not meet
# glibc's in nbdkit's global symbol scope.
HAVE_NBDKIT := $(shell $(PKG_CONFIG) --exists nbdkit 2>/dev/null && test -f "$$($(PKG_CONFIG) --variable=includedir nbdkit)/nbdkit-plugin.h" && echo yes)
PLUGIN     = $(BUILDDIR)/nbdkit-podman-disk-plugin.so
PLUGIN_SRCS = $(wildcard src/nbdkit/*.c)
PLUGIN_OBJS = $(PLUGIN_SRCS:%.c=$(BUILDDIR)/pic/%.o)
CORE_SRCS  = $(filter-out src/main.c src/cmd-%.c,$(SRCS))
CORE_PIC_OBJS = $(CORE_SRCS:%.c=$(BUILDDIR)/pic/%.o)
CORE_PIC_LIB = $(BUILDDIR)/pic/libpodman-disk-core.a
# (after PROG: their rules name it as a prerequisite, expanded when read)
include fuzz/fuzz.mk
include tests/valgrind/valgrind.mk
# hooks.d files of the build tree, pointing at its binary: try the hook
# with 'podman --hooks-dir build/hooks run ...' (make install writes the
# installed ones).
HOOKS      = $(patsubst hooks/%.json.in,$(BUILDDIR)/hooks/%.json,$(wildcard hooks/*.json.in))

# Man pages: man/NAME.SECTION from man/NAME.SECTION.md, built by 'make'
# only when go-md2man is there (Debian go-md2man, Fedora
# golang-github-cpuguy83-md2man).
GO_MD2MAN  ?= go-md2man
HAVE_MD2MAN := $(shell command -v $(GO_MD2MAN) 2>/dev/null)
MAN_SRCS   = $(wildcard man/*.md)
MAN_PAGES  = $(MAN_SRCS:.md=)

DIST_NAME  = podman-disk-$(PACKAGE_VERSION)
DIST_TARBALL = $(DIST_NAME).tar.gz
RPMTOPDIR  ?= $(abspath $(BUILDDIR))/rpmbuild
RPMBUILD_FLAGS ?=

.PHONY: all check check-run check-sanitize unit demo bench deps install uninstall clean
.PHONY: man dist rpm plugin

all: $(PROG) $(HOOKS) $(if $(HAVE_MD2MAN),man) $(if $(HAVE_NBDKIT),$(PLUGIN))

$(PROG): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILDDIR)/hooks/%.json: hooks/%.json.in Makefile
	@mkdir -p $(@D)
	sed 's|@BINDIR@|$(abspath $(BUILDDIR))|g' $< > $@

$(BUILDDIR)/libpodman-disk.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILDDIR)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

plugin: $(PLUGIN)

$(BUILDDIR)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(CORE_PIC_LIB): $(CORE_PIC_OBJS)
	rm -f $@ && ar rcs $@ $^

# Linked with everything it needs but nbdkit's own nbdkit_* functions: any
# other undefined symbol would only fail when nbdkit loads the plugin.
$(PLUGIN): $(PLUGIN_OBJS) $(CORE_PIC_LIB) src/nbdkit/plugin.syms
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=src/nbdkit/plugin.syms \
	    -Wl,-Bsymbolic -o $@.tmp $(PLUGIN_OBJS) $(CORE_PIC_LIB) $(LIBS)
	@# (A sanitizer build leaves libc's intercepted functions unversioned.)
	@undefined=$$(nm -D --undefined-only $@.tmp | awk '$$1 == "U" && $$2 !~ /@/ && $$2 !~ /^nbdkit_/ {print $$2}'); \
	if [ -z "$(SANITIZE)" ] && [ -n "$$undefined" ]; then echo "$@: undefined symbols:" $$undefined >&2; rm -f $@.tmp; exit 1; fi
	mv $@.tmp $@

$(BUILDDIR)/tests/unit/%: tests/unit/%.c $(BUILDDIR)/libpodman-disk.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILDDIR)/libpodman-disk.a $(LIBS)

unit: $(UNIT_BINS)

# check and demo install what is missing first; the recursive make then
# sees the pkg-config flags of what was just installed.
check:
	scripts/deps.sh
	$(MAKE) check-run

check-run: $(PROG) $(UNIT_BINS) $(if $(HAVE_NBDKIT),$(PLUGIN))
	PODMAN_DISK=$(abspath $(PROG)) PODMAN_DISK_PLUGIN=$(abspath $(PLUGIN)) \
	  BUILDDIR=$(abspath $(BUILDDIR)) SKIP_ONCE_TESTS="$(SKIP_ONCE_TESTS)" tests/run $(TESTS)

# Run once, in the plain 'make check' (CI runs all three): guest boots,
# and the RPM build, which compiles its own binaries from the spec
# whatever this build's variant.
ONCE_TESTS = test-clone-boot test-rpm

# The store churn of test-concurrency runs 30 s here, 60 s in the plain
# check: its races are the same, and ASan sees them in either.
check-sanitize:
	CONCURRENCY_SECONDS=30 $(MAKE) BUILDDIR=build-sanitize SANITIZE=1 SKIP_ONCE_TESTS="$(ONCE_TESTS)" check

demo:
	scripts/deps.sh
	$(MAKE) $(PROG)
	PODMAN_DISK=$(abspath $(PROG)) scripts/demo.sh

bench: $(PROG) $(if $(HAVE_NBDKIT),$(PLUGIN))
	PODMAN_DISK=$(abspath $(PROG)) PODMAN_DISK_PLUGIN=$(abspath $(PLUGIN)) bench/run

deps:
	scripts/deps.sh

man: $(MAN_PAGES)

$(MAN_PAGES): %: %.md
	@command -v $(GO_MD2MAN) >/dev/null || { echo "make man: $(GO_MD2MAN) not found: install go-md2man (Debian) or golang-github-cpuguy83-md2man (Fedora)" >&2; exit 1; }
	$(GO_MD2MAN) -in $< -out $@

# The man pages are installed when they were built (go-md2man present).  The
# hooks.d files come from hooks/*.json.in with the installed paths filled in;
# the systemd units name the installed binary.
install: $(PROG) $(if $(HAVE_MD2MAN),man) $(if $(HAVE_NBDKIT),$(PLUGIN))
	install -D -m 0755 $(PROG) $(DESTDIR)$(BINDIR)/podman-disk
	if [ -f $(PLUGIN) ] && [ -n "$(NBDKIT_PLUGINDIR)" ]; then \
	    install -D -m 0755 $(PLUGIN) $(DESTDIR)$(NBDKIT_PLUGINDIR)/nbdkit-podman-disk-plugin.so; \
	fi
	for page in $(MAN_PAGES); do \
	    [ -f "$$page" ] || continue; \
	    section=$${page##*.}; \
	    install -D -m 0644 "$$page" "$(DESTDIR)$(MANDIR)/man$$section/$${page##*/}" || exit; \
	done
	install -D -m 0644 completion/podman-disk.bash $(DESTDIR)$(BASHCOMPDIR)/podman-disk
	install -D -m 0644 completion/_podman-disk $(DESTDIR)$(ZSHCOMPDIR)/_podman-disk
	install -D -m 0644 completion/podman-disk.fish $(DESTDIR)$(FISHCOMPDIR)/podman-disk.fish
	for src in $(wildcard hooks/*.json.in); do \
	    out=$(DESTDIR)$(HOOKSDIR)/$$(basename "$$src" .in); \
	    mkdir -p "$${out%/*}" && \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
	        "$$src" > "$$out.tmp" && chmod 0644 "$$out.tmp" && mv "$$out.tmp" "$$out" || exit; \
	done
	for unit in $(wildcard systemd/*.socket systemd/*.service); do \
	    out=$(DESTDIR)$(SYSTEMDUNITDIR)/$${unit##*/}; \
	    mkdir -p "$${out%/*}" && \
	    sed -e 's|/usr/bin/podman-disk|$(BINDIR)/podman-disk|g' \
	        "$$unit" > "$$out.tmp" && chmod 0644 "$$out.tmp" && mv "$$out.tmp" "$$out" || exit; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/podman-disk
	if [ -n "$(NBDKIT_PLUGINDIR)" ]; then \
	    rm -f $(DESTDIR)$(NBDKIT_PLUGINDIR)/nbdkit-podman-disk-plugin.so; \
	fi
	for page in $(MAN_PAGES); do \
	    section=$${page##*.}; \
	    rm -f "$(DESTDIR)$(MANDIR)/man$$section/$${page##*/}"; \
	done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/podman-disk
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_podman-disk
	rm -f $(DESTDIR)$(FISHCOMPDIR)/podman-disk.fish
	for src in $(wildcard hooks/*.json.in); do \
	    rm -f "$(DESTDIR)$(HOOKSDIR)/$$(basename "$$src" .in)"; \
	done
	for unit in $(wildcard systemd/*.socket systemd/*.service); do \
	    rm -f "$(DESTDIR)$(SYSTEMDUNITDIR)/$${unit##*/}"; \
	done

# The files git tracks, as they are in the working tree, under
# podman-disk-VERSION/ (rpmbuild -ta finds the spec in it).
dist:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "make dist: needs the git checkout (it packs the files git tracks)" >&2; exit 1; }
	git ls-files -z | xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	    tar --null -T - --transform 's|^|$(DIST_NAME)/|' --owner=0 --group=0 \
	        --numeric-owner --sort=name -czf $(DIST_TARBALL).tmp
	mv $(DIST_TARBALL).tmp $(DIST_TARBALL)
	@echo "wrote $(DIST_TARBALL)"

# RPMs from the dist tarball, in a private _topdir under $(BUILDDIR).
rpm: dist
	rm -rf $(RPMTOPDIR)
	mkdir -p $(RPMTOPDIR)
	rpmbuild -ta --define "_topdir $(RPMTOPDIR)" $(RPMBUILD_FLAGS) $(DIST_TARBALL)
	@find $(RPMTOPDIR)/RPMS $(RPMTOPDIR)/SRPMS -name '*.rpm' -printf 'wrote %p\n'

clean:
	rm -rf build build-sanitize build-fuzz
	rm -f $(MAN_PAGES) $(DIST_TARBALL)

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(CORE_PIC_OBJS:.o=.d) $(PLUGIN_OBJS:.o=.d)
