# podman-disk under valgrind memcheck (issue 7), included by the Makefile.
#
#   make check-valgrind   the end-to-end tests (VALGRIND_TESTS: all but the
#                         timed concurrency test) with PODMAN_DISK running
#                         podman-disk under valgrind: any memory error or
#                         definite leak fails the test (exit 99), and a
#                         summary counts runs, errors and leaks.

VALGRIND_TESTS ?= $(filter-out tests/test-concurrency.sh,$(wildcard tests/test-*.sh))

.PHONY: check-valgrind

check-valgrind: $(PROG)
	rm -rf $(BUILDDIR)/valgrind && mkdir -p $(BUILDDIR)/valgrind
	PODMAN_DISK_REAL=$(abspath $(PROG)) \
	  PODMAN_DISK=$(abspath tests/valgrind/podman-disk) \
	  VALGRIND_LOGDIR=$(abspath $(BUILDDIR)/valgrind) \
	  BUILDDIR=$(abspath $(BUILDDIR)) tests/run $(VALGRIND_TESTS)
	tests/valgrind/summary $(BUILDDIR)/valgrind
