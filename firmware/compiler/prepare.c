// SPDX-License-Identifier: MIT
// Writes a machine as the engine's txPreparation (xsAll.h), in C, so that every
// host boots by cloning it (fxPrepareMachine) instead of building its built-ins
// and preloaded modules in RAM.
//
// Design. The machine is the one `xsmgc link` numbered the image against, after
// preload.c ran the preloaded modules in it. fxShareMachine then collects it,
// marks every slot, and gives each instance that is not frozen, and each closure
// that is not const, an alias index: at run time a write to such an object or
// variable copies it into RAM first (the engine's aliases), so the written data
// stays const. We walk that heap and print each live slot as a C initializer of
// one `static const txSlot` array, every pointer written symbolically:
//   - a slot pointer as the address of an element of that array (an Array's items
//     follow their Array slot, after one slot whose value holds the chunk size,
//     which is where the engine reads a chunk's header);
//   - a string or key as a C string literal, a BigInt's digits as a txU4 array;
//   - bytecode as an address inside the image's xm_code_<n> arrays;
//   - an engine callback by its C name (looked up with dladdr: xsmgc is linked
//     with its symbols exported), a module's native by the name preload.c kept.
// The target's compiler lays this out for its own word size, so one build
// machine serves the 64-bit simulator and 32-bit boards alike. Objects we cannot
// write as const data (typed arrays, buffers, maps, weak collections, regexps,
// generators, proxies' revocation state) stop the build naming what it is.
#define _GNU_SOURCE
#include <dlfcn.h>
#include "xsmgc.h"

typedef struct {
	txSlot* heap;         // a heap block: its header slot, then slots up to limit
	txSlot* limit;
	int* index;           // element of xm_heap for each slot, 0 if free
} Block;

typedef struct {
	txSlot* items;
	txSize count;
	int index;            // element of xm_heap of the first item
} Items;

static Block* blocks;
static int blockCount;
static Items* arrays;
static int arrayCount;
static Image* image;
static int errors;
static int bigintCount;
static int regexpCount;

static void fail(const char* what, txSlot* slot)
{
	if (errors++ < 10)
		fprintf(stderr, "xsmgc: cannot preload: %s (slot kind %d, key %d); leave the module that makes it out of the manifest's \"preload\" list\n",
			what, slot->kind, slot->ID);
}

// What a preloaded module cannot leave behind: objects whose state the engine
// keeps outside slots, or changes in place (it would write into flash).
const char* prepare_unsupported(txSlot* slot)
{
	switch (slot->kind) {
	case XS_ARRAY_BUFFER_KIND: return "an ArrayBuffer or typed array";
	case XS_DATA_VIEW_KIND: return "a DataView";
	case XS_MAP_KIND: return "a Map";
	case XS_SET_KIND: return "a Set";
	case XS_WEAK_MAP_KIND: return "a WeakMap";
	case XS_WEAK_SET_KIND: return "a WeakSet";
	case XS_WEAK_REF_KIND: return "a WeakRef";
	case XS_FINALIZATION_REGISTRY_KIND:
	case XS_FINALIZATION_CELL_KIND: return "a FinalizationRegistry";
	case XS_STACK_KIND: return "a suspended generator or async function";
	case XS_CODE_KIND: return "a function compiled at run time";
	case XS_PROMISE_KIND:
		// The engine appends reactions to a pending promise in place.
		return slot->value.integer == mxPendingStatus ? "a pending Promise" : NULL;
	case XS_HOST_KIND:
		return (slot->value.host.data || (slot->flag & XS_HOST_HOOKS_FLAG)) ? "a host object with native data" : NULL;
	default: return NULL;
	}
}

static int indexOf(txSlot* slot)
{
	for (int i = 0; i < blockCount; i++)
		if (blocks[i].heap < slot && slot < blocks[i].limit)
			return blocks[i].index[slot - blocks[i].heap];
	for (int i = 0; i < arrayCount; i++)
		if (arrays[i].items <= slot && slot < arrays[i].items + arrays[i].count)
			return arrays[i].index + (int)(slot - arrays[i].items);
	return -1;
}

