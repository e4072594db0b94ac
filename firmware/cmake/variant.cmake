# SPDX-License-Identifier: MIT
# Build variants of the simulator:
#   debug     engine with mxDebug: stack traces carry file and line (source mapped to .ts)
#   release   what a device ships: no debug support, optimized (CMake Release: -O3)
#   sanitize  debug plus AddressSanitizer and UndefinedBehaviorSanitizer
#   tsan      debug plus ThreadSanitizer (-O1): data races between the XS task and
#             other tasks (the AsyncManager's poll task)
set(XSMG_WARNINGS -Wall -Wextra)
if(XSMG_VARIANT STREQUAL "release")
  set(CMAKE_BUILD_TYPE Release)
  # Without mxDebug the engine checks stack bounds only with mxBoundsCheck: a device
  # must stop cleanly on runaway recursion, not corrupt memory.
  set(XSMG_ENGINE_DEFINES mxBoundsCheck=1)
elseif(XSMG_VARIANT STREQUAL "debug")
  set(CMAKE_BUILD_TYPE RelWithDebInfo)
  set(XSMG_ENGINE_DEFINES mxDebug=1)
elseif(XSMG_VARIANT STREQUAL "sanitize")
  set(CMAKE_BUILD_TYPE Debug)
  set(XSMG_ENGINE_DEFINES mxDebug=1)
  # XS reads its bytecode operands unaligned by design (mxRunS2 and friends).
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=alignment -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(XSMG_VARIANT STREQUAL "tsan")
  set(CMAKE_BUILD_TYPE Debug)
  set(XSMG_ENGINE_DEFINES mxDebug=1)
  add_compile_options(-fsanitize=thread -O1 -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
else()
  message(FATAL_ERROR "unknown XSMG_VARIANT '${XSMG_VARIANT}' (debug, release, sanitize or tsan)")
endif()
