# The two commands of the quick start, and the sanitizer runs of CI.
#   make demo   hubs with a Redis coordinator: a join, a leave and a crash mid-stream
#   make test   install missing Debian packages, build, run every test
BUILD ?= build
JOBS ?= 2
FUZZ_RUNS ?= 0
CMAKE_FLAGS ?=

.PHONY: all deps build test demo deb test-release test-asan test-tsan fuzz bench bench-peers format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD)/hashspace

# A Release build (-O3, where gcc finds more -Wformat-truncation cases) and its
# unit tests; the integration tests run in the default build.
test-release:
	$(MAKE) build BUILD=build-release CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Release -DHS_BUILD_BENCH=OFF"
	ctest --test-dir build-release --output-on-failure -j $(JOBS) -L unit

# AddressSanitizer + UndefinedBehaviorSanitizer over the whole suite.
test-asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DHS_SANITIZE=address,undefined -DHS_BUILD_BENCH=OFF"

# ThreadSanitizer over the threaded unit tests and the integration tests (the
# hub, pub and tail as real processes); tests/CMakeLists.txt sets TSAN_OPTIONS
# (suppressions for the uninstrumented libzmq, a report fails the test).
test-tsan:
	$(MAKE) build BUILD=build-tsan CMAKE_FLAGS="-DHS_SANITIZE=thread -DHS_BUILD_BENCH=OFF"
	ctest --test-dir build-tsan --output-on-failure -j $(JOBS) -L 'threaded|integration'

# The libFuzzer targets (clang, ASan+UBSan), each for a bounded time on its
# seed corpus (fuzz/CMakeLists.txt, HS_FUZZ_SECONDS).
fuzz:
	HS_DEPS_SANITIZERS=1 CC=clang $(MAKE) build BUILD=build-fuzz CMAKE_FLAGS="-DHS_BUILD_FUZZ=ON -DHS_FUZZ_RUNS=$(FUZZ_RUNS) -DHS_SANITIZE=address,undefined -DHS_BUILD_BENCH=OFF -DHS_BUILD_TESTS=OFF"
	ctest --test-dir build-fuzz --output-on-failure -j $(JOBS) -L fuzz

# The Debian packages (debian/), built in a copy of the tree into build-deb/,
# then lintian (no errors) and scripts/check-debs.sh on them.
deb:
	HS_DEPS_PACKAGING=1 scripts/deps.sh
	JOBS=$(JOBS) scripts/build-debs.sh build-deb

bench: build
	$(BUILD)/hashspace bench all

# hashspace against NATS and RabbitMQ (bench/peers_cluster): installs the
# servers and their C clients first (opt-in, HS_DEPS_PEERS=1), then runs it.
bench-peers:
	HS_DEPS_PEERS=1 scripts/deps.sh
	$(MAKE) build
	bench/peers_cluster/peers_cluster.py --hashspace $(BUILD)/hashspace --bin-dir $(BUILD)/bench/peers_cluster

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-release build-asan build-tsan build-fuzz build-deb