static void printAddress(FILE* out, txSlot* slot)
{
	if (!slot) {
		fprintf(out, "NULL");
		return;
	}
	int index = indexOf(slot);
	if (index <= 0) {
		fprintf(out, "NULL");
		if (errors++ < 10)
			fprintf(stderr, "xsmgc: cannot preload: a slot refers to memory outside the heap\n");
		return;
	}
	fprintf(out, "(txSlot*)&xm_heap[%d]", index);
}

// A kind whose value is two slots: ".kind = K, .value.field = { &a, &b }".
static void printPair(FILE* out, const char* kind, const char* field, txSlot* first, txSlot* second)
{
	fprintf(out, ".kind = %s, .value.%s = { ", kind, field);
	printAddress(out, first);
	fprintf(out, ", ");
	printAddress(out, second);
	fprintf(out, " }");
}

// XS_PAD follows every string (see prepare_write): with AddressSanitizer, the
// engine's word-at-a-time string length (fxUnicodeLength) reads whole aligned
// words past the terminator, harmless on hardware, an error for ASan in a string
// literal sized to the byte.
static void printString(FILE* out, const char* s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 32 || c >= 127 || c == '?')  // '?' avoids trigraphs
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
	fprintf(out, "\" XM_PAD");
}

static void printNumber(FILE* out, txNumber value)
{
	if (isnan(value))
		fprintf(out, "__builtin_nan(\"\")");
	else if (isinf(value))
		fprintf(out, "%s__builtin_inf()", value < 0 ? "-" : "");
	else
		fprintf(out, "%a", value);  // exact
}

static const char* callbackName(txSlot* slot, void* address)
{
	static char buffer[256];
	const char* native = preload_native_name(slot);
	if (native)
		return native;
	Dl_info info;
	if (address && dladdr(address, &info) && info.dli_sname && info.dli_saddr == address) {
		snprintf(buffer, sizeof(buffer), "%s", info.dli_sname);
		return buffer;
	}
	return NULL;
}

// Callbacks and destructors are declared before the heap refers to them.
static void declareCallbacks(FILE* out)
{
	for (int b = 0; b < blockCount; b++) {
		for (txSlot* slot = blocks[b].heap + 1; slot < blocks[b].limit; slot++) {
			if (!blocks[b].index[slot - blocks[b].heap])
				continue;
			const char* name = NULL;
			if (slot->kind == XS_CALLBACK_KIND || slot->kind == XS_CALLBACK_X_KIND)
				name = callbackName(slot, (void*)slot->value.callback.address);
			else if (slot->kind == XS_HOST_KIND && slot->value.host.variant.destructor)
				name = callbackName(slot, (void*)slot->value.host.variant.destructor);
			if (name)
				fprintf(out, slot->kind == XS_HOST_KIND ? "extern void %s(void*);\n" : "extern void %s(txMachine*);\n", name);
		}
	}
}

static void printCode(FILE* out, txByte* code)
{
	if (code == gxNoCode) {
		fprintf(out, "(txByte*)gxNoCode");
		return;
	}
	for (int i = 0; i < image->count; i++) {
		Module* m = &image->modules[i];
		if (m->code <= code && code < m->code + m->codeSize) {
			fprintf(out, "(txByte*)&xm_code_%d[%ld]", m->index, (long)(code - m->code));
			return;
		}
	}
	fprintf(out, "NULL");
	if (errors++ < 10)
		fprintf(stderr, "xsmgc: cannot preload: a function's code is not in the image\n");
}

static int typeIndex(const void* entry, const void* first, size_t size)
{
	for (int i = 0; i < mxTypeArrayCount; i++)
		if ((const char*)first + (size_t)i * size == entry)
			return i;
	return 0;
}

