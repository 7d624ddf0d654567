# Cross build for Debian arm64 (aarch64-linux-gnu) from a Debian 12 amd64 machine with the
# multiarch :arm64 libraries that tools/install-deps --cross installs.
#   cmake -S . -B build-arm64 --toolchain tools/toolchains/arm64.cmake
# Programs built here (the rig binary, the test programs) run under
# qemu-aarch64-static: CMake prefixes them with CMAKE_CROSSCOMPILING_EMULATOR, and
# so do the cross checks (tools/cross-test). No binfmt_misc needed.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# pkg-config answers for arm64, not for the build machine; libpq-dev is not
# co-installable across architectures, so its arm64 headers and .pc come
# unpacked from the package into /opt/pumprig-cross/arm64 (tools/install-deps).
set(ENV{PKG_CONFIG_LIBDIR} "/opt/pumprig-cross/arm64/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
