// SPDX-License-Identifier: MIT
// xsmgc: our ahead-of-time compiler and linker for XS bytecode.
//
//   xsmgc compile [--no-debug] IN.js OUT.xmb
//                                    parse one module (source map aware) to bytecode;
//                                    --no-debug leaves out the file and line records,
//                                    which only an engine built with mxDebug reads
//   xsmgc link OUT.c [--prepare NAMES,SYMBOLS [--preload NAME]...] NAME=IN.xmb...
//                                    give every symbol its final key ID, make the
//                                    bytecode executable in place, emit it as C;
//                                    with --prepare, also run the preloaded modules
//                                    and emit the machine as a txPreparation
//                                    (prepare.c), for key tables of those sizes
//
// The engine normally remaps symbol IDs inside the code buffer when it loads a
// script, which needs the bytecode in RAM. We do that remapping here instead, against
// a machine built from the same engine sources, and the runtime only checks at boot
// that its keys came out the same (xm_modules.c). Function bodies and string literals
// are switched to their *_ARCHIVE opcodes so the engine reads them from flash rather
// than copying them into the XS chunk heap.
#include "xsmgc.h"
#include "xsScript.h"

#include <errno.h>

static int errors;

static void reportError(void* console, txString path, txInteger line, txString format, c_va_list args)
{
	(void)console;
	if (path)
		fprintf(stderr, "%s:%d: error: ", path, (int)line);
	else
		fprintf(stderr, "error: ");
	vfprintf(stderr, format, args);
	fprintf(stderr, "\n");
	errors++;
}

static void reportWarning(void* console, txString path, txInteger line, txString format, c_va_list args)
{
	(void)console;
	if (path)
		fprintf(stderr, "%s:%d: warning: ", path, (int)line);
	vfprintf(stderr, format, args);
	fprintf(stderr, "\n");
}

