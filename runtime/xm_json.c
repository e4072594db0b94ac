// SPDX-License-Identifier: MIT
// JSON.stringify for a machine booted from a prepared machine (README,
// Preloading). This engine's stringify marks each object it is inside, to find
// cycles, and cannot mark the const objects of the prepared machine: it refuses
// them ("read only value"). xsmgc puts xm_json_stringify in the place of the
// engine's callback before it prepares the machine, so the function is const data
// too and costs no RAM at boot; without a prepared machine the engine's own runs.
//
// The engine stringifies first: RAM objects keep its speed and its results. When
// it refuses (or the value itself is const), we walk the value as the engine
// would (toJSON, replacer, property list, boxed primitives, cycles) and build a RAM
// mirror of what is to be written: each object a null-prototype object holding
// the kept properties, each array a new array, the values already final. The
// engine then writes the mirror, with the caller's space and property list (which
// orders keys as no object can), so numbers, escapes and indentation are its own.
// Getters, toJSON and a replacer met before the refusal run a second time.
#include "xsAll.h"
#include "xm.h"

// An object being mirrored. A const one is linked to the const one it is inside.
typedef struct Visit {
	txSlot* instance;
	struct Visit* up;
} Visit;

// The cycle check. A RAM object being mirrored carries the engine's level flag, as
// the engine's own stringify marks it; a const one cannot, so it is on this path
// instead. Both hold across nested calls (a toJSON that stringifies an object it
// is inside throws "cyclic value" as it would in RAM). One machine, on its task.
static Visit* constPath;

typedef struct {
	txSlot* replacer;  // a replacer function, or NULL
	txSlot* keys;      // a property list (an instance of XS_AT_KIND slots), or NULL
} Walk;

static void mirror(txMachine* the, Walk* walk);

static int readOnly(txSlot* slot)
{
	return mxIsReference(slot) && (slot->value.reference->flag & XS_MARK_FLAG);
}

// Whether the exception is the engine refusing a const object (its message ends
// so; in debug builds the engine prefixes the function's name).
static int refused(txMachine* the)
{
	static const char message[] = "read only value";
	if (!mxIsReference(&mxException) || mxException.value.reference->value.instance.prototype != mxTypeErrorPrototype.value.reference)
		return 0;
	mxPushSlot(&mxException);
	mxGetID(mxID(_message));
	int result = 0;
	if (mxIsStringPrimitive(the->stack)) {
		size_t length = c_strlen(the->stack->value.string);
		result = length >= sizeof(message) - 1 && !c_strcmp(the->stack->value.string + length - (sizeof(message) - 1), message);
	}
	mxPop();
	return result;
}

// Calls FUNCTION with SELF as this and the key (as a string), and the value if
// asked (a replacer); the result replaces the value.
static void callWith(txMachine* the, txSlot* self, txSlot* function, txSlot* key, txSlot* value, int withValue)
{
	mxPushSlot(self);
	mxPushSlot(function);
	mxCall();
	mxPushSlot(key);
	fxToString(the, the->stack);
	if (withValue)
		mxPushSlot(value);
	mxRunCount(withValue ? 2 : 1);
	mxPullSlot(value);
}

// Adds the mirrored value on top of the stack to INSTANCE as an own data property.
static void keep(txMachine* the, txSlot* instance, txID id, txIndex index)
{
	the->stack->flag = XS_NO_FLAG;
	mxBehaviorDefineOwnProperty(the, instance, id, index, the->stack, XS_GET_ONLY);
}

// Mirrors the property (ID, INDEX) of the instance being visited into COPY.
static void mirrorProperty(txMachine* the, Walk* walk, Visit* visit, txSlot* copy, txID id, txIndex index, int always)
{
	mxPushReference(visit->instance);  // the holder, as the replacer's this
	mxPushUndefined();
	fxKeyAt(the, id, index, the->stack);
	mxPushReference(visit->instance);
	mxGetAll(id, index);
	mirror(the, walk);
	// An array keeps every item (undefined is written null); an object drops what is not written.
	if (always || !mxIsUndefined(the->stack))
		keep(the, copy, id, index);
	the->stack += 3;
}

static void mirrorArray(txMachine* the, Walk* walk, Visit* visit)
{
	mxPushReference(visit->instance);
	mxGetID(mxID(_length));
	txIndex length = (txIndex)fxToInteger(the, the->stack);  // as the engine reads it
	mxPop();
	mxPush(mxArrayPrototype);
	txSlot* copy = fxNewArrayInstance(the);
	for (txIndex index = 0; index < length; index++)
		mirrorProperty(the, walk, visit, copy, XS_NO_ID, index, 1);
}

static void mirrorObject(txMachine* the, Walk* walk, Visit* visit)
{
	txSlot* copy = fxNewInstance(the);
	txSlot* at = walk->keys;
	if (!at) {
		at = fxNewInstance(the);
		mxBehaviorOwnKeys(the, visit->instance, XS_EACH_NAME_FLAG, at);
	}
	mxPushUndefined();
	txSlot* property = the->stack;
	while ((at = at->next)) {
		if (mxBehaviorGetOwnProperty(the, visit->instance, at->value.at.id, at->value.at.index, property) && !(property->flag & XS_DONT_ENUM_FLAG))
			mirrorProperty(the, walk, visit, copy, at->value.at.id, at->value.at.index, 0);
	}
	mxPop();
	if (!walk->keys)
		mxPop();
}

