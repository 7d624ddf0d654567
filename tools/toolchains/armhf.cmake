# Cross build for Debian armhf (arm-linux-gnueabihf: 32-bit time_t and long,
# unsigned char) from a Debian 12 amd64 machine:
#   cmake -S . -B build-armhf --toolchain tools/toolchains/armhf.cmake
# The armhf libraries are not installed through dpkg multiarch but unpacked
# into a sysroot of their own, /opt/pumprig-cross/armhf/sysroot, by
# `tools/install-deps --cross`: Multi-Arch: same packages must be of the
# very version the amd64 ones are, and Debian's armhf security index is not
# always in step (it was not, 2026-12-06), which would have meant holding or
# downgrading the machine's amd64 packages. The sysroot touches none of them.
# Programs built here run under qemu-arm-static with that sysroot as its
# library root: CMake prefixes them with CMAKE_CROSSCOMPILING_EMULATOR, and so
# does tools/cross-test. No binfmt_misc needed.
set(RIG_CROSS_ROOT /opt/pumprig-cross/armhf/sysroot)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
set(CMAKE_SYSROOT ${RIG_CROSS_ROOT})
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm-static -L ${RIG_CROSS_ROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${RIG_CROSS_ROOT})
set(ENV{PKG_CONFIG_LIBDIR} "${RIG_CROSS_ROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${RIG_CROSS_ROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
