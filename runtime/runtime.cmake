# SPDX-License-Identifier: MIT
# The portable runtime, shared by every host.
add_library(xm_runtime STATIC
  ${CMAKE_CURRENT_LIST_DIR}/xm_clock.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_console.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_json.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_loop.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_machine.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_modules.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_resolve.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_stats.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_symbols.c
  ${CMAKE_CURRENT_LIST_DIR}/xm_timer.c)
target_include_directories(xm_runtime PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(xm_runtime PUBLIC xs_engine)
target_compile_options(xm_runtime PRIVATE ${XSMG_WARNINGS})
