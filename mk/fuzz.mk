# mk/fuzz.mk: libFuzzer harnesses of the httpd-free core (fuzz/, issue 7).
#
#   make fuzz-build    every fuzz/fuzz_<target>.c into build/fuzz/fuzz_<target>
#   make fuzz          build, then run each target for FUZZ_SECONDS (60) and
#                      print a summary table; fails on any finding
#                      (scripts/fuzz; FUZZ_TARGETS="token jwks" picks some)
#   make fuzz-replay   build, then run each target once over its corpus only
#                      (seconds: a regression check of the seeds)
#
# The core is compiled again from src/*.c with the fuzzing flags (clang,
# -O1, ASan + UBSan, libFuzzer coverage), never taken from the -O2 archive.
# Seeds: fuzz/corpus/<target>/ (from fuzz/make_seeds.py); what a run finds
# goes to build/fuzz/corpus/<target>/, crash inputs to build/fuzz/findings/.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
              -Wall -Wextra -Werror $(APR_CFLAGS) -Isrc -Ifuzz \
              -DFUZZ_KEYS_FILE='"$(CURDIR)/fuzz/keys/jwks.json"'
FUZZ_NAMES := $(sort $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_BIN := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
FUZZ_CORE_OBJ := $(CORE_SRC:src/%.c=build/fuzz/core/%.o)
# These harnesses compile src/authos_http.c into themselves, to reach its
# static parsers (http) or to replace the network (metadata).
FUZZ_OWN_HTTP := http metadata

build/fuzz/core/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(wildcard src/*.h) \
                   $(FUZZ_CORE_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< \
	    $(if $(filter $*,$(FUZZ_OWN_HTTP)), \
	        $(filter-out %/authos_http.o,$(FUZZ_CORE_OBJ)),$(FUZZ_CORE_OBJ)) \
	    $(LIBS_CORE)

fuzz-build: $(FUZZ_BIN)

# Keep the instrumented core objects between builds.
.SECONDARY: $(FUZZ_CORE_OBJ)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz --no-build

fuzz-replay: fuzz-build
	FUZZ_SECONDS=0 ./scripts/fuzz --no-build

.PHONY: fuzz fuzz-build fuzz-replay
