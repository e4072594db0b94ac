# SPDX-License-Identifier: MIT
# The XS engine for a host's runtime (no parser), using our platform header.
include(${XSMG_ROOT}/firmware/cmake/xs_sources.cmake)

add_library(xs_engine STATIC ${XS_RUN_SOURCES})
target_include_directories(xs_engine PUBLIC ${XS_INCLUDES} ${XSMG_ROOT}/runtime)
target_compile_definitions(xs_engine PUBLIC
  mxRun=1 INCLUDE_XSPLATFORM=1 XSPLATFORM="xm_platform.h" ${XSMG_ENGINE_DEFINES})
# Third-party code: its warnings are not ours to fix.
target_compile_options(xs_engine PRIVATE -w)
if(XSMG_VARIANT STREQUAL "sanitize")
  # JavaScript's << wraps to 32 bits, and XS implements it with C's signed shift,
  # which GCC wraps too: UBSan's shift-base check would stop every firmware that
  # shifts a bit into the sign (hashes, PRNGs). Our own code keeps the check.
  target_compile_options(xs_engine PRIVATE -fno-sanitize=shift-base)
endif()
