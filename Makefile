# EPMPulse: `make run` and `make test` take a fresh Debian machine from clone to running.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CONFIG ?= config/apps.json
DATA_DIR ?= data

.PHONY: deps test-deps configure build run test bench clean install

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

bench: deps
	@bash bench/run.sh $(BENCH_ARGS)

clean:
	rm -rf $(BUILD_DIR) build-bench
