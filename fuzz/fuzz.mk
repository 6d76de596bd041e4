# SPDX-License-Identifier: Apache-2.0
# podman-disk fuzzing (issue 7), included by the Makefile.
#
#   make fuzz         build the libFuzzer targets fuzz/fuzz-NAME.c with clang
#                     (ASan+UBSan) into build-fuzz/ and run each for
#                     FUZZ_SECONDS (default 60) from fuzz/corpus/NAME/
#   make fuzz-ci      the same, 20 s per target, with a fixed libFuzzer seed
#                     (FUZZ_SEED, default 1) from an empty work corpus: the
#                     same inputs in CI as in a run here, so CI does not go
#                     red on a crash that nobody could have seen first
#   FUZZ_NAMES="oci"  either of them for the named targets only
#
# Every target is also built with $(CC) against the normal library as the
# unit test build/tests/unit/test-fuzz-NAME, which replays its seed corpus
# and its regression inputs (fuzz/regress/NAME/, crashes found and fixed),
# so 'make check' keeps them fixed without clang.

# Included before the Makefile's first rule: keep 'all' the default goal.
.DEFAULT_GOAL := all

FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_BUILDDIR  = build-fuzz
FUZZ_SANITIZE  = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS    = -O1 -g -fno-omit-frame-pointer $(FUZZ_SANITIZE) \
                 -Wno-format-nonliteral
# A target whose module has not landed yet is left out until it does.
FUZZ_NEEDS_toml      = src/storage/toml.c
FUZZ_NEEDS_storejson = src/storage/storejson.c
FUZZ_NEEDS_reference = src/storage/reference.c
FUZZ_NEEDS_tarscan   = src/image/tarscan.c
FUZZ_NEEDS_tarwalk   = src/image/tarwalk.c
FUZZ_NEEDS_archive   = src/layout/layout.c
FUZZ_NEEDS_oci       = src/layout/index.c
FUZZ_NEEDS_hook      = src/hook/state.c
FUZZ_ALL       = $(patsubst fuzz/fuzz-%.c,%,$(wildcard fuzz/fuzz-*.c))
FUZZ_NAMES     = $(foreach n,$(FUZZ_ALL),$(if $(wildcard $(or $(FUZZ_NEEDS_$(n)),fuzz/fuzz-$(n).c)),$(n)))
FUZZ_BINS      = $(FUZZ_NAMES:%=$(FUZZ_BUILDDIR)/fuzz/fuzz-%)
FUZZ_REPLAYS   = $(FUZZ_NAMES:%=$(BUILDDIR)/tests/unit/test-fuzz-%)
UNIT_BINS     += $(FUZZ_REPLAYS)

.PHONY: fuzz fuzz-ci fuzz-build

$(BUILDDIR)/tests/unit/test-fuzz-%: fuzz/fuzz-%.c fuzz/replay.c fuzz/fuzz.h $(BUILDDIR)/libpodman-disk.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -DFUZZ_NAME='"$*"' \
	  -DFUZZ_DIR='"$(abspath fuzz)"' -o $@ fuzz/replay.c $< \
	  $(BUILDDIR)/libpodman-disk.a $(LIBS)

# The library is built by this Makefile itself with clang; the fuzzer's
# coverage instrumentation goes on the library (fuzzer-no-link) and the
# fuzzer's main on the targets.
fuzz-build:
	$(MAKE) BUILDDIR=$(FUZZ_BUILDDIR) CC=$(FUZZ_CC) \
	  CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" \
	  LDFLAGS="$(FUZZ_SANITIZE)" $(FUZZ_BUILDDIR)/libpodman-disk.a
	$(MAKE) $(FUZZ_BINS)

$(FUZZ_BUILDDIR)/fuzz/fuzz-%: fuzz/fuzz-%.c fuzz/fuzz.h $(FUZZ_BUILDDIR)/libpodman-disk.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(filter-out $(CFLAGS),$(ALL_CFLAGS)) $(FUZZ_CFLAGS) \
	  -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILDDIR)/libpodman-disk.a $(LIBS)

fuzz: fuzz-build
	fuzz/run $(FUZZ_SECONDS) $(FUZZ_NAMES)

FUZZ_SEED ?= 1
fuzz-ci: fuzz-build
	rm -rf $(FUZZ_BUILDDIR)/corpus
	FUZZ_SEED=$(FUZZ_SEED) fuzz/run 20 $(FUZZ_NAMES)
