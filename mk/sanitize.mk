# mk/sanitize.mk: the C code under sanitizers and valgrind (issue 7).
#
#   make sanitize        core, CLI, unit tests and module built with
#                        -fsanitize=address,undefined in a copy of the tree
#                        (build/sanitize/tree; the normal build is left
#                        alone), unit tests with leak checks, a canary, then
#                        the integration suite with the ASan module inside
#                        Apache (SANITIZE_MPMS, default event). scripts/sanitize
#   make sanitize-unit   the same, stopping after the unit tests
#   make valgrind-unit   every unit test binary of the normal build under
#                        valgrind: no error, no definite or indirect leak

SANITIZE_MPMS ?= event

sanitize:
	SANITIZE_MPMS="$(SANITIZE_MPMS)" ./scripts/sanitize

sanitize-unit:
	./scripts/sanitize --unit

valgrind-unit: $(UNIT_BIN)
	./scripts/sanitize --valgrind

.PHONY: sanitize sanitize-unit valgrind-unit
