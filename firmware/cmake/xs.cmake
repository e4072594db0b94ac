# SPDX-License-Identifier: MIT
# The XS engine, built from the sources that firmware/deps.mjs fetched.
#   xs_engine: the runtime (no parser), using our platform header
#   xsmgc:     the build-time compiler (parser included, engine defaults)
set(XS_DIR ${XSMG_ROOT}/deps/xs)
if(NOT EXISTS ${XS_DIR}/sources/xsAll.h)
  message(FATAL_ERROR "XS sources missing in ${XS_DIR}: run `npm install` (or node firmware/deps.mjs)")
endif()

set(XS_PARSER_SOURCES xsLexical.c xsScript.c xsSourceMap.c xsSyntaxical.c xsTree.c xsCode.c)
set(XS_RUN_SOURCES
  xsAll.c xsAPI.c xsArguments.c xsArray.c xsAtomics.c xsBigInt.c xsBoolean.c xsCommon.c
  xsDataView.c xsDate.c xsDebug.c xsDefaults.c xsError.c xsFunction.c xsGenerator.c
  xsGlobal.c xsJSON.c xsMapSet.c xsMarshall.c xsMath.c xsMemory.c xsModule.c xsNumber.c
  xsObject.c xsPlatforms.c xsProfile.c xsPromise.c xsProperty.c xsProxy.c xsRegExp.c
  xsRun.c xsScope.c xsString.c xsSymbol.c xsType.c xsdtoa.c xsmc.c xsre.c)
list(TRANSFORM XS_PARSER_SOURCES PREPEND ${XS_DIR}/sources/)
list(TRANSFORM XS_RUN_SOURCES PREPEND ${XS_DIR}/sources/)

set(XS_INCLUDES ${XS_DIR}/includes ${XS_DIR}/sources ${XS_DIR}/platforms)

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

if(NOT CMAKE_CROSSCOMPILING)
  add_executable(xsmgc ${XSMG_ROOT}/firmware/compiler/xsmgc.c ${XS_RUN_SOURCES} ${XS_PARSER_SOURCES})
  target_include_directories(xsmgc PRIVATE ${XS_INCLUDES})
  target_compile_definitions(xsmgc PRIVATE mxRun=1 mxParse=1)
  set_source_files_properties(${XS_RUN_SOURCES} ${XS_PARSER_SOURCES} TARGET_DIRECTORY xsmgc PROPERTIES COMPILE_OPTIONS -w)
  target_link_libraries(xsmgc PRIVATE m)
endif()