// Heap slots and Array items are written marked, so that no collection in a
// clone tries to mark them (they are const). Stack slots are not: the engine
// copies some of them whole (flag included) into RAM and C code, where a mark
// would read as "being collected" (xsForget would then leave a slot linked).
static void printSlot(FILE* out, txSlot* slot, int item, txFlag mark)
{
	fprintf(out, "\t{ ");
	if (item)
		fprintf(out, ".next = (txSlot*)(uintptr_t)%u", (unsigned)*(txIndex*)slot);  // an item's index
	else {
		fprintf(out, ".next = ");
		printAddress(out, slot->next);
	}
	txKind kind = slot->kind;
	fprintf(out, ", .ID = %d, .flag = 0x%x, ", slot->ID, (unsigned)(slot->flag | mark));
	switch (kind) {
	case XS_UNINITIALIZED_KIND:
	case XS_UNDEFINED_KIND:
	case XS_NULL_KIND:
		fprintf(out, ".kind = %d", kind);
		break;
	case XS_BOOLEAN_KIND:
		fprintf(out, ".kind = XS_BOOLEAN_KIND, .value.boolean = %d", slot->value.boolean);
		break;
	case XS_INTEGER_KIND:
		fprintf(out, ".kind = XS_INTEGER_KIND, .value.integer = %d", slot->value.integer);
		break;
	case XS_NUMBER_KIND:
	case XS_DATE_KIND:
		fprintf(out, ".kind = %d, .value.number = ", kind);
		printNumber(out, slot->value.number);
		break;
	case XS_STRING_KIND:
	case XS_STRING_X_KIND:
		fprintf(out, ".kind = XS_STRING_X_KIND, .value.string = (txString)");
		printString(out, slot->value.string);
		break;
	case XS_SYMBOL_KIND:
		fprintf(out, ".kind = XS_SYMBOL_KIND, .value.symbol = %d", slot->value.symbol);
		break;
	case XS_BIGINT_KIND:
	case XS_BIGINT_X_KIND:
		fprintf(out, ".kind = XS_BIGINT_X_KIND, .value.bigint = { .data = (txU4*)xm_bigint_%d, .size = %u, .sign = %u }",
			bigintCount++, slot->value.bigint.size, slot->value.bigint.sign);
		break;
	case XS_REFERENCE_KIND:
		fprintf(out, ".kind = XS_REFERENCE_KIND, .value.reference = ");
		printAddress(out, slot->value.reference);
		break;
	case XS_CLOSURE_KIND:
		fprintf(out, ".kind = XS_CLOSURE_KIND, .value.closure = ");
		printAddress(out, slot->value.closure);
		break;
	case XS_INSTANCE_KIND:
		fprintf(out, ".kind = XS_INSTANCE_KIND, .value.instance = { NULL, ");
		printAddress(out, slot->value.instance.prototype);
		fprintf(out, " }");
		break;
	case XS_ARRAY_KIND:
		fprintf(out, ".kind = XS_ARRAY_KIND, .value.array = { ");
		if (slot->value.array.address)
			fprintf(out, "(txSlot*)&xm_heap[%d]", indexOf(slot) + 2);
		else
			fprintf(out, "NULL");
		fprintf(out, ", %u }", (unsigned)slot->value.array.length);
		break;
	case XS_CALLBACK_KIND:
	case XS_CALLBACK_X_KIND: {
		const char* name = callbackName(slot, (void*)slot->value.callback.address);
		if (!name)
			fail("a native function the linker cannot name", slot);
		fprintf(out, ".kind = XS_CALLBACK_X_KIND, .value.callback = { %s, ", name ? name : "NULL");
		printAddress(out, slot->value.callback.closures);
		fprintf(out, " }");
	} break;
	case XS_CODE_KIND:
	case XS_CODE_X_KIND:
		fprintf(out, ".kind = XS_CODE_X_KIND, .value.code = { ");
		printCode(out, slot->value.code.address);
		fprintf(out, ", ");
		printAddress(out, slot->value.code.closures);
		fprintf(out, " }");
		break;
	case XS_HOST_KIND: {
		const char* name = slot->value.host.variant.destructor ? callbackName(slot, (void*)slot->value.host.variant.destructor) : "NULL";
		if (!name)
			fail("a host object whose destructor the linker cannot name", slot);
		fprintf(out, ".kind = XS_HOST_KIND, .value.host = { NULL, { .destructor = (txDestructor)%s } }", name ? name : "NULL");
	} break;
	case XS_MODULE_KIND:
	case XS_PROGRAM_KIND:
		fprintf(out, ".kind = %d, .value.module = { ", kind);
		printAddress(out, slot->value.module.realm);
		fprintf(out, ", %d }", slot->value.module.id);
		break;
	case XS_PROMISE_KIND:
		fprintf(out, ".kind = XS_PROMISE_KIND, .value.integer = %d", slot->value.integer);
		break;
	case XS_PROXY_KIND:
		printPair(out, "XS_PROXY_KIND", "proxy", slot->value.proxy.handler, slot->value.proxy.target);
		break;
	case XS_TYPED_ARRAY_KIND:
		// The constructors' dispatch entries: const tables of the engine.
		fprintf(out, ".kind = XS_TYPED_ARRAY_KIND, .value.typedArray = { (txTypeDispatch*)&gxTypeDispatches[%d], (txTypeAtomics*)&gxTypeAtomics[%d] }",
			typeIndex(slot->value.typedArray.dispatch, gxTypeDispatches, sizeof(txTypeDispatch)),
			typeIndex(slot->value.typedArray.atomics, gxTypeAtomics, sizeof(txTypeAtomics)));
		break;
	case XS_ACCESSOR_KIND:
		printPair(out, "XS_ACCESSOR_KIND", "accessor", slot->value.accessor.getter, slot->value.accessor.setter);
		break;
	case XS_AT_KIND:
		fprintf(out, ".kind = XS_AT_KIND, .value.at = { %u, %d }", (unsigned)slot->value.at.index, slot->value.at.id);
		break;
	case XS_ENTRY_KIND:
		fprintf(out, ".kind = XS_ENTRY_KIND, .value.entry = { ");
		printAddress(out, slot->value.entry.slot);
		fprintf(out, ", %uu }", (unsigned)slot->value.entry.sum);
		break;
	case XS_ERROR_KIND:
		fprintf(out, ".kind = XS_ERROR_KIND, .value.error = { ");
		printAddress(out, slot->value.error.info);
		fprintf(out, ", %d }", slot->value.error.which);
		break;
	case XS_EXPORT_KIND:
		printPair(out, "XS_EXPORT_KIND", "export", slot->value.export.closure, slot->value.export.module);
		break;
	case XS_HOME_KIND:
		printPair(out, "XS_HOME_KIND", "home", slot->value.home.object, slot->value.home.module);
		break;
	case XS_KEY_KIND:
	case XS_KEY_X_KIND:
		fprintf(out, ".kind = XS_KEY_X_KIND, .value.key = { ");
		if (slot->value.key.string)
			printString(out, slot->value.key.string);
		else
			fprintf(out, "NULL");
		fprintf(out, ", %uu }", (unsigned)slot->value.key.sum);
		break;
	case XS_LIST_KIND:
		printPair(out, "XS_LIST_KIND", "list", slot->value.list.first, slot->value.list.last);
		break;
	case XS_PRIVATE_KIND:
		printPair(out, "XS_PRIVATE_KIND", "private", slot->value.private.check, slot->value.private.first);
		break;
	case XS_REGEXP_KIND:
		// No data: the engine then matches in a temporary buffer of its own.
		if (slot->value.regexp.code)
			fprintf(out, ".kind = XS_REGEXP_KIND, .value.regexp = { (txInteger*)xm_regexp_%d, NULL }", regexpCount++);
		else
			fprintf(out, ".kind = XS_REGEXP_KIND, .value.regexp = { NULL, NULL }");
		break;
	default:
		fprintf(out, ".kind = %d", kind);
		fail("an object of a kind the linker cannot write", slot);
		break;
	}
	const char* unsupported = prepare_unsupported(slot);
	if (unsupported)
		fail(unsupported, slot);  // preload.c names the module first: only the built-ins' own get here
	fprintf(out, " },\n");
}

