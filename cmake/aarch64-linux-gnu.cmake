# Cross-building edgebench for 64-bit Arm (Raspberry Pi 5, Jetson Orin) with
# Debian's crossbuild-essential-arm64 and the arm64 multiarch -dev packages
# (scripts/deps.sh arm64). Tests run through qemu-aarch64 (qemu-user).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# The arm64 libraries are in Debian's multiarch directories, not a sysroot.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# No -L: the programs' loader is the multiarch /lib/ld-linux-aarch64.so.1
# of libc6:arm64, which matches the libc.so.6 it finds. With -L
# /usr/aarch64-linux-gnu the cross toolchain's loader (libc6-arm64-cross)
# met the multiarch libc of another build, and the first pthread_create
# never returned.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
