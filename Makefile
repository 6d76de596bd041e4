# podman-disk
#
#   make              build build/podman-disk
#   make check        run the unit and end-to-end tests (README's test command;
#                     TESTS="tests/test-x.sh ..." runs some only)
#   make check-sanitize   the same, built with ASan+UBSan into build-sanitize/
#   make demo         build a demo containerDisk image and show locate/json on it
#   make bench        speed ratios against the alternatives, measured in one run
#   make deps         install the build and test dependencies (apt-get or dnf)
#   make install      PREFIX=/usr/local DESTDIR=

PACKAGE_VERSION = 0.1.0

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
HOOKSDIR   ?= $(DATADIR)/containers/oci/hooks.d
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

WARNFLAGS  = -Wall -Wextra -Wno-unused-parameter -Wformat=2 -Wshadow
CFLAGS     ?= -O2 -g
ifneq ($(SANITIZE),)
CFLAGS     += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DPACKAGE_VERSION='"$(PACKAGE_VERSION)"' \
             -DLIBEXECDIR='"$(LIBEXECDIR)"' $(SONAMES) \
             -Isrc $(WARNFLAGS) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LIBS       = $(PKG_LIBS) -ldl

SRCS       = $(wildcard src/*.c src/common/*.c src/storage/*.c src/layout/*.c src/hook/*.c)
OBJS       = $(SRCS:%.c=$(BUILDDIR)/%.o)
LIB_OBJS   = $(filter-out $(BUILDDIR)/src/main.o,$(OBJS))
UNIT_SRCS  = $(wildcard tests/unit/test-*.c)
UNIT_BINS  = $(UNIT_SRCS:%.c=$(BUILDDIR)/%)
PROG       = $(BUILDDIR)/podman-disk
# hooks.d files of the build tree, pointing at its binary: try the hook
# with 'podman --hooks-dir build/hooks run ...' (make install writes the
# installed ones).
HOOKS      = $(patsubst hooks/%.json.in,$(BUILDDIR)/hooks/%.json,$(wildcard hooks/*.json.in))

.PHONY: all check check-run check-sanitize unit demo bench deps install uninstall clean

all: $(PROG) $(HOOKS)

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

$(BUILDDIR)/tests/unit/%: tests/unit/%.c $(BUILDDIR)/libpodman-disk.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILDDIR)/libpodman-disk.a $(LIBS)

unit: $(UNIT_BINS)

# check and demo install what is missing first; the recursive make then
# sees the pkg-config flags of what was just installed.
check:
	scripts/deps.sh
	$(MAKE) check-run

check-run: $(PROG) $(UNIT_BINS)
	PODMAN_DISK=$(abspath $(PROG)) BUILDDIR=$(abspath $(BUILDDIR)) tests/run $(TESTS)

check-sanitize:
	$(MAKE) BUILDDIR=build-sanitize SANITIZE=1 check

demo:
	scripts/deps.sh
	$(MAKE) $(PROG)
	PODMAN_DISK=$(abspath $(PROG)) scripts/demo.sh

bench: $(PROG)
	PODMAN_DISK=$(abspath $(PROG)) bench/run

deps:
	scripts/deps.sh

install: $(PROG)
	install -D -m 0755 $(PROG) $(DESTDIR)$(BINDIR)/podman-disk
	# The hooks.d files name the binary where it is installed.
	install -d $(DESTDIR)$(HOOKSDIR)
	for h in hooks/*.json.in; do \
	  sed 's|@BINDIR@|$(BINDIR)|g' $$h > $(DESTDIR)$(HOOKSDIR)/$$(basename $$h .in); \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/podman-disk
	rm -f $(patsubst hooks/%.json.in,$(DESTDIR)$(HOOKSDIR)/%.json,$(wildcard hooks/*.json.in))

clean:
	rm -rf build build-sanitize

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d)
