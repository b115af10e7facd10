# mod_auth_authos: build, test and demo entry points.
#
#   make            core archive, module, the authos-jwt CLI, unit tests
#   make check      unit tests, then the integration suite (event, prefork)
#   make unit       C unit tests only (cmocka)
#   make demo       start the demo (see README.md)
#   make bench      benchmark against no auth and the peers (bench/run.py)
#   make profile    instructions per request under callgrind (bench/profile.py)
#   make bench-json the JSON reader of a cache miss against json_loadb
#   make soak       valid/forbidden/invalid tokens at full speed, every answer
#                   and counter checked, child RSS (bench/soak.py)
#   make package    the Debian package, built, installed and removed again
#                   (scripts/package-test)
#   make install    install the module with apxs

CC ?= cc
APXS ?= apxs
PYTHON ?= /usr/bin/python3

# The core is compiled WITHOUT the httpd include path, so a stray
# #include "httpd.h" in src/ breaks the build (STYLE.md, Architecture 1).
APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes)
APR_LIBS := $(shell apr-1-config --link-ld --libs) $(shell apu-1-config --link-ld --libs 2>/dev/null)
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=
CFLAGS_CORE = -std=gnu11 -O2 -g -fPIC -Wall -Wextra -Werror $(APR_CFLAGS) \
              $(EXTRA_CFLAGS)
LIBS_CORE = -ljansson -lcurl -lcrypto $(APR_LIBS)

CORE_SRC := $(sort $(wildcard src/*.c))
CORE_OBJ := $(CORE_SRC:src/%.c=build/core/%.o)
CLI_SRC := $(sort $(wildcard tools/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/unit/%)

all: build/libauthos.a module build/authos-jwt $(UNIT_BIN)

build/core/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -Isrc -c -o $@ $<

build/libauthos.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

module: build/libauthos.a
	$(MAKE) -f Makefile.apxs APXS=$(APXS) \
	    APXS_CFLAGS="$(EXTRA_CFLAGS:%=-Wc,%)" \
	    APXS_LDFLAGS="$(EXTRA_LDFLAGS:%=-Wl,%)"

# The authos-jwt CLI (SPEC section 10): the core archive only, no httpd.
build/authos-jwt: $(CLI_SRC) $(wildcard tools/*.h) $(wildcard src/*.h) \
                  build/libauthos.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -Isrc -Itools -o $@ $(CLI_SRC) build/libauthos.a \
	    $(LIBS_CORE) $(EXTRA_LDFLAGS)

build/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) build/libauthos.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -Isrc -Itests/unit -o $@ $< build/libauthos.a \
	    $(LIBS_CORE) -lcmocka $(EXTRA_LDFLAGS)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: all
	cd tests/integration && AUTHOS_TEST_MPM=event $(PYTHON) -m pytest -q
	cd tests/integration && AUTHOS_TEST_MPM=prefork $(PYTHON) -m pytest -q

check: unit integration

demo: all
	./scripts/demo

bench: all
	./bench/run

profile: all
	./bench/profile

# The JSON reader of a cache miss against json_loadb, in one process.
build/bench/json_parse: bench/json_parse.c $(wildcard src/*.h) build/libauthos.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -Isrc -o $@ $< build/libauthos.a $(LIBS_CORE) \
	    $(EXTRA_LDFLAGS)

bench-json: build/bench/json_parse
	taskset -c $${BENCH_APACHE_CPU:-0} build/bench/json_parse

package:
	./scripts/package-test

soak: all
	./bench/soak

install: module
	$(MAKE) -f Makefile.apxs APXS=$(APXS) install

clean:
	rm -rf build .libs *.la *.lo *.slo *.o src/apache/.libs \
	    src/apache/*.la src/apache/*.lo src/apache/*.slo src/apache/*.o

# Further targets by concern (make fuzz, make lint, ...): mk/*.mk.
-include $(sort $(wildcard mk/*.mk))

.PHONY: soak package profile bench-json all module unit integration check demo bench install clean