static void collectBlocks(txMachine* the)
{
	for (txSlot* heap = the->firstHeap; heap; heap = heap->next)
		blockCount++;
	blocks = calloc((size_t)blockCount, sizeof(Block));
	int b = 0;
	for (txSlot* heap = the->firstHeap; heap; heap = heap->next, b++) {
		blocks[b].heap = heap;
		blocks[b].limit = heap->value.reference;
		blocks[b].index = calloc((size_t)(blocks[b].limit - heap), sizeof(int));
	}
}

// Gives every live slot its element of xm_heap; free slots (on the free list) get none.
static int numberSlots(txMachine* the)
{
	for (int b = 0; b < blockCount; b++)
		for (txSlot* slot = blocks[b].heap + 1; slot < blocks[b].limit; slot++)
			blocks[b].index[slot - blocks[b].heap] = 1;
	for (txSlot* slot = the->freeHeap; slot; slot = slot->next)
		for (int b = 0; b < blockCount; b++)
			if (blocks[b].heap < slot && slot < blocks[b].limit)
				blocks[b].index[slot - blocks[b].heap] = 0;
	int next = 1;
	for (int b = 0; b < blockCount; b++) {
		for (txSlot* slot = blocks[b].heap + 1; slot < blocks[b].limit; slot++) {
			if (!blocks[b].index[slot - blocks[b].heap])
				continue;
			blocks[b].index[slot - blocks[b].heap] = next++;
			if (slot->kind == XS_ARRAY_KIND && slot->value.array.address) {
				arrays = realloc(arrays, (size_t)(arrayCount + 1) * sizeof(Items));
				arrays[arrayCount].items = slot->value.array.address;
				arrays[arrayCount].count = (txSize)fxGetIndexSize(the, slot);
				arrays[arrayCount].index = next + 1;
				next += 1 + arrays[arrayCount].count;
				arrayCount++;
			}
		}
	}
	return next;
}

