# SPDX-License-Identifier: MIT
# FreeRTOS-Kernel and lwIP as fetched into deps/ (firmware/deps.mjs esp32), for
# the esp32 check and the virtual board (hosts/qemu), which compile against them.
set(FREERTOS_DIR ${XSMG_ROOT}/deps/freertos)
set(LWIP_DIR ${XSMG_ROOT}/deps/lwip)
foreach(f ${FREERTOS_DIR}/include/FreeRTOS.h ${LWIP_DIR}/src/include/lwip/sockets.h)
  if(NOT EXISTS ${f})
    message(FATAL_ERROR "${f} missing: run `node firmware/deps.mjs esp32`")
  endif()
endforeach()
