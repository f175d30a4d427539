# EPMPulse: `make run` and `make test` take a fresh Debian machine from clone to running.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CONFIG ?= config/apps.json
DATA_DIR ?= data

.PHONY: deps test-deps configure build run test test-asan fuzz fuzz-deps bench clean install

deps:
	@bash scripts/install-deps.sh

# What only the tests need (jython for the ODI client's tests): `make run` never installs it.
test-deps:
	@bash scripts/install-deps.sh test

# Ninja starts compiling a target's files while its dependencies still link;
# with make's generator one core idles behind each library (docs/building.md).
configure: deps
	@if [ -f $(BUILD_DIR)/CMakeCache.txt ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$$' $(BUILD_DIR)/CMakeCache.txt; then \
	  rm -rf $(BUILD_DIR)/CMakeCache.txt $(BUILD_DIR)/CMakeFiles; fi
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) --target epmpulse -j $(JOBS)

run: build
	./$(BUILD_DIR)/epmpulse --config $(CONFIG) --data-dir $(DATA_DIR)

test: test-deps configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# `make install PREFIX=/usr/local DESTDIR=/tmp/stage`: binary, sample
# configuration, systemd unit and sysusers entry, job-side clients
# (deploy/README.md). The unit's paths follow PREFIX.
PREFIX ?= /usr/local
install: build
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# -- sanitizers and fuzzing (docs/building.md) ---------------------------------
# The whole suite under AddressSanitizer (with LeakSanitizer) and UBSan, in its
# own build dir, without jemalloc. Every process writes its ASan and LSan
# reports to $(ASAN_BUILD_DIR)/sanitizer-reports (the servers the integration
# tests start included): any report there fails the run, even one a test did
# not notice. UBSan (GCC's ignores log_path) reports on stderr and stops the
# process, which fails its test.
ASAN_BUILD_DIR ?= build-asan
SANITIZER_REPORTS = $(CURDIR)/$(ASAN_BUILD_DIR)/sanitizer-reports
SANITIZER_ENV = \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$(SANITIZER_REPORTS)/asan \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/tests/sanitizers/ubsan.supp

test-asan: test-deps
	@if [ -f $(ASAN_BUILD_DIR)/CMakeCache.txt ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$$' $(ASAN_BUILD_DIR)/CMakeCache.txt; then \
	  rm -rf $(ASAN_BUILD_DIR)/CMakeCache.txt $(ASAN_BUILD_DIR)/CMakeFiles; fi
	@cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DEPMPULSE_SANITIZERS=address,undefined >/dev/null
	@cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	@rm -rf $(SANITIZER_REPORTS) && mkdir -p $(SANITIZER_REPORTS)
	@cd $(ASAN_BUILD_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS); rc=$$?; \
	  cd $(CURDIR) && bash scripts/check-sanitizer-reports.sh $(SANITIZER_REPORTS) || rc=1; exit $$rc

# libFuzzer targets (tests/fuzz/), built with clang in their own build dir
# and run FUZZ_SECONDS each. `scripts/install-deps.sh fuzz` brings clang.
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60

fuzz-deps:
	@bash scripts/install-deps.sh fuzz

fuzz: deps fuzz-deps
	@if [ -f $(FUZZ_BUILD_DIR)/CMakeCache.txt ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$$' $(FUZZ_BUILD_DIR)/CMakeCache.txt; then \
	  rm -rf $(FUZZ_BUILD_DIR)/CMakeCache.txt $(FUZZ_BUILD_DIR)/CMakeFiles; fi
	@cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DEPMPULSE_FUZZ=ON -DEPMPULSE_JEMALLOC=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD_DIR) --target fuzz_targets -j $(JOBS)
	@bash tests/fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS)

bench: deps
	@bash bench/run.sh $(BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR) build-bench $(ASAN_BUILD_DIR) $(FUZZ_BUILD_DIR)
