# make lint: static analysis of the C sources (issue 7), by scripts/lint.
#
#   make lint               cppcheck, then clang-tidy; fails on any finding
#   make lint-cppcheck      one of them
#   make lint-clang-tidy
#
# Debian's cppcheck and clang-tidy (installed by scripts/lint if missing)
# over src/, src/apache/, tools/ and mod_auth_authos.c, with this
# Makefile's flags (-std=gnu11, APR_CFLAGS; httpd's include path for the
# glue only, as apxs builds it). What is checked and why some checks are
# off: .clang-tidy and cppcheck.suppressions. The report and the
# compile_commands.json it used are left in build/lint/.
# About 12 s on the 2-core development machine when it is otherwise idle
# (19 s of CPU; clang-tidy takes most of it), up to a minute when it is
# busy. The summary prints the time of each tool.

lint:
	APR_CFLAGS="$(APR_CFLAGS)" ./scripts/lint

lint-cppcheck:
	APR_CFLAGS="$(APR_CFLAGS)" ./scripts/lint cppcheck

lint-clang-tidy:
	APR_CFLAGS="$(APR_CFLAGS)" ./scripts/lint clang-tidy

.PHONY: lint lint-cppcheck lint-clang-tidy
