// SPDX-License-Identifier: MIT
// Symbol.dispose and Symbol.asyncDispose, which this XS lacks. TypeScript lowers
// `using` and `await using` (our target is ES2022) to helpers that look the
// symbols up at run time, so defining them makes explicit resource management
// work in firmware. An engine that has them keeps its own.
#include "xm.h"

static void define(xsMachine* the, const char* name, const char* description)
{
	if (xsHas(xsVar(0), xsID(name)))
		return;
	xsVar(1) = xsCall1(xsGlobal, xsID("Symbol"), xsString(description));
	xsDefine(xsVar(0), xsID(name), xsVar(1), xsDontEnum | xsDontDelete | xsDontSet);
}

void xm_symbols_install(xsMachine* the)
{
	xsVar(0) = xsGet(xsGlobal, xsID("Symbol"));
	define(the, "dispose", "Symbol.dispose");
	define(the, "asyncDispose", "Symbol.asyncDispose");
}