static void printHeap(FILE* out, int count)
{
	int array = 0;
	fprintf(out, "static const txSlot xm_heap[%d] = {\n", count + 1);
	// A heap block's header: its limit.
	fprintf(out, "\t{ .next = NULL, .ID = XS_NO_ID, .flag = 0, .kind = XS_REFERENCE_KIND, .value.reference = (txSlot*)&xm_heap[%d] },\n", count);
	for (int b = 0; b < blockCount; b++) {
		for (txSlot* slot = blocks[b].heap + 1; slot < blocks[b].limit; slot++) {
			if (!blocks[b].index[slot - blocks[b].heap])
				continue;
			printSlot(out, slot, 0, XS_MARK_FLAG);
			if (slot->kind == XS_ARRAY_KIND && slot->value.array.address) {
				Items* items = &arrays[array++];
				// Where the engine reads the chunk header (its size) before the items.
				fprintf(out, "\t{ .next = NULL, .ID = XS_NO_ID, .flag = 0, .kind = XS_INTEGER_KIND, .value.integer = %d * sizeof(txSlot) },\n", (int)items->count);
				for (txSize i = 0; i < items->count; i++)
					printSlot(out, &items->items[i], 1, XS_MARK_FLAG);
			}
		}
	}
	fprintf(out, "\t{ .next = NULL, .ID = XS_NO_ID, .flag = 0, .kind = XS_REFERENCE_KIND, .value.reference = NULL }\n};\n\n");
}

static void printBigInt(FILE* out, txSlot* slot)
{
	fprintf(out, "static const txU4 xm_bigint_%d[%u] = {", bigintCount++, slot->value.bigint.size ? slot->value.bigint.size : 1);
	for (txU2 i = 0; i < slot->value.bigint.size; i++)
		fprintf(out, " 0x%08x,", slot->value.bigint.data[i]);
	fprintf(out, " };\n");
}

// A RegExp's compiled program: integers, the same on every word size.
static void printRegExp(FILE* out, txSlot* slot)
{
	txInteger* code = slot->value.regexp.code;
	txSize size = (((txChunk*)((txByte*)code - sizeof(txChunk)))->size - (txSize)sizeof(txChunk)) / (txSize)sizeof(txInteger);
	fprintf(out, "static const txInteger xm_regexp_%d[%d] = {", regexpCount++, size);
	for (txSize i = 0; i < size; i++)
		fprintf(out, "%s%d,", (i % 16) ? " " : "\n\t", code[i]);
	fprintf(out, "\n};\n");
}

