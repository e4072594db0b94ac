# SPDX-License-Identifier: MIT
# CMake toolchain: ESP32-C3's ISA (rv32imc) with Debian's riscv64-unknown-elf-gcc
# and picolibc. Compiled with ESP-IDF's spelling of the ISA; Debian's multilibs
# have no rv32imc_zicsr_zifencei entry, so a link names plain rv32imc, which
# selects the rv32im/ilp32 libraries (with zicsr_zifencei it would take the
# 64-bit defaults).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_AR riscv64-unknown-elf-ar)
set(CMAKE_RANLIB riscv64-unknown-elf-ranlib)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-march=rv32imc_zicsr_zifencei -mabi=ilp32 --specs=picolibc.specs -ffunction-sections -fdata-sections")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-march=rv32imc -mabi=ilp32 -Wl,--gc-sections")