static void die(const char* what, const char* path)
{
	fprintf(stderr, "xsmgc: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

typedef struct {
	char* data;
	size_t size;
	size_t offset;
} Source;

static int sourceGetter(void* it)
{
	Source* source = it;
	if (source->offset >= source->size)
		return C_EOF;
	return (unsigned char)source->data[source->offset++];
}

static Source readFile(const char* path)
{
	Source source = { NULL, 0, 0 };
	FILE* file = fopen(path, "rb");
	if (!file)
		die("cannot read", path);
	fseek(file, 0, SEEK_END);
	source.size = (size_t)ftell(file);
	fseek(file, 0, SEEK_SET);
	source.data = malloc(source.size + 1);
	if (!source.data || fread(source.data, 1, source.size, file) != source.size)
		die("cannot read", path);
	source.data[source.size] = 0;
	fclose(file);
	return source;
}

// A source map names its sources relative to the map's own folder.
static txString siblingPath(txParser* parser, const char* base, const char* name)
{
	const char* slash = strrchr(base, '/');
	size_t length = (name[0] == '/' || !slash) ? 0 : (size_t)(slash - base + 1);
	txString path = fxNewParserChunk(parser, (txSize)(length + strlen(name) + 1));
	memcpy(path, base, length);
	strcpy(path + length, name);
	char resolved[C_PATH_MAX];
	if (realpath(path, resolved))
		return fxNewParserString(parser, resolved, (txSize)strlen(resolved));
	return path;
}

static void writeBlock(FILE* file, const void* data, uint32_t size)
{
	fwrite(&size, sizeof(size), 1, file);
	if (size)
		fwrite(data, size, 1, file);
}

static int compile(const char* input, const char* output, txBoolean debug)
{
	txParser _parser;
	txParser* parser = &_parser;
	txParserJump jump;
	txScript* volatile script = NULL;  // set between setjmp and a possible longjmp
	txString mapName = NULL;
	Source source = readFile(input);
	// Without mxDebug the engine steps over each statement's line record: dead
	// weight in flash, and an instruction dispatch per statement.
	txUnsigned flags = mxCFlag | (debug ? mxDebugFlag : 0);

	// The code generator numbers functions for the profiler through its console,
	// which the engine takes to be a machine; a blank one serves.
	static txMachine profiler;
	fxInitializeParser(parser, &profiler, 1024 * 1024, 1993);  // the buffer bounds a string literal
	parser->reportError = reportError;
	parser->reportWarning = reportWarning;
	parser->firstJump = &jump;
	if (c_setjmp(jump.jmp_buf) == 0) {
		parser->origin = parser->path = fxNewParserSymbol(parser, (txString)input);
		fxParserTree(parser, &source, sourceGetter, flags, &mapName);
		if (!errors && mapName) {
			txString mapPath = siblingPath(parser, input, mapName);
			Source map = readFile(mapPath);
			txString sourceName = NULL;
			parser->path = fxNewParserSymbol(parser, mapPath);
			fxParserSourceMap(parser, &map, sourceGetter, flags, &sourceName);
			if (sourceName)
				parser->path = fxNewParserSymbol(parser, siblingPath(parser, mapPath, sourceName));
			free(map.data);
		}
		if (!errors) {
			fxParserHoist(parser);
			fxParserBind(parser);
		}
		if (!errors)
			script = fxParserCode(parser);
	}
	free(source.data);
	if (errors || !script) {
		if (!errors)
			fprintf(stderr, "%s: error: out of memory while compiling\n", input);
		fxTerminateParser(parser);
		return 1;
	}
	FILE* file = fopen(output, "wb");
	if (!file)
		die("cannot write", output);
	fwrite("XMB1", 4, 1, file);
	writeBlock(file, script->symbolsBuffer, (uint32_t)script->symbolsSize);
	writeBlock(file, script->codeBuffer, (uint32_t)script->codeSize);
	writeBlock(file, script->hostsBuffer, (uint32_t)script->hostsSize);
	if (fclose(file))
		die("cannot write", output);
	fxDeleteScript(script);
	fxTerminateParser(parser);
	return 0;
}

static txByte* readBlock(FILE* file, uint32_t* size, const char* path)
{
	if (fread(size, sizeof(*size), 1, file) != 1)
		die("truncated", path);
	txByte* data = malloc(*size ? *size : 1);
	if (*size && fread(data, *size, 1, file) != 1)
		die("truncated", path);
	return data;
}

static void loadModule(Module* module, const char* path)
{
	char magic[4];
	uint32_t size;
	FILE* file = fopen(path, "rb");
	if (!file)
		die("cannot read", path);
	if (fread(magic, 4, 1, file) != 1 || memcmp(magic, "XMB1", 4))
		die("not an xsmgc module", path);
	module->path = path;
	module->symbols = readBlock(file, &size, path);
	module->code = readBlock(file, &module->codeSize, path);
	module->hosts = readBlock(file, &module->hostsSize, path);
	fclose(file);
}

// Give each of the module's symbols its key ID in a fresh machine. New names are
// created in a stable order, so the runtime can recreate them with the same IDs.
static void bindSymbols(txMachine* the, Module* module)
{
	txByte* p = module->symbols;
	txID count, i;
	mxDecodeID(p, count);
	module->ids = malloc((count ? count : 1) * sizeof(txID));
	module->ids[0] = XS_NO_ID;
	for (i = 1; i < count; i++) {
		module->ids[i] = fxNewNameC(the, (txString)p);
		p += strlen((char*)p) + 1;
	}
}

static txU1 archiveOpcode(txU1 opcode)
{
	switch (opcode) {
	case XS_CODE_CODE_1: return XS_CODE_CODE_ARCHIVE_1;
	case XS_CODE_CODE_2: return XS_CODE_CODE_ARCHIVE_2;
	case XS_CODE_CODE_4: return XS_CODE_CODE_ARCHIVE_4;
	case XS_CODE_STRING_1: return XS_CODE_STRING_ARCHIVE_1;
	case XS_CODE_STRING_2: return XS_CODE_STRING_ARCHIVE_2;
	case XS_CODE_STRING_4: return XS_CODE_STRING_ARCHIVE_4;
	default: return opcode;
	}
}

// Same walk as the engine's loader (gxCodeSizes: >0 fixed size, 0 an ID operand,
// <0 a length-prefixed operand of 1, 2 or 4 bytes).
static void relocateCode(Module* module)
{
	txByte* p = module->code;
	txByte* q = p + module->codeSize;
	while (p < q) {
		txU1 opcode = *(txU1*)p;
		txS1 offset = gxCodeSizes[opcode];
		*(txU1*)p = archiveOpcode(opcode);
		if (offset > 0)
			p += offset;
		else if (offset == 0) {
			txID id;
			p++;
			mxDecodeID(p, id);
			if (id != XS_NO_ID) {
				p -= sizeof(txID);
				id = module->ids[id];
				mxEncodeID(p, id);
			}
		}
		else if (offset == -1) {
			txU1 length = *(txU1*)(p + 1);
			p += 2 + length;
		}
		else if (offset == -2) {
			txU2 length;
			p++;
			mxDecode2(p, length);
			p += length;
		}
		else {
			txS4 length;
			p++;
			mxDecode4(p, length);
			p += length;
		}
	}
}

static void emitBytes(FILE* out, const char* name, const txByte* data, uint32_t size)
{
	fprintf(out, "static const uint8_t %s[%u] = {", name, size ? size : 1);
	for (uint32_t i = 0; i < size; i++)
		fprintf(out, "%s%u,", (i % 24) ? "" : "\n\t", (txU1)data[i]);
	fprintf(out, "%s\n};\n", size ? "" : "0");
}

static void emitCString(FILE* out, const char* s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 32 || c >= 127)
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

// Host functions declared with `@ "c_name"`: an extern per C function and a
// builder table that the engine turns into the module's hosts array.
static void emitHosts(FILE* out, Module* module, int index)
{
	txByte* p = module->hosts;
	txID count, i, id;
	if (!module->hostsSize)
		return;
	mxDecodeID(p, count);
	txByte* start = p;
	for (i = 0; i < count; i++) {
		txS1 length = *p++;
		p += sizeof(txID);
		fprintf(out, length < 0 ? "extern void %s(void* data);\n" : "extern void %s(xsMachine* the);\n", p);
		p += strlen((char*)p) + 1;
	}
	fprintf(out, "static const xsHostBuilder xm_builders_%d[%d] = {\n", index, count);
	p = start;
	for (i = 0; i < count; i++) {
		txS1 length = *p++;
		mxDecodeID(p, id);
		if (length < 0)
			fprintf(out, "\t{ (xsCallback)%s, -1, -1 },\n", p);
		else
			fprintf(out, "\t{ %s, %d, %d },\n", p, length, id == XS_NO_ID ? -1 : module->ids[id]);
		p += strlen((char*)p) + 1;
	}
	fprintf(out, "};\nstatic void xm_hosts_%d(xsMachine* the)\n{\n\txsResult = xsBuildHosts(%d, (xsHostBuilder*)xm_builders_%d);\n}\n\n",
		index, count, index);
}

typedef struct {
	int prepare;
	txInteger nameModulo, symbolModulo;
	int preloadCount;
	char** preloads;
} LinkOptions;

static int link_image(const char* output, LinkOptions* options, int count, char** specs)
{
	// Room to run the preloaded modules' bodies (the stack is not bounds-checked
	// in this build of the engine).
	txCreation creation = { 1048576, 1048576, 65536, 32768, 16384, 8192, 1024, 1993, 127, 4096, 1993, 0 };
	Image image = { calloc((size_t)count, sizeof(Module)), count };
	Module* modules = image.modules;
	for (int i = 0; i < count; i++) {
		char* eq = strchr(specs[i], '=');
		if (!eq) {
			fprintf(stderr, "xsmgc: expected NAME=FILE.xmb, got %s\n", specs[i]);
			return 2;
		}
		*eq = 0;
		modules[i].name = specs[i];
		modules[i].index = i;
		loadModule(&modules[i], eq + 1);
	}
	// A prepared machine's key tables are copied as they are by each clone: the
	// hash table sizes must be the firmware's (its creation profile).
	if (options->prepare) {
		creation.nameModulo = options->nameModulo;
		creation.symbolModulo = options->symbolModulo;
	}

	txMachine* the = fxCreateMachine(&creation, "xsmgc", NULL, XS_NO_ID);
	txID firstNew = the->keyIndex;
	for (int i = 0; i < count; i++)
		bindSymbols(the, &modules[i]);
	txID lastNew = the->keyIndex;
	for (int i = 0; i < count; i++)
		relocateCode(&modules[i]);
	if (options->prepare && preload_modules(the, &image, options->preloadCount, options->preloads))
		return 1;

	FILE* out = fopen(output, "w");
	if (!out)
		die("cannot write", output);
	fprintf(out, "// Generated by xsmgc link: the firmware's modules as XS bytecode. Do not edit.\n");
	if (options->prepare)
		fprintf(out, "#include \"xsAll.h\"\n");
	fprintf(out, "#include \"xm_modules.h\"\n\n");
	fprintf(out, "static const char* const xm_names[%d] = {\n", lastNew - firstNew + 1);
	for (txID id = firstNew; id < lastNew; id++) {
		fprintf(out, "\t");
		emitCString(out, fxGetKeyName(the, id));
		fprintf(out, ",\n");
	}
	fprintf(out, "\t0\n};\n\n");
	for (int i = 0; i < count; i++) {
		char name[32];
		snprintf(name, sizeof(name), "xm_code_%d", i);
		emitBytes(out, name, modules[i].code, modules[i].codeSize);
		emitHosts(out, &modules[i], i);
	}
	fprintf(out, "static const xm_module_t xm_module_table[%d] = {\n", count);
	for (int i = 0; i < count; i++) {
		fprintf(out, "\t{ ");
		emitCString(out, modules[i].name);
		fprintf(out, ", xm_code_%d, %u, ", i, modules[i].codeSize);
		if (modules[i].hostsSize)
			fprintf(out, "xm_hosts_%d },\n", i);
		else
			fprintf(out, "NULL },\n");
	}
	fprintf(out, "};\n\n");
	int failed = 0;
	if (options->prepare) {
		fprintf(out, "extern const void* const xm_preparation;\n");
		fprintf(out, "const xm_image_t xm_image = { %d, %d, xm_names, %d, xm_module_table, &xm_preparation };\n",
			firstNew, lastNew - firstNew, count);
		failed = prepare_write(the, &image, out);
	}
	else
		fprintf(out, "const xm_image_t xm_image = { %d, %d, xm_names, %d, xm_module_table, NULL };\n",
			firstNew, lastNew - firstNew, count);
	if (fclose(out))
		die("cannot write", output);
	if (failed) {
		remove(output);
		return 1;
	}
	fxDeleteMachine(the);
	return 0;
}

static int link_command(const char* output, int argc, char** argv)
{
	LinkOptions options = { 0, 0, 0, 0, calloc((size_t)argc, sizeof(char*)) };
	int i = 0;
	for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (i + 1 >= argc)
			return 2;
		if (!strcmp(argv[i], "--prepare")) {
			options.prepare = 1;
			if (sscanf(argv[i + 1], "%d,%d", &options.nameModulo, &options.symbolModulo) != 2)
				return 2;
		}
		else if (!strcmp(argv[i], "--preload"))
			options.preloads[options.preloadCount++] = argv[i + 1];
		else
			return 2;
	}
	if (options.preloadCount && !options.prepare)
		return 2;
	return link_image(output, &options, argc - i, argv + i);
}

int main(int argc, char** argv)
{
	if (argc >= 4 && !strcmp(argv[1], "compile")) {
		txBoolean debug = argc == 4;
		if (debug || (argc == 5 && !strcmp(argv[2], "--no-debug")))
			return compile(argv[argc - 2], argv[argc - 1], debug);
	}
	if (argc >= 3 && !strcmp(argv[1], "link")) {
		int status = link_command(argv[2], argc - 3, argv + 3);
		if (status != 2)
			return status;
	}
	fprintf(stderr, "usage: xsmgc compile [--no-debug] IN.js OUT.xmb\n       xsmgc link OUT.c [--prepare NAMES,SYMBOLS [--preload NAME]...] NAME=IN.xmb...\n");
	return 2;
}
