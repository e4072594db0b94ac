// SPDX-License-Identifier: MIT
// Preloading: `xsmgc link --preload NAME` runs module bodies on the build machine,
// in the machine the image was numbered against, so that prepare.c can write the
// resulting objects as const data. The engine's hooks for that machine live here:
// modules come from the image being linked, promise jobs run until none is left.
//
// A module's natives (`@ "c_name"`) do not exist on the build machine: each is
// created as a function whose callback is trap(), and we remember which C name it
// stands for. prepare.c writes that name in its place; calling one while loading
// is the clear error "cannot be preloaded" (the module reads the clock, the
// network or other device state as it loads).
//
// The engine's own clock and random numbers are the build machine's: a value read
// at load would be frozen into every device. While modules load, Date.now, Date
// and new Date() without a time, and Math.random are traps too, which name the
// module whose code called them; they get their callbacks back before the machine
// is written, so calling them later, at run time, is as before.
#include "xsmgc.h"
#include "xs.h"
#include "xm.h"
#include "xm_resolve.h"

typedef struct {
	txSlot* slot;        // the function's callback slot, or the host object's host slot
	const char* cName;
	const char* module;
} Native;

typedef struct {
	txSlot* code;        // a built-in function's callback slot
	txCallback callback; // its own callback, while a trap stands in
} Swap;

static Image* image;
static Swap swaps[3];
static Native* natives;
static int nativeCount, nativeCapacity;
static char failure[512];

void fxQueuePromiseJobs(txMachine* the)
{
	the->promiseJobs = 1;
}

static Module* lookup(const char* name)
{
	for (int i = 0; i < image->count; i++)
		if (!strcmp(image->modules[i].name, name))
			return &image->modules[i];
	return NULL;
}

txID fxFindModule(txMachine* the, txSlot* realm, txID from, txSlot* slot)
{
	(void)realm;
	char spec[128], name[128];
	fxToStringBuffer(the, slot, spec, sizeof(spec));
	if (!xm_resolve(from == XS_NO_ID ? NULL : fxGetKeyName(the, from), spec, name, sizeof(name)) || !lookup(name))
		return XS_NO_ID;
	return fxNewNameC(the, name);
}

static const Native* findNative(txSlot* slot)
{
	for (int i = 0; i < nativeCount; i++)
		if (natives[i].slot == slot)
			return &natives[i];
	return NULL;
}

const char* preload_native_name(txSlot* slot)
{
	const Native* native = findNative(slot);
	return native ? native->cName : NULL;
}

static void remember(txSlot* slot, const char* cName, const char* module)
{
	if (nativeCount == nativeCapacity) {
		nativeCapacity = nativeCapacity ? 2 * nativeCapacity : 64;
		natives = realloc(natives, (size_t)nativeCapacity * sizeof(Native));
	}
	natives[nativeCount++] = (Native){ slot, cName, module };
}

static void trap(txMachine* the)
{
	const Native* native = findNative(mxFunctionInstanceCode(mxFunction->value.reference));
	snprintf(failure, sizeof(failure), "module \"%s\" calls its native function %s while loading",
		native ? native->module : "?", native ? native->cName : "?");
	mxUnknownError("%s", failure);
}

static void trapDestructor(void* data)
{
	(void)data;
}

// The module whose bytecode is the innermost on the stack: the one that called the trap,
// directly or through built-ins (Array.prototype.map(Date.now)).
static const char* callerModule(txMachine* the)
{
	for (txSlot* frame = the->frame; frame && frame->next; frame = frame->next) {
		txSlot* function = frame + 3;
		if (!mxIsReference(function))
			continue;
		txSlot* code = mxFunctionInstanceCode(function->value.reference);
		if ((code->kind != XS_CODE_KIND) && (code->kind != XS_CODE_X_KIND))
			continue;
		for (int i = 0; i < image->count; i++) {
			Module* m = &image->modules[i];
			if ((m->code <= code->value.code.address) && (code->value.code.address < m->code + m->codeSize))
				return m->name;
		}
	}
	return "?";
}

static void refuse(txMachine* the, const char* what, const char* why)
{
	snprintf(failure, sizeof(failure), "module \"%s\" %s while loading%s", callerModule(the), what, why);
	mxUnknownError("%s", failure);
}

static void trapDate(txMachine* the)
{
	if (mxIsUndefined(mxTarget))
		refuse(the, "reads the clock (Date())", "");  // called as a function, it is the time whatever the arguments
	if (mxArgc == 0)
		refuse(the, "reads the clock (new Date())", "");
	fx_Date(the);
}

static void trapDateNow(txMachine* the)
{
	refuse(the, "reads the clock (Date.now)", "");
}

static void trapRandom(txMachine* the)
{
	refuse(the, "calls Math.random", " (every device would draw the same number)");
}