static void leave(Visit* visit, int isConst)
{
	if (isConst)
		constPath = visit->up;
	else
		visit->instance->flag &= ~XS_LEVEL_FLAG;
}

// On the stack: holder, key, value. Replaces the value with what the engine is to
// write: a primitive, undefined for nothing, or a mirror in RAM.
static void mirror(txMachine* the, Walk* walk)
{
	txSlot* value = the->stack;
	txSlot* key = value + 1;
	txSlot* holder = value + 2;
	mxCheckCStack();
	if (mxIsReference(value) || mxIsBigInt(value)) {
		mxPushSlot(value);
		mxGetID(mxID(_toJSON));
		txSlot* toJSON = the->stack;
		if (mxIsReference(toJSON) && mxIsFunction(toJSON->value.reference))
			callWith(the, value, toJSON, key, value, 0);
		the->stack = value;
	}
	if (walk->replacer)
		callWith(the, holder, walk->replacer, key, value, 1);
	if (mxIsReference(value)) {
		txSlot* internal = value->value.reference->next;
		if (internal && (internal->flag & XS_INTERNAL_FLAG)) {
			if ((internal->kind == XS_INTEGER_KIND) || (internal->kind == XS_NUMBER_KIND))
				fxToNumber(the, value);
			else if (mxIsStringPrimitive(internal))
				fxToString(the, value);
			else if ((internal->kind == XS_BOOLEAN_KIND) || mxIsBigInt(internal)) {
				value->kind = internal->kind;
				value->value = internal->value;
			}
		}
	}
	if (mxIsBigInt(value))
		mxTypeError("stringify bigint");
	if (!mxIsReference(value))
		return;
	if (fxIsCallable(the, value)) {
		value->kind = XS_UNDEFINED_KIND;  // a function is not written; the engine must not look for its toJSON again
		return;
	}
	Visit visit = { value->value.reference, constPath };
	int isConst = readOnly(value);
	if (!isConst && (visit.instance->flag & XS_LEVEL_FLAG))
		mxTypeError("cyclic value");
	for (Visit* v = isConst ? constPath : NULL; v; v = v->up)
		if (v->instance == visit.instance)
			mxTypeError("cyclic value");
	mxTry(the) {
		if (isConst)
			constPath = &visit;
		else
			visit.instance->flag |= XS_LEVEL_FLAG;
		if (fxIsArray(the, visit.instance))
			mirrorArray(the, walk, &visit);
		else
			mirrorObject(the, walk, &visit);
	}
	mxCatch(the) {
		leave(&visit, isConst);
		fxJump(the);
	}
	leave(&visit, isConst);
	mxPullSlot(value);
}

// The property list of a replacer array: its strings, numbers and String or
// Number objects as keys, first occurrence first. Pushed as an instance.
static txSlot* propertyList(txMachine* the, txSlot* array)
{
	txSlot* list = fxNewInstance(the);
	txSlot* last = list;
	mxPushSlot(array);
	mxGetID(mxID(_length));
	txIndex length = (txIndex)fxToLength(the, the->stack);
	mxPop();
	for (txIndex i = 0; i < length; i++) {
		mxPushSlot(array);
		mxGetIndex(i);
		txSlot* item = the->stack;
		int key = mxIsStringPrimitive(item) || (item->kind == XS_INTEGER_KIND) || (item->kind == XS_NUMBER_KIND);
		if (mxIsReference(item)) {
			txSlot* instance = item->value.reference;
			key = mxIsString(instance) || mxIsNumber(instance);
		}
		if (key) {
			fxToString(the, item);
			fxAt(the, item);
			txSlot* at = list;
			while ((at = at->next) && !((at->value.at.id == item->value.at.id) && (at->value.at.index == item->value.at.index)))
				;
			if (!at) {
				last = last->next = fxNewSlot(the);
				last->kind = XS_AT_KIND;
				last->value.at = item->value.at;
			}
		}
		mxPop();
	}
	return list;
}

void xm_json_stringify(txMachine* the)
{
	if ((mxArgc == 0) || !readOnly(mxArgv(0))) {
		volatile int retry = 0;
		mxTry(the) {
			fx_JSON_stringify(the);
		}
		mxCatch(the) {
			if (!refused(the))
				fxJump(the);
			mxException = mxUndefined;
			retry = 1;
		}
		if (!retry)
			return;
	}
	Walk walk = { NULL, NULL };
	if ((mxArgc > 1) && mxIsReference(mxArgv(1))) {
		if (fxIsCallable(the, mxArgv(1)))
			walk.replacer = mxArgv(1);
		else if (fxIsArray(the, mxArgv(1)->value.reference))
			walk.keys = propertyList(the, mxArgv(1));
	}
	mxPush(mxObjectPrototype);
	txSlot* holder = fxNewObjectInstance(the);
	mxPushSlot(mxArgv(0));
	keep(the, holder, mxID(__empty_string_), 0);
	mxPop();
	mxPush(mxEmptyString);
	mxPushSlot(mxArgv(0));
	mirror(the, &walk);
	mxPullSlot(mxArgv(0));
	if (walk.replacer)
		mxArgv(1)->kind = XS_UNDEFINED_KIND;  // its work is done: the mirror holds its results
	fx_JSON_stringify(the);
}

void xm_json_install(txMachine* the)
{
	mxPush(mxJSONObject);
	mxGetID(mxID(_stringify));
	mxFunctionInstanceCode(the->stack->value.reference)->value.callback.address = xm_json_stringify;
	mxPop();
}
