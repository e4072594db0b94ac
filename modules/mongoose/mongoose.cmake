# SPDX-License-Identifier: MIT
# mongoose (from deps/, fetched) and our XS binding of it, for the host that includes this.
set(MG_DIR ${XSMG_ROOT}/deps/mongoose)
if(NOT EXISTS ${MG_DIR}/mongoose.c)
  message(FATAL_ERROR "mongoose sources missing in ${MG_DIR}: run `npm install` (or node firmware/deps.mjs)")
endif()

add_library(mongoose STATIC ${MG_DIR}/mongoose.c)
target_include_directories(mongoose PUBLIC ${MG_DIR} ${CMAKE_CURRENT_LIST_DIR}/c)
# mg_config.h is force-included so every file that includes mongoose.h agrees on it.
target_compile_options(mongoose PUBLIC -include ${CMAKE_CURRENT_LIST_DIR}/c/mg_config.h)
target_compile_options(mongoose PRIVATE -w)

file(GLOB XM_MG_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/c/*.c)
add_library(xm_mongoose STATIC ${XM_MG_SOURCES})
target_link_libraries(xm_mongoose PUBLIC mongoose xm_runtime)
target_compile_options(xm_mongoose PRIVATE ${XSMG_WARNINGS})
