# Sourced before running a CUDA build on a machine without the NVIDIA driver:
# the toolkit's stub stands in for libcuda.so.1, so the programs start and
# the CUDA backend finds no device. Does nothing where a driver is installed.
# Sets cuda_gpu=1 when a GPU answers (nvidia-smi -L), else 0.
cuda_gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  cuda_gpu=1
elif ! ldconfig -p | grep -q "libcuda.so.1 "; then
  cuda_stub=$(ls /usr/local/cuda/lib64/stubs/libcuda.so /usr/local/cuda/targets/*/lib/stubs/libcuda.so 2>/dev/null | head -1)
  if [ -n "$cuda_stub" ]; then
    cuda_stub_dir=${TMPDIR:-/tmp}/edgebench-cuda-stub-$(id -u)
    mkdir -p "$cuda_stub_dir" && ln -sf "$cuda_stub" "$cuda_stub_dir/libcuda.so.1"
    export LD_LIBRARY_PATH="$cuda_stub_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
