# Thin wrapper over CMake. `make run` and `make check` are the two set-up
# commands named in README.md: each installs what is missing, builds llama.cpp
# into the cache (once) and edgebench, then runs the default job or the tests.
BUILD      ?= build
GENERATOR  ?= Ninja
CMAKE_ARGS ?=

.PHONY: all deps llama configure build run check asan cuda cuda-check format clean

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

# llama.cpp with its CUDA backend (needs nvcc; EDGEBENCH_CUDA_ARCHS picks the
# GPU architectures, default 90, e.g. 87 for a Jetson Orin) and edgebench
# against it in build-cuda, then the whole suite with the CUDA build's own
# checks (tests/e2e/cuda_build.sh). Not part of CI: the CUDA kernels
# take long to compile on a small machine, and CI has no GPU.
cuda:
	EDGEBENCH_CUDA=ON $(MAKE) build BUILD=build-cuda

cuda-check: cuda
	. tests/support/cuda_env.sh && ctest --test-dir build-cuda --output-on-failure -j2

format:
	clang-format -i include/edgebench/*.h lib/*/*.[ch] src/*/*.[ch] tests/unit/*.[ch] tests/support/*.c

clean:
	rm -rf build build-asan
