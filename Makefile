# Thin wrapper over Meson + Ninja. `make demo` and `make check` are the two
# set-up commands of the README: each installs what is missing first.

BUILD ?= build
PREFIX ?= /usr/local
PYTEST ?= /usr/bin/python3 -m pytest

.PHONY: all deps build install demo check unit system asan bench format clean

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

bench: build
	@scripts/install-deps.sh bench
	@bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD)-asan
