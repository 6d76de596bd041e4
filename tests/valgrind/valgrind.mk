# SPDX-License-Identifier: Apache-2.0
# podman-disk under valgrind memcheck (issue 7), included by the Makefile.
#
#   make check-valgrind   the end-to-end tests (VALGRIND_TESTS: all but the
#                         timed and packaging ones) with PODMAN_DISK running
#                         podman-disk under valgrind: any memory error or
#                         definite leak fails the test (exit 99), and a
#                         summary counts runs, errors and leaks.

# Not the timed concurrency test, nor packaging (install, man, rpm), nor
# the rootless test (its messages name the binary, which is then valgrind's).
# Nor the tests that run the OCI hook under runc: valgrind 3.19 does not
# know pidfd_open (the watcher's way to follow the container), and the
# watcher re-executes /proc/self/exe, which under valgrind is valgrind's
# own tool binary: they measure valgrind, not podman-disk.  test-readme
# is one of them through its pod workflow; its other workflows are the
# serve and json tests', which stay.  test-hook-exports runs no hook, and
# test-hook-direct runs the hook by hand, without runc, so that valgrind
# sees it: its live exports start from the real binary (see the test).
# test-secure-pod runs the hook under runc too.  The slowest hostile
# suites (symlinks, disks, tar: 2 to 2.5 min each under valgrind; layout,
# store, sizes: about 1 min each) run under ASan+UBSan and in the plain
# check, and their parsers are fuzzed; test-completion (50 s here) checks
# the bash completion script, whose podman-disk calls the other tests
# make too: CI stays under an hour.
VALGRIND_SKIP  = tests/test-concurrency.sh tests/test-install.sh tests/test-man.sh \
                 tests/test-rpm.sh tests/test-storage-rootless.sh \
                 $(filter-out tests/test-hook-exports.sh tests/test-hook-direct.sh,$(wildcard tests/test-hook-*.sh)) \
                 tests/test-faults-hook-timeout.sh tests/test-readme.sh \
                 tests/test-secure-pod.sh tests/test-hostile-symlinks.sh \
                 tests/test-hostile-disks.sh tests/test-hostile-tar.sh \
                 tests/test-hostile-layout.sh tests/test-hostile-store.sh \
                 tests/test-hostile-sizes.sh tests/test-completion.sh \
                 $(ONCE_TESTS:%=tests/%.sh)
VALGRIND_TESTS ?= $(filter-out $(VALGRIND_SKIP),$(wildcard tests/test-*.sh))

.PHONY: check-valgrind

check-valgrind: $(PROG)
	rm -rf $(BUILDDIR)/valgrind && mkdir -p $(BUILDDIR)/valgrind
	chmod 1777 $(BUILDDIR)/valgrind   # tests run podman-disk as other users too
	sed -e 's|@PODMAN_DISK_REAL@|$(abspath $(PROG))|' \
	    -e 's|@VALGRIND_LOGDIR@|$(abspath $(BUILDDIR)/valgrind)|' \
	    -e 's|@VALGRIND_SUPP@|$(abspath tests/valgrind/podman-disk.supp)|' \
	    -e "s|@VALGRIND@|$$(command -v valgrind)|" \
	    -e "s|@MKTEMP@|$$(command -v mktemp)|" \
	    tests/valgrind/podman-disk > $(BUILDDIR)/valgrind/podman-disk
	chmod 755 $(BUILDDIR)/valgrind/podman-disk
	@# The summary is printed whether the tests passed or not; either
	@# failing fails the target.
	rc=0; PODMAN_DISK_REAL=$(abspath $(PROG)) \
	  PODMAN_DISK=$(abspath $(BUILDDIR)/valgrind/podman-disk) \
	  VALGRIND_LOGDIR=$(abspath $(BUILDDIR)/valgrind) \
	  BUILDDIR=$(abspath $(BUILDDIR)) tests/run $(VALGRIND_TESTS) || rc=1; \
	tests/valgrind/summary $(BUILDDIR)/valgrind || rc=1; \
	exit $$rc