static void swap(txMachine* the, Swap* entry, txSlot* object, txID id, txCallback trap)
{
	mxPushSlot(object);
	if (id != XS_NO_ID)
		mxGetID(id);
	entry->code = mxFunctionInstanceCode(the->stack->value.reference);
	entry->callback = entry->code->value.callback.address;
	entry->code->value.callback.address = trap;
	mxPop();
}

static void restore(void)
{
	for (size_t i = 0; i < sizeof(swaps) / sizeof(swaps[0]); i++)
		swaps[i].code->value.callback.address = swaps[i].callback;
}

// The script callback: the module's hosts array, as xsBuildHosts makes it, with
// trap() for every native.
static void buildHosts(txMachine* the)
{
	txSlot* key = fxGetKey(the, mxModuleInternal(mxThis)->value.module.id);
	Module* module = lookup(key->value.key.string);
	txByte* p = module->hosts;
	txID count, id;
	mxDecodeID(p, count);
	mxPushInteger(count);
	mxPushInteger(1);
	mxPush(mxArrayPrototype);
	fxNewArrayInstance(the);
	fxArrayCacheBegin(the, the->stack);
	for (txID i = 0; i < count; i++) {
		txS1 length = *p++;
		mxDecodeID(p, id);
		const char* cName = (const char*)p;
		p += strlen(cName) + 1;
		if (length < 0) {
			fxNewHostObject(the, trapDestructor);
			remember(the->stack->value.reference->next, cName, module->name);
		}
		else {
			fxNewHostFunction(the, trap, length, id == XS_NO_ID ? XS_NO_ID : module->ids[id], XS_NO_ID);
			remember(mxFunctionInstanceCode(the->stack->value.reference), cName, module->name);
		}
		fxArrayCacheItem(the, the->stack + 1, the->stack);
		mxPop();
	}
	fxArrayCacheEnd(the, the->stack);
	mxPullSlot(mxResult);
}

void fxLoadModule(txMachine* the, txSlot* module, txID id)
{
	Module* entry = lookup(fxGetKeyName(the, id));
	if (!entry)
		return;
	txScript script = { 0 };
	script.callback = entry->hostsSize ? buildHosts : NULL;
	script.codeBuffer = entry->code;
	script.codeSize = (txSize)entry->codeSize;
	script.path = (txString)entry->name;
	fxResolveModule(the, module, id, &script, C_NULL, C_NULL);
}

static void runJobs(txMachine* the)
{
	while (the->promiseJobs) {
		the->promiseJobs = 0;
		fxRunPromiseJobs(the);
	}
}

// Imports one module (and what it imports); 0, or 1 with the reason in failure.
static int preloadOne(txMachine* the, const char* name)
{
	volatile int failed = 0;  // set after setjmp (xsTry)
	failure[0] = 0;
	xsBeginHost(the);
	{
		xsVars(1);
		xsTry {
			xsVar(0) = xsAwaitImport(name, XS_IMPORT_NAMESPACE);
			runJobs(the);
		}
		xsCatch {
			if (!failure[0])
				snprintf(failure, sizeof(failure), "module \"%s\" throws while loading: %s", name, xsToString(xsException));
			failed = 1;
		}
	}
	xsEndHost(the);
	// A trap the module caught is still what it cannot do at build time.
	return failed || failure[0];
}

// After a module loaded: whether it (or a module it imported first) keeps an
// object that cannot be const data. The modules before it kept none.
static int leftBehind(txMachine* the, const char* name)
{
	fxCollectGarbage(the);
	for (txSlot* heap = the->firstHeap; heap; heap = heap->next) {
		for (txSlot* slot = heap + 1; slot < heap->value.reference; slot++) {
			const char* what = prepare_unsupported(slot);
			if (what) {
				snprintf(failure, sizeof(failure), "module \"%s\" (or a module it imports) keeps %s made while loading", name, what);
				return 1;
			}
		}
	}
	return 0;
}

int preload_modules(txMachine* the, Image* linked, int count, char** names)
{
	image = linked;
	// What the runtime defines before main must exist when preloaded modules load
	// (a class's [Symbol.asyncDispose] method is keyed then).
	xsBeginHost(the);
	{
		xsVars(2);
		xm_symbols_install(the);
		xm_json_install(the);  // written into the prepared machine with the rest
		swap(the, &swaps[0], &mxDateConstructor, XS_NO_ID, trapDate);
		swap(the, &swaps[1], &mxDateConstructor, mxID(_now), trapDateNow);
		swap(the, &swaps[2], &mxMathObject, mxID(_random), trapRandom);
	}
	xsEndHost(the);
	for (int i = 0; i < count; i++) {
		if (!lookup(names[i])) {
			fprintf(stderr, "xsmgc: preload names module \"%s\", which is not in the image\n", names[i]);
			return 1;
		}
		if (preloadOne(the, names[i]) || leftBehind(the, names[i])) {
			fprintf(stderr, "xsmgc: cannot preload \"%s\": %s; leave it out of the manifest's \"preload\" list\n", names[i], failure);
			return 1;
		}
	}
	restore();  // before prepare.c writes the machine: at run time they are the engine's
	return 0;
}