static void printData(FILE* out, txSlot* slot)
{
	if (slot->kind == XS_BIGINT_KIND || slot->kind == XS_BIGINT_X_KIND)
		printBigInt(out, slot);
	else if (slot->kind == XS_REGEXP_KIND && slot->value.regexp.code)
		printRegExp(out, slot);
}

// BigInt digits and RegExp programs, in the order printSlot numbers them.
static void printChunks(FILE* out)
{
	bigintCount = 0;
	regexpCount = 0;
	for (int b = 0; b < blockCount; b++) {
		for (txSlot* slot = blocks[b].heap + 1; slot < blocks[b].limit; slot++) {
			if (!blocks[b].index[slot - blocks[b].heap])
				continue;
			printData(out, slot);
			if (slot->kind == XS_ARRAY_KIND && slot->value.array.address) {
				txSlot* item = slot->value.array.address;
				for (txSize i = 0, n = (txSize)fxGetIndexSize(NULL, slot); i < n; i++, item++)
					printData(out, item);
			}
		}
	}
	bigintCount = 0;
	regexpCount = 0;
}

static void printTable(FILE* out, const char* name, txSlot** table, int count)
{
	fprintf(out, "static txSlot* const %s[%d] = {\n", name, count ? count : 1);
	for (int i = 0; i < count; i++) {
		fprintf(out, "\t");
		printAddress(out, table[i]);
		fprintf(out, ",\n");
	}
	fprintf(out, "%s};\n\n", count ? "" : "\tNULL\n");
}

// The shared global must not be the engine's exotic global: that one caches
// lookups by writing into its table. As a plain object it serves as the
// prototype of each clone's own global, as Moddable's linker makes it.
static void plainGlobal(txMachine* the)
{
	txSlot* global = mxGlobal.value.reference;
	if (global->next && global->next->kind == XS_GLOBAL_KIND) {
		global->next = global->next->next;
		global->flag &= ~XS_EXOTIC_FLAG;
	}
}

int prepare_write(txMachine* the, Image* linked, FILE* out)
{
	image = linked;
	plainGlobal(the);
	fxShareMachine(the);
	collectBlocks(the);
	int count = numberSlots(the);
	int stackCount = (int)(the->stackTop - the->stack);

	fprintf(out, "\n// The prepared machine: built-ins and preloaded modules (xsmgc prepare.c).\n");
	fprintf(out, "#ifdef __SANITIZE_ADDRESS__\n#define XM_PAD \"\\0\\0\\0\\0\\0\\0\\0\"\n#else\n#define XM_PAD\n#endif\n");
	fprintf(out, "static const txSlot xm_heap[%d];\n", count + 1);
	declareCallbacks(out);
	printChunks(out);
	printHeap(out, count);

	fprintf(out, "static const txSlot xm_stack[%d] = {\n", stackCount);
	for (txSlot* slot = the->stack; slot < the->stackTop; slot++) {
		txSlot copy = *slot;
		copy.next = NULL;  // a stack slot links nothing
		printSlot(out, &copy, 0, 0);
	}
	fprintf(out, "};\n\n");
	printTable(out, "xm_keys", the->keyArray, the->keyIndex);
	printTable(out, "xm_key_names", the->nameTable, the->nameModulo);
	printTable(out, "xm_key_symbols", the->symbolTable, the->symbolModulo);
	fprintf(out, "static const txPreparation xm_preparation_data = {\n"
		"\t{ XS_MAJOR_VERSION, XS_MINOR_VERSION, XS_PATCH_VERSION, 0 },\n"
		"\t%d, %d, (txSlot*)xm_heap, %d, (txSlot*)xm_stack,\n"
		"\tNULL, %d, (txSlot**)xm_keys, %d, (txSlot**)xm_key_names, %d, (txSlot**)xm_key_symbols,\n"
		"\t0, NULL, %d,\n"
		"\t{ 0 }, NULL, { 0 }\n};\n",
		the->aliasCount, count + 1, stackCount, the->keyIndex, the->nameModulo, the->symbolModulo, the->profileID);
	fprintf(out, "const void* const xm_preparation = &xm_preparation_data;\n");
	return errors ? 1 : 0;
}
