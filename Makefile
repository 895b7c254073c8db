# Thin wrapper over Meson + Ninja. `make demo` and `make check` are the two
# set-up commands of the README: each installs what is missing first.

BUILD ?= build
PREFIX ?= /usr/local
PYTEST ?= /usr/bin/python3 -m pytest
BENCH ?= all
BENCH_BUILD ?= $(BUILD)-release

.PHONY: all deps build install demo check unit system asan bench fuzz format clean

all: build

deps:
	@scripts/install-deps.sh build

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

install: build
	install -D -m 0755 $(BUILD)/vessel $(DESTDIR)$(PREFIX)/bin/vessel
	install -D -m 0755 $(BUILD)/vessel-runtime $(DESTDIR)$(PREFIX)/bin/vessel-runtime

demo: build
	@scripts/install-deps.sh check
	@scripts/demo.sh $(BUILD)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

asan:
	meson setup $(BUILD)-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	ninja -C $(BUILD)-asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(BUILD)-asan --suite unit --print-errorlogs

system: build
	VESSEL_BUILD=$(abspath $(BUILD)) $(PYTEST) -v tests/system

check:
	@scripts/install-deps.sh check
	@$(MAKE) --no-print-directory build
	@scripts/check.sh $(BUILD)

# BENCH=all|runtime|run|pull (or a comma list); figures from a release build of
# its own, $(BENCH_BUILD).
bench: deps
	@scripts/install-deps.sh bench
	@test -f $(BENCH_BUILD)/build.ninja || meson setup $(BENCH_BUILD) --buildtype=release --prefix=$(PREFIX)
	ninja -C $(BENCH_BUILD)
	@bench/run.sh $(BENCH_BUILD) $(BENCH)

# Each libFuzzer target for FUZZ_TIME seconds (default 60): new inputs go to
# build-fuzz/corpus/<target>, crash reproducers to build-fuzz/; the seeds in
# tests/fuzz/corpus are only read.
fuzz:
	@scripts/install-deps.sh check
	@test -f build-fuzz/build.ninja || CC=clang meson setup build-fuzz -Dfuzz=true
	ninja -C build-fuzz fuzz-targets
	@set -e; for f in build-fuzz/tests/fuzz/fuzz-*; do \
		[ -f "$$f" ] && [ -x "$$f" ] || continue; \
		t=$${f##*/fuzz-}; mkdir -p build-fuzz/corpus/$$t; \
		echo "fuzz-$$t: $(or $(FUZZ_TIME),60)s"; \
		$$f -max_total_time=$(or $(FUZZ_TIME),60) -artifact_prefix=build-fuzz/ \
			build-fuzz/corpus/$$t tests/fuzz/corpus/$$t; \
	done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD)-asan
