/* The Go binary reader: ELF sections and symbols (libelf), the Go version
 * from .go.buildinfo, and the .gopclntab tables that map PCs to
 * function/file/line and function names to entry PCs.  The pclntab
 * survives `go build -ldflags='-s -w'`, so symbolization works on
 * stripped binaries too.  Layouts: runtime/symtab.go (pcHeader, _func)
 * of Go 1.18-1.19 (magic 0xfffffff0) and Go 1.20+ (magic 0xfffffff1). */
#ifndef GORR_GOBIN_H
#define GORR_GOBIN_H

#include <stddef.h>
#include <stdint.h>

struct sbuf;

struct gobin_sym {
	const char *name;	/* in the mapped file's string table */
	uint64_t addr, size;
	int is_func;
};

struct gobin {
	char *path;
	int is_elf;
	int is_go;		/* a Go binary: buildinfo or pclntab found */
	int stripped;		/* no .symtab */
	char go_version[64];	/* "go1.26.8", or "" */
	uint64_t text_addr;	/* .text section address */
	int text_in_header;	/* the pclntab says where the text starts (Go < 1.26) */

	/* pclntab, a copy of the section's bytes */
	unsigned char *pcln;
	size_t pcln_size;
	uint32_t pcln_magic;
	unsigned int quantum;
	uint64_t nfunc, nfiles, text_start;
	uint64_t funcname_off, cu_off, filetab_off, pctab_off, functab_off;
	uint64_t pcln_addr;	/* the section's virtual address */
	/* moduledata.gofunc (runtime/symtab.go): the base of the funcdata
	 * offsets, hence of the inline trees; 0 when not found. */
	uint64_t gofunc;

	/* .symtab, sorted by address */
	struct gobin_sym *syms;
	size_t nsyms;
	/* name index into syms: a hash table of index + 1 (0: empty),
	 * name_mask + 1 slots, at most half full */
	size_t *by_name;
	size_t name_mask;

	/* Loadable segments, to read initialised data by virtual address. */
	struct gobin_seg {
		uint64_t vaddr, filesz, offset;
		int writable;	/* PF_W: static data the linker filled */
		int exec;	/* PF_X: code */
	} *segs;
	size_t nsegs;
	unsigned char *file;	/* the whole file, mapped */
	size_t file_size;
	/* The file's SHA-256 (32 bytes, session.exe_digest), when the
	 * session hashed it (session_init): the name of what gorr's cache
	 * keeps about it; NULL otherwise. */
	const unsigned char *digest;
};

/* The name of gorr's cache file (util.h cache_read_all) that keeps what kind
 * ("layout", "dpoints", "count") says about this binary: kind-DIGEST-BUILD (BUILD:
 * this gorr's, cache_add_build).  -ENOENT when the binary has no digest
 * (a gobin opened by hand). */
int gobin_cache_name(const struct gobin *b, const char *kind, struct sbuf *name);

/* What a PC maps to; strings point into the gobin and live as long as it. */
struct gobin_loc {
	const char *func;
	uint64_t entry;
	uint64_t end;		/* the next function's entry (or the text's end) */
	const char *file;
	int line;
};

/* Open path.  Returns 0, -ENOEXEC when it is not an ELF x86-64 file, or
 * another negative errno.  A non-Go ELF file opens with is_go = 0. */
int gobin_open(struct gobin *b, const char *path);
void gobin_release(struct gobin *b);

/* Symbolize pc with the pclntab; 0, or -ENOENT when pc is in no function.
 * loc->func is the function the code was compiled into; loc->file and
 * loc->line are the innermost inlined call's (as `go tool addr2line`). */
int gobin_pc_lookup(const struct gobin *b, uint64_t pc, struct gobin_loc *loc);

/* One frame of the calls at a pc, the inlined ones included. */
struct gobin_frame {
	const char *func;
	const char *file;
	int line;
	int inlined;		/* inlined into the next frame */
	uint64_t entry;		/* the compiled function's entry */
};
/* The frames at pc, innermost first (the inlined calls, from the inline
 * tree, FUNCDATA_InlTree, then the compiled function), at most max;
 * how many (0 when pc is in no function). */
int gobin_pc_frames(const struct gobin *b, uint64_t pc, struct gobin_frame *out, int max);
/* The first pcs of the runs of pc's function's line table (each an
 * instruction's start; in assembly, every line is one instruction), at
 * most max of them into out; how many. */
size_t gobin_line_starts(const struct gobin *b, uint64_t pc, uint64_t *out, size_t max);
/* The frame size at pc (the pcsp table): how far SP is below the caller's
 * SP minus the return address.  0 or -ENOENT. */
int gobin_frame_size(const struct gobin *b, uint64_t pc, int64_t *size);
/* 1 when Go's debug call protocol can inject a call that returns to pc
 * (runtime/debugcall.go debugCallCheck): a compiled, non-runtime
 * function at a safe point. */
int gobin_call_safe(const struct gobin *b, uint64_t pc);
/* Entry PC of a Go function by its full name (main.main,
 * net/http.(*conn).serve), from the pclntab; 0 when absent. */
uint64_t gobin_func_entry(const struct gobin *b, const char *name);
/* A function's name as Go's tracebacks print it (runtime/traceback.go
 * funcNamePiecesForPrint): the type arguments of a generic function's
 * instantiation as "[...]" ("main.Max[go.shape.int]" -> "main.Max[...]").
 * name itself when it has none, else buf. */
const char *gobin_print_name(const char *name, char *buf, size_t size);
/* Whether the function called name is the one a user asks for by want:
 * the same name, the same printed name, or, for a generic function,
 * want without type arguments ("main.Max" for each instantiation). */
int gobin_name_is(const char *name, const char *want);

/* How many places gorr's users of the two lookups below take: a
 * function inlined more often than that is stopped at its first copies
 * (and they say so). */
#define GOBIN_COPIES_MAX 256
/* Where a call of the function name (gobin_name_is) starts: the entry
 * of each compiled copy, and the first pc of each of its inlined copies
 * (from the inline trees), at most max into out, sorted; how many. */
size_t gobin_func_pcs(const struct gobin *b, const char *name, uint64_t *out, size_t max);
/* The first pc of file:line (file matched by its full path or by a
 * suffix after a '/') in each function, and in each inlined copy, whose
 * code has that line, at most max into out, sorted; how many.  *func
 * gets the function of the first. */
size_t gobin_line_pcs(const struct gobin *b, const char *file, int line,
		      uint64_t *out, size_t max, const char **func);
/* A .symtab symbol by name; NULL when absent (stripped binaries). */
const struct gobin_sym *gobin_symbol(const struct gobin *b, const char *name);
/* Read size bytes of initialised data at a virtual address; 0 or -EFAULT. */
int gobin_read_vaddr(const struct gobin *b, uint64_t addr, void *buf, size_t size);
/* The same bytes where they lie, in the mapped file (as long as the gobin
 * lives), or NULL. */
const unsigned char *gobin_vaddr_ptr(const struct gobin *b, uint64_t addr, size_t size);

/* Iterate over pclntab functions: index i < nfunc. */
const char *gobin_func_name(const struct gobin *b, uint64_t i, uint64_t *entry);
/* The same with the function's end: the next one's entry, or for the
 * last the text's end (the functab's closing entry). */
const char *gobin_func_range(const struct gobin *b, uint64_t i, uint64_t *entry, uint64_t *end);

#endif
