# SPDX-License-Identifier: MIT
# The XS engine's sources (fetched into deps/xs by firmware/deps.mjs): what the
# runtime needs, and what a compiler adds. Read by xs.cmake, by the compiler's
# build (firmware/compiler) and by hosts/esp32/host.mjs for its ESP-IDF component.
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
