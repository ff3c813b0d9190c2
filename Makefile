# Thin wrapper over CMake. `make run` and `make check` are the two set-up
# commands named in README.md: each installs what is missing, builds llama.cpp
# into the cache (once) and edgebench, then runs the default job or the tests.
BUILD      ?= build
GENERATOR  ?= Ninja
CMAKE_ARGS ?=

FUZZ_SECONDS ?= 60

.PHONY: all deps llama configure build run check asan fuzz cuda cuda-check arm64 arm64-check fleet-roles format clean

all: build

deps:
	@scripts/deps.sh

# Always asks the setup script: it answers at once when the build is cached.
llama: deps
	@mkdir -p $(BUILD)
	@scripts/llama-setup.sh | tail -n 1 > $(BUILD)/llama-prefix.tmp
	@mv $(BUILD)/llama-prefix.tmp $(BUILD)/llama-prefix

configure: llama
	cmake -S . -B $(BUILD) -G $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DLLAMA_PREFIX="$$(cat $(BUILD)/llama-prefix)" -DEDGEBENCH_WERROR=ON $(CMAKE_ARGS)

build: configure
	cmake --build $(BUILD) -j

run: build
	$(BUILD)/edgebench run

check: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

asan:
	$(MAKE) check BUILD=build-asan CMAKE_ARGS="-DEDGEBENCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"

# The libFuzzer targets (clang, ASan/UBSan) run for FUZZ_SECONDS each
# (scripts/fuzz.sh); CI runs them briefly, longer runs are by hand:
# `make fuzz FUZZ_SECONDS=3600`.
fuzz:
	$(MAKE) configure BUILD=build-fuzz CMAKE_ARGS="-DEDGEBENCH_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug"
	cmake --build build-fuzz -j --target fuzz_targets
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# llama.cpp with its CUDA backend (needs nvcc; EDGEBENCH_CUDA_ARCHS picks the
# GPU architectures, default 90, e.g. 87 for a Jetson Orin) and edgebench
# against it in build-cuda, then the whole suite with the CUDA build's own
# checks (tests/e2e/cuda_build.sh). Not part of CI: the CUDA kernels
# take long to compile on a small machine, and CI has no GPU.
cuda:
	EDGEBENCH_CUDA=ON $(MAKE) build BUILD=build-cuda

cuda-check: cuda
	. tests/support/cuda_env.sh && ctest --test-dir build-cuda --output-on-failure -j2

# edgebench and llama.cpp cross-built for 64-bit Arm (Cortex-A76 features:
# dotprod, fp16; EDGEBENCH_ARM_ARCH for others) into build-arm64, llama.cpp
# cached like the native build; arm64-check runs the unit tests and the
# end-to-end scripts that make sense there under qemu-aarch64.
ARM64_BUILD ?= build-arm64
arm64: build
	@scripts/deps.sh arm64
	@mkdir -p $(ARM64_BUILD)
	@EDGEBENCH_TARGET=arm64 scripts/llama-setup.sh | tail -n 1 > $(ARM64_BUILD)/llama-prefix.tmp
	@mv $(ARM64_BUILD)/llama-prefix.tmp $(ARM64_BUILD)/llama-prefix
	cmake -S . -B $(ARM64_BUILD) -G $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/aarch64-linux-gnu.cmake \
	  -DLLAMA_PREFIX="$$(cat $(ARM64_BUILD)/llama-prefix)" -DEDGEBENCH_WERROR=ON \
	  -DEB_NATIVE_EDGEBENCH=$(CURDIR)/$(BUILD)/edgebench $(CMAKE_ARGS)
	cmake --build $(ARM64_BUILD) -j

arm64-check: arm64
	@scripts/arm64-binfmt.sh
	ctest --test-dir $(ARM64_BUILD) --output-on-failure -j2 -L arm64

# A PostgreSQL role for one device of a fleet (scripts/fleet-roles.sql):
# make fleet-roles STORE=postgresql://owner@server/db DEVICE=name
fleet-roles:
	@test -n "$(STORE)" -a -n "$(DEVICE)" || { echo "usage: make fleet-roles STORE=postgresql://... DEVICE=name" >&2; exit 2; }
	psql "$(STORE)" -v ON_ERROR_STOP=1 -v device="$(DEVICE)" -f scripts/fleet-roles.sql

format:
	clang-format -i include/edgebench/*.h lib/*/*.[ch] src/*/*.[ch] tests/unit/*.[ch] tests/support/*.c

clean:
	rm -rf build build-asan build-arm64 build-fuzz
