#define _GNU_SOURCE
#include "harness/go/gobin.h"
#include "harness/base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	PCLN_GO118 = 0xfffffff0,	/* Go 1.18, 1.19 */
	PCLN_GO120 = 0xfffffff1,	/* Go 1.20 and later */
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Bounds-checked access into the pclntab copy: a damaged or hostile
 * binary must not make gorr read out of bounds. */
static const unsigned char *pcln_at(const struct gobin *b, uint64_t off, uint64_t len)
{
	if (off > b->pcln_size || len > b->pcln_size - off)
		return NULL;
	return b->pcln + off;
}

static const char *pcln_str(const struct gobin *b, uint64_t off)
{
	const unsigned char *p = pcln_at(b, off, 1);

	if (!p || !memchr(p, '\0', b->pcln_size - off))
		return NULL;
	return (const char *)p;
}

static int parse_pclntab(struct gobin *b)
{
	const unsigned char *h = b->pcln;

	if (b->pcln_size < 72)
		return -EINVAL;
	b->pcln_magic = le32(h);
	if (b->pcln_magic != PCLN_GO118 && b->pcln_magic != PCLN_GO120)
		return -ENOTSUP;
	if (h[4] || h[5] || h[7] != 8)
		return -EINVAL;
	b->quantum = h[6];
	b->nfunc = le64(h + 8);
	b->nfiles = le64(h + 16);
	/* Go 1.26 no longer stores textStart (runtime/symtab.go: "This is
	 * no longer stored as it requires a relocation"); the module's text
	 * starts at the .text section, as debug/gosym assumes too. */
	b->text_start = le64(h + 24);
	b->text_in_header = b->text_start != 0;
	if (!b->text_start)
		b->text_start = b->text_addr;	/* find_gofunc may know better */
	b->funcname_off = le64(h + 32);
	b->cu_off = le64(h + 40);
	b->filetab_off = le64(h + 48);
	b->pctab_off = le64(h + 56);
	b->functab_off = le64(h + 64);
	if (!pcln_at(b, b->functab_off, (b->nfunc + 1) * 8))
		return -EINVAL;
	return 0;
}

/* Offset of the i-th _func, relative to the pclntab start. */
static int func_at(const struct gobin *b, uint64_t i, uint64_t *entry, uint64_t *foff)
{
	const unsigned char *ft = pcln_at(b, b->functab_off + 8 * i, 8);

	if (!ft || i >= b->nfunc)
		return -EINVAL;
	*entry = b->text_start + le32(ft);
	*foff = b->functab_off + le32(ft + 4);
	if (!pcln_at(b, *foff, 44))
		return -EINVAL;
	return 0;
}

/* The name of the _func at foff (its nameOff into funcnametab). */
static const char *func_name(const struct gobin *b, uint64_t foff)
{
	return pcln_str(b, b->funcname_off + (uint32_t)le32(b->pcln + foff + 4));
}

const char *gobin_func_name(const struct gobin *b, uint64_t i, uint64_t *entry)
{
	uint64_t foff;

	if (!b->pcln || func_at(b, i, entry, &foff))
		return NULL;
	return func_name(b, foff);
}

const char *gobin_func_range(const struct gobin *b, uint64_t i, uint64_t *entry, uint64_t *end)
{
	const char *name = gobin_func_name(b, i, entry);
	const unsigned char *ft;

	/* The functab has nfunc + 1 entries, the last one's entry offset
	 * the end of the text (runtime/symtab.go, moduledata.ftab): the
	 * last function ends there (as gobin_pc_lookup's loc.end). */
	if (!name || !(ft = pcln_at(b, b->functab_off + 8 * (i + 1), 4)))
		return NULL;
	*end = b->text_start + le32(ft);
	return *end > *entry ? name : NULL;
}

static int readvarint(const unsigned char **pp, const unsigned char *end, uint32_t *v)
{
	const unsigned char *p = *pp;
	uint32_t r = 0;
	int shift = 0;

	for (;;) {
		if (p >= end || shift > 28)
			return -1;
		r |= (uint32_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80))
			break;
		shift += 7;
	}
	*pp = p;
	*v = r;
	return 0;
}

/* A walk over the runs of a pc-value table (runtime/symtab.go pcvalue
 * and step): pairs of a zig-zag value delta and a pc delta scaled by the
 * instruction quantum; a zero byte after the first pair ends it. */
struct pcrun {
	const unsigned char *p, *end;
	uint64_t pc;
	int32_t val;
	unsigned int quantum;
	int first;
};

static int pcrun_init(const struct gobin *b, uint32_t off, uint64_t entry, struct pcrun *r)
{
	if (!off || !(r->p = pcln_at(b, b->pctab_off + off, 1)))
		return -1;
	r->end = b->pcln + b->pcln_size;
	r->pc = entry;
	r->val = -1;
	r->quantum = b->quantum;
	r->first = 1;
	return 0;
}

/* The next run, [*start, r->pc) with value *val: 0, or -1 at the end. */
static int pcrun_next(struct pcrun *r, uint64_t *start, int32_t *val)
{
	uint32_t uv, pcd;

	if (r->p >= r->end || (*r->p == 0 && !r->first) ||
	    readvarint(&r->p, r->end, &uv) || readvarint(&r->p, r->end, &pcd))
		return -1;
	r->val += (int32_t)(-(uv & 1) ^ (uv >> 1));
	*start = r->pc;
	r->pc += (uint64_t)pcd * r->quantum;
	r->first = 0;
	*val = r->val;
	return 0;
}

/* The value of the pc-value table at off for targetpc; -1 when
 * targetpc is not covered. */
static int pcvalue(const struct gobin *b, uint32_t off, uint64_t entry,
		   uint64_t targetpc, int32_t *out)
{
	struct pcrun r;
	uint64_t start;
	int32_t val;

	if (pcrun_init(b, off, entry, &r))
		return -1;
	while (pcrun_next(&r, &start, &val) == 0)
		if (targetpc < r.pc) {
			*out = val;
			return 0;
		}
	return -1;
}

static int find_func(const struct gobin *b, uint64_t pc, uint64_t *idx)
{
	uint64_t lo = 0, hi, end;
	const unsigned char *last;

	if (!b->pcln || !b->nfunc)
		return -ENOENT;
	last = pcln_at(b, b->functab_off + 8 * b->nfunc, 4);
	end = b->text_start + le32(last);
	if (pc < b->text_start + le32(b->pcln + b->functab_off) || pc >= end)
		return -ENOENT;
	hi = b->nfunc;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (b->text_start + le32(b->pcln + b->functab_off + 8 * mid) <= pc)
			lo = mid;
		else
			hi = mid;
	}
	*idx = lo;
	return 0;
}

static const char *func_file(const struct gobin *b, uint64_t foff, int32_t fileno)
{
	uint32_t cu = le32(b->pcln + foff + 32);
	const unsigned char *c = pcln_at(b, b->cu_off + 4 * ((uint64_t)cu + (uint32_t)fileno), 4);

	if (!c || fileno < 0 || le32(c) == 0xffffffff)
		return NULL;
	return pcln_str(b, b->filetab_off + le32(c));
}

/* The source position at pc in the _func at foff (its pcfile and pcln
 * tables): the innermost inlined call's, as `go tool addr2line` says. */
static void func_pos(const struct gobin *b, uint64_t foff, uint64_t entry, uint64_t pc,
		     const char **file, int *line)
{
	int32_t v;

	*file = NULL;
	*line = 0;
	if (pcvalue(b, le32(b->pcln + foff + 20), entry, pc, &v) == 0)
		*file = func_file(b, foff, v);
	if (pcvalue(b, le32(b->pcln + foff + 24), entry, pc, &v) == 0)
		*line = v;
}

/* The function around pc: its index, entry and _func offset. */
static int func_of(const struct gobin *b, uint64_t pc, uint64_t *idx, uint64_t *entry,
		   uint64_t *foff)
{
	return find_func(b, pc, idx) || func_at(b, *idx, entry, foff) ? -ENOENT : 0;
}

int gobin_pc_lookup(const struct gobin *b, uint64_t pc, struct gobin_loc *loc)
{
	uint64_t idx, entry, foff;

	memset(loc, 0, sizeof(*loc));
	if (func_of(b, pc, &idx, &entry, &foff))
		return -ENOENT;
	loc->entry = entry;
	/* The functab has nfunc + 1 entries: the last is the text's end. */
	loc->end = b->text_start + le32(b->pcln + b->functab_off + 8 * (idx + 1));
	loc->func = func_name(b, foff);
	func_pos(b, foff, entry, pc, &loc->file, &loc->line);
	return loc->func ? 0 : -ENOENT;
}

size_t gobin_line_starts(const struct gobin *b, uint64_t pc, uint64_t *out, size_t max)
{
	uint64_t idx, entry, foff, start;
	struct pcrun r;
	int32_t val;
	size_t n = 0;

	if (find_func(b, pc, &idx) || func_at(b, idx, &entry, &foff) ||
	    pcrun_init(b, le32(b->pcln + foff + 24), entry, &r))
		return 0;
	while (n < max && pcrun_next(&r, &start, &val) == 0)
		out[n++] = start;
	return n;
}

int gobin_frame_size(const struct gobin *b, uint64_t pc, int64_t *size)
{
	uint64_t idx, entry, foff;
	int32_t sp;

	if (find_func(b, pc, &idx) || func_at(b, idx, &entry, &foff))
		return -ENOENT;
	if (pc == entry) {
		*size = 0;
		return 0;
	}
	if (pcvalue(b, le32(b->pcln + foff + 16), entry, pc, &sp))
		return -ENOENT;
	*size = sp;
	return 0;
}

/* The _func's funcdata and pcdata (runtime/runtime2.go _func: npcdata
 * uint32 offsets into pctab follow the fixed fields, then nfuncdata
 * uint32 offsets from moduledata.gofunc; Go 1.20 added startLine). */
static size_t pcdata_at(const struct gobin *b)
{
	return b->pcln_magic == PCLN_GO118 ? 40 : 44;
}

static uint32_t func_pcdata(const struct gobin *b, uint64_t foff, uint32_t i)
{
	const unsigned char *p;

	if (i >= le32(b->pcln + foff + 28) ||
	    !(p = pcln_at(b, foff + pcdata_at(b) + 4 * (uint64_t)i, 4)))
		return 0;
	return le32(p);
}

/* Mirrors runtime/debugcall.go debugCallCheck, which the runtime runs on
 * the return PC of an injected call: the function must be known, must
 * not be the runtime's, and the PC (the one before it, unless at the
 * entry) must not be an unsafe point (pcdata table 0,
 * internal/abi/symtab.go PCDATA_UnsafePoint; a missing table reads as
 * safe, as in pcdatavalue).  Assembly functions are refused too: they
 * have no stack maps for the GC the call may run. */
int gobin_call_safe(const struct gobin *b, uint64_t pc)
{
	/* _func: flag after funcID; then npcdata uint32 offsets
	 * (runtime2.go; Go 1.20 added startLine before funcID). */
	size_t flag_at = pcdata_at(b) - 3;
	uint64_t idx, entry, foff;
	const char *name;
	int32_t up = -1;
	uint32_t off;

	if (find_func(b, pc, &idx) || func_at(b, idx, &entry, &foff))
		return 0;
	name = func_name(b, foff);
	if (!name || !strncmp(name, "runtime.", 8))
		return 0;
	if (b->pcln[foff + flag_at] & 4)	/* abi.FuncFlagAsm */
		return 0;
	off = func_pcdata(b, foff, 0);
	if (off && pcvalue(b, off, entry, pc == entry ? pc : pc - 1, &up))
		return 0;
	return up == -1;	/* abi.UnsafePointSafe */
}

uint64_t gobin_func_entry(const struct gobin *b, const char *name)
{
	uint64_t i, entry;

	for (i = 0; b->pcln && i < b->nfunc; i++) {
		const char *n = gobin_func_name(b, i, &entry);

		if (n && !strcmp(n, name))
			return entry;
	}
	return 0;
}

static int file_matches(const char *path, const char *want)
{
	size_t lp = strlen(path), lw = strlen(want);

	if (lp == lw)
		return !strcmp(path, want);
	return lp > lw && path[lp - lw - 1] == '/' && !strcmp(path + lp - lw, want);
}

enum {
	PCDATA_INLTREEINDEX = 2,	/* internal/abi/symtab.go */
	FUNCDATA_INLTREE = 3,
	INL_MAX_DEPTH = 64,		/* bounds a damaged tree's chain */
};

/* The address of the function's inline tree; 0 when it has none. */
static uint64_t func_inltree(const struct gobin *b, uint64_t foff)
{
	uint64_t at = foff + pcdata_at(b) + 4 * (uint64_t)le32(b->pcln + foff + 28);
	const unsigned char *p = pcln_at(b, at, 4 * (FUNCDATA_INLTREE + 1));
	unsigned int nfuncdata = b->pcln[foff + pcdata_at(b) - 1];
	uint32_t off;

	if (!b->gofunc || !p || nfuncdata <= FUNCDATA_INLTREE ||
	    !func_pcdata(b, foff, PCDATA_INLTREEINDEX))
		return 0;
	off = le32(p + 4 * FUNCDATA_INLTREE);
	return off == 0xffffffff ? 0 : b->gofunc + off;
}

/* An inlined call of the tree (runtime/symtabinl.go inlinedCall, 16
 * bytes: funcID, nameOff at 4, parentPc at 8; Go 1.19's runtime/
 * symtab.go, 20 bytes: func_ at 12, parentPc at 16).  parentPc is the
 * offset from the entry of an instruction whose position is the call
 * site. */
static int inl_call(const struct gobin *b, uint64_t tree, int32_t ix,
		    const char **name, uint64_t *parent_off)
{
	int old = b->pcln_magic == PCLN_GO118;
	unsigned char c[20];
	size_t size = old ? 20 : 16;

	if (ix < 0 || gobin_read_vaddr(b, tree + (uint64_t)ix * size, c, size))
		return -1;
	*name = pcln_str(b, b->funcname_off + le32(c + (old ? 12 : 4)));
	*parent_off = le32(c + (old ? 16 : 8));
	return *name ? 0 : -1;
}

/* The inline tree index at pc: -1 in the function's own code. */
static int32_t inl_index(const struct gobin *b, uint64_t foff, uint64_t entry, uint64_t pc)
{
	int32_t ix;

	if (pcvalue(b, func_pcdata(b, foff, PCDATA_INLTREEINDEX), entry, pc, &ix))
		return -1;
	return ix;
}

int gobin_pc_frames(const struct gobin *b, uint64_t pc, struct gobin_frame *out, int max)
{
	struct gobin_loc loc;
	uint64_t idx, entry, foff, tree, parent;
	int32_t ix;
	int n = 0;

	if (max < 1 || gobin_pc_lookup(b, pc, &loc) || func_of(b, pc, &idx, &entry, &foff))
		return 0;
	tree = func_inltree(b, foff);
	ix = tree ? inl_index(b, foff, entry, pc) : -1;
	/* Each inlined call at pc, then the one at its parentPc, up the
	 * tree (runtime/symtabinl.go inlineUnwinder), then the function. */
	while (n + 1 < max && n < INL_MAX_DEPTH) {
		if (ix < 0 || inl_call(b, tree, ix, &out[n].func, &parent) ||
		    entry + parent >= loc.end) {
			out[n].func = loc.func;
			out[n].inlined = 0;
		} else {
			out[n].inlined = 1;
		}
		func_pos(b, foff, entry, pc, &out[n].file, &out[n].line);
		out[n].entry = entry;
		if (!out[n++].inlined)
			return n;
		pc = entry + parent;
		ix = inl_index(b, foff, entry, pc);
	}
	return n;
}

/* Lowest pcs per key, for the break lookups: one per function and
 * inlined copy. */
struct pc_keys {
	struct { int32_t ix; uint64_t pc; } *k;
	size_t n, cap;
};

static void pc_keys_add(struct pc_keys *ks, int32_t ix, uint64_t pc)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (ks->k[i].ix == ix) {
			if (pc < ks->k[i].pc)
				ks->k[i].pc = pc;
			return;
		}
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? 2 * ks->cap : 8;
		ks->k = xrealloc(ks->k, ks->cap * sizeof(*ks->k));
	}
	ks->k[ks->n].ix = ix;
	ks->k[ks->n++].pc = pc;
}

static size_t pc_keys_flush(struct pc_keys *ks, uint64_t *out, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < ks->n && n < max; i++)
		out[n++] = ks->k[i].pc;
	ks->n = 0;
	return n;
}

const char *gobin_print_name(const char *name, char *buf, size_t size)
{
	const char *open = strchr(name, '['), *close = strrchr(name, ']');

	if (!open || !close || close <= open ||
	    snprintf(buf, size, "%.*s[...]%s", (int)(open - name), name, close + 1) >= (int)size)
		return name;
	return buf;
}

int gobin_name_is(const char *name, const char *want)
{
	char buf[512];
	size_t n = strlen(want);

	if (!strcmp(name, want) || !strcmp(gobin_print_name(name, buf, sizeof(buf)), want))
		return 1;
	return !strchr(want, '[') && !strncmp(name, want, n) && name[n] == '[';
}

size_t gobin_func_pcs(const struct gobin *b, const char *name, uint64_t *out, size_t max)
{
	struct pc_keys ks = { 0 };
	const char **names = xcalloc(max ? max : 1, sizeof(*names));
	uint64_t i, n = 0, nnames = 0;

	for (i = 0; b->pcln && i < b->nfunc && n < max; i++) {
		uint64_t entry, foff, tree, start;
		const char *fn = gobin_func_name(b, i, &entry);
		struct pcrun r;
		int32_t val;

		/* Each instantiation of a generic function (Go 1.19 names
		 * them all "F[...]"); an assembly function's ABI wrapper,
		 * named as it is, not (the first of a name, as
		 * gobin_func_entry finds it). */
		if (fn && gobin_name_is(fn, name)) {
			uint64_t k = 0;

			while (k < nnames && strcmp(names[k], fn))
				k++;
			if (k == nnames || strchr(fn, '[')) {
				names[nnames++] = fn;
				out[n++] = entry;
			}
		}
		if (n == max || func_at(b, i, &entry, &foff) || !(tree = func_inltree(b, foff)) ||
		    pcrun_init(b, func_pcdata(b, foff, PCDATA_INLTREEINDEX), entry, &r))
			continue;
		/* Each run of inlined code belongs to the copies of every
		 * call on its chain up the tree: it starts the copy of name
		 * it is in when it is that copy's lowest pc. */
		while (pcrun_next(&r, &start, &val) == 0) {
			int32_t ix = val;
			int depth = 0;

			while (ix >= 0 && depth++ < INL_MAX_DEPTH) {
				const char *called;
				uint64_t parent;

				if (inl_call(b, tree, ix, &called, &parent))
					break;
				if (gobin_name_is(called, name))
					pc_keys_add(&ks, ix, start);
				ix = inl_index(b, foff, entry, entry + parent);
			}
		}
		n = pc_keys_flush(&ks, out, n, max);
	}
	free(ks.k);
	free(names);
	return sort_unique_u64(out, n);
}

size_t gobin_line_pcs(const struct gobin *b, const char *file, int line,
		      uint64_t *out, size_t max, const char **func)
{
	struct pc_keys ks = { 0 };
	uint64_t i, n = 0, first = UINT64_MAX;

	for (i = 0; b->pcln && i < b->nfunc && n < max; i++) {
		uint64_t entry, foff, start;
		struct pcrun r;
		int32_t val;
		int at_line;
		const char *f;

		if (func_at(b, i, &entry, &foff) ||
		    pcrun_init(b, le32(b->pcln + foff + 24), entry, &r))
			continue;
		while (pcrun_next(&r, &start, &val) == 0) {
			if (val != line)
				continue;
			func_pos(b, foff, entry, start, &f, &at_line);
			if (!f || !file_matches(f, file))
				continue;
			/* One pc per copy: the function's own code and each
			 * inlined call of it have their own index. */
			pc_keys_add(&ks, inl_index(b, foff, entry, start), start);
			if (start < first) {
				first = start;
				if (func)
					*func = func_name(b, foff);
			}
		}
		n = pc_keys_flush(&ks, out, n, max);
	}
	free(ks.k);
	return sort_unique_u64(out, n);
}

static int cmp_sym_addr(const void *a, const void *b)
{
	const struct gobin_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The name index is a hash table built at every start (a Go binary's
 * .symtab holds some 10,000-20,000 functions and objects), where sorting
 * the names had been 13% of a run's own CPU. */
static uint64_t name_hash(const char *name)
{
	return fnv1a(FNV1A_INIT, name, strlen(name));
}

const struct gobin_sym *gobin_symbol(const struct gobin *b, const char *name)
{
	size_t i, k;

	if (!b->by_name)
		return NULL;
	for (i = name_hash(name) & b->name_mask; (k = b->by_name[i]); i = (i + 1) & b->name_mask)
		if (!strcmp(b->syms[k - 1].name, name))
			return &b->syms[k - 1];
	return NULL;
}

const unsigned char *gobin_vaddr_ptr(const struct gobin *b, uint64_t addr, size_t size)
{
	size_t i;

	for (i = 0; i < b->nsegs; i++) {
		const struct gobin_seg *s = &b->segs[i];

		if (addr >= s->vaddr && size <= s->filesz &&
		    addr - s->vaddr <= s->filesz - size &&
		    s->offset + (addr - s->vaddr) + size <= b->file_size)
			return b->file + s->offset + (addr - s->vaddr);
	}
	return NULL;
}

int gobin_read_vaddr(const struct gobin *b, uint64_t addr, void *buf, size_t size)
{
	const unsigned char *p = gobin_vaddr_ptr(b, addr, size);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, size);
	return 0;
}

static int load_symtab(struct gobin *b, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	Elf_Scn *strscn = elf_getscn(elf, sh->sh_link);
	size_t i, n, count = 0, slots;
	const char *strtab;
	GElf_Shdr strsh;

	/* The names stay where they are, in the mapped file's string table
	 * (no copy each): in bounds and NUL-terminated there. */
	if (!data || !sh->sh_entsize || !strscn || !gelf_getshdr(strscn, &strsh) ||
	    strsh.sh_type != SHT_STRTAB || strsh.sh_offset > b->file_size ||
	    strsh.sh_size > b->file_size - strsh.sh_offset || !strsh.sh_size ||
	    b->file[strsh.sh_offset + strsh.sh_size - 1])
		return 0;
	strtab = (const char *)b->file + strsh.sh_offset;
	n = sh->sh_size / sh->sh_entsize;
	b->syms = xcalloc(n, sizeof(*b->syms));
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_OBJECT)
			continue;
		if (sym.st_name >= strsh.sh_size)
			continue;
		name = strtab + sym.st_name;
		if (!*name)
			continue;
		b->syms[count].name = name;
		b->syms[count].addr = sym.st_value;
		b->syms[count].size = sym.st_size;
		b->syms[count].is_func = type == STT_FUNC;
		count++;
	}
	b->nsyms = count;
	qsort(b->syms, count, sizeof(*b->syms), cmp_sym_addr);
	/* The first symbol of a name wins, as a search of the sorted
	 * table found one of them. */
	for (slots = 16; slots < 2 * count; slots *= 2)
		;
	b->by_name = xcalloc(slots, sizeof(*b->by_name));
	b->name_mask = slots - 1;
	for (i = 0; i < count; i++) {
		size_t k = name_hash(b->syms[i].name) & b->name_mask;

		while (b->by_name[k] && strcmp(b->syms[b->by_name[k] - 1].name, b->syms[i].name))
			k = (k + 1) & b->name_mask;
		if (!b->by_name[k])
			b->by_name[k] = i + 1;
	}
	return 0;
}

/* .go.buildinfo (debug/buildinfo): a 16-byte header "\xff Go buildinf:"
 * + pointer size + flags; with flag 2 (Go 1.18+) the version string
 * follows inline at offset 32, prefixed by its uvarint length; before
 * that, two pointers lead to Go string headers. */
static void read_buildinfo(struct gobin *b, const unsigned char *p, size_t n)
{
	static const char magic[] = "\xff Go buildinf:";
	uint64_t len = 0;
	size_t i = 32;
	int shift = 0;

	if (n < 32 || memcmp(p, magic, 14))
		return;
	if (p[15] & 2) {
		while (i < n && shift < 64) {
			len |= (uint64_t)(p[i] & 0x7f) << shift;
			shift += 7;
			if (!(p[i++] & 0x80))
				break;
		}
		if (len && len < sizeof(b->go_version) && i + len <= n) {
			memcpy(b->go_version, p + i, len);
			b->go_version[len] = '\0';
		}
	} else if (p[14] == 8) {
		uint64_t hdr = le64(p + 16), sp, sl;
		unsigned char sh[16];

		if (gobin_read_vaddr(b, hdr, sh, 16))
			return;
		sp = le64(sh);
		sl = le64(sh + 8);
		if (sl && sl < sizeof(b->go_version) &&
		    !gobin_read_vaddr(b, sp, b->go_version, sl))
			b->go_version[sl] = '\0';
	}
}

/* Whether addr lies in the .text section's first page or past it, in
 * an executable segment (where a module's text may start). */
static int text_holds(const struct gobin *b, uint64_t addr)
{
	size_t i;

	if (addr < b->text_addr)
		return 0;
	for (i = 0; i < b->nsegs; i++)
		if (b->segs[i].exec && addr >= b->segs[i].vaddr &&
		    addr < b->segs[i].vaddr + b->segs[i].filesz)
			return 1;
	return 0;
}

/* moduledata.gofunc, the base of funcdata offsets.  runtime.
 * firstmoduledata is static data the linker fills (runtime/symtab.go
 * moduledata): pcHeader, then six slices (the first funcnametab), ...,
 * text at word 22, and gofunc at word 38 (Go 1.19) or 40 (Go 1.20+,
 * after covctrs/ecovctrs).  Found by that signature in the loaded data
 * (stripped binaries have no symbol for it; it moved from .noptrdata to
 * .go.module in Go 1.26), else from the go:func.* symbol (go.func.* in
 * 1.19).  Position-independent binaries, whose pointers are filled at
 * load time, have none to find: their inlined calls stay unexpanded. */
static void find_gofunc(struct gobin *b)
{
	size_t w = b->pcln_magic == PCLN_GO118 ? 38 : 40, i;
	const struct gobin_sym *sym;
	/* Go 1.26's pcHeader has no textStart (parse_pclntab took the
	 * .text section's address): moduledata.text says where the module's
	 * text starts, which in an externally linked (cgo) binary is past
	 * the C code that .text begins with (crt1's _start, frame_dummy:
	 * os.test's runtime.text is 0x100 into .text), and every function
	 * was 0x100 early: gorr's loop-counting JMPs landed in the middle of
	 * runtime.Cleanup.Stop's instructions (os's tests died of SIGTRAP
	 * under run and record).  cmd/internal/objfile takes runtime.text
	 * for the same reason. */
	int no_text = !b->text_in_header;

	for (i = 0; i < b->nsegs && b->pcln_addr; i++) {
		const struct gobin_seg *sg = &b->segs[i];
		uint64_t off;

		/* moduledata is writable data (runtime/symtab.go: "Only in
		 * static data"): the code and read-only segments, most of
		 * the file, need no look. */
		if (!sg->writable || sg->offset > b->file_size ||
		    sg->filesz > b->file_size - sg->offset || sg->filesz < 8 * (w + 1))
			continue;
		for (off = 0; off + 8 * (w + 1) <= sg->filesz; off += 8) {
			const unsigned char *m = b->file + sg->offset + off;
			unsigned char byte;
			uint64_t gofunc;

			if (le64(m) != b->pcln_addr || le64(m + 8) != b->pcln_addr + b->funcname_off ||
			    (!no_text && le64(m + 8 * 22) != b->text_start))
				continue;
			if (no_text && !text_holds(b, le64(m + 8 * 22)))
				continue;
			if (no_text)
				b->text_start = le64(m + 8 * 22);
			gofunc = le64(m + 8 * w);
			if (gobin_read_vaddr(b, gofunc, &byte, 1) == 0) {
				b->gofunc = gofunc;
				return;
			}
		}
	}
	if (no_text && (sym = gobin_symbol(b, "runtime.text")) && text_holds(b, sym->addr))
		b->text_start = sym->addr;
	sym = gobin_symbol(b, "go:func.*");
	if (!sym)
		sym = gobin_symbol(b, "go.func.*");
	if (sym)
		b->gofunc = sym->addr;
}

int gobin_cache_name(const struct gobin *b, const char *kind, struct sbuf *name)
{
	if (!b->digest)
		return -ENOENT;
	sbuf_addf(name, "%s-", kind);
	sbuf_add_hex(name, b->digest, 32);
	/* What gorr's code computed: another build computes it again. */
	sbuf_adds(name, "-");
	cache_add_build(name);
	return 0;
}

int gobin_open(struct gobin *b, const char *path)
{
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	struct stat st;
	size_t shstrndx, i, nph;
	int fd, err = 0;
	unsigned char *buildinfo = NULL;
	size_t buildinfo_size = 0;

	memset(b, 0, sizeof(*b));
	b->path = xstrdup(path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		gobin_release(b);
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 64) {
		err = -ENOEXEC;
		goto out;
	}
	b->file_size = (size_t)st.st_size;
	b->file = mmap(NULL, b->file_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (b->file == MAP_FAILED) {
		b->file = NULL;
		err = -errno;
		goto out;
	}
	elf_version(EV_CURRENT);
	elf = elf_memory((char *)b->file, b->file_size);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		err = -ENOEXEC;
		goto out;
	}
	b->is_elf = 1;
	if (elf_getphdrnum(elf, &nph) == 0) {
		b->segs = xcalloc(nph, sizeof(*b->segs));
		for (i = 0; i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				b->segs[b->nsegs].vaddr = ph.p_vaddr;
				b->segs[b->nsegs].filesz = ph.p_filesz;
				b->segs[b->nsegs].offset = ph.p_offset;
				b->segs[b->nsegs].writable = (ph.p_flags & PF_W) != 0;
				b->segs[b->nsegs].exec = (ph.p_flags & PF_X) != 0;
				b->nsegs++;
			}
		}
	}
	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		goto out;	/* no sections: an ELF file but not one we read */
	b->stripped = 1;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".text")) {
			b->text_addr = sh.sh_addr;
		} else if (!strcmp(name, ".symtab")) {
			b->stripped = 0;
			load_symtab(b, elf, scn, &sh);
		} else if ((!strcmp(name, ".gopclntab") ||
			    !strcmp(name, ".data.rel.ro.gopclntab")) &&
			   sh.sh_type != SHT_NOBITS && sh.sh_offset < b->file_size &&
			   sh.sh_size <= b->file_size - sh.sh_offset) {
			b->pcln_size = sh.sh_size;
			b->pcln_addr = sh.sh_addr;
			b->pcln = xmalloc(sh.sh_size);
			memcpy(b->pcln, b->file + sh.sh_offset, sh.sh_size);
		} else if (!strcmp(name, ".go.buildinfo") && sh.sh_type != SHT_NOBITS &&
			   sh.sh_offset < b->file_size &&
			   sh.sh_size <= b->file_size - sh.sh_offset) {
			buildinfo = b->file + sh.sh_offset;
			buildinfo_size = sh.sh_size;
		}
	}
	if (buildinfo) {
		read_buildinfo(b, buildinfo, buildinfo_size);
		b->is_go = 1;
	}
	if (b->pcln) {
		if (parse_pclntab(b) == 0) {
			b->is_go = 1;
			find_gofunc(b);
		} else {
			free(b->pcln);
			b->pcln = NULL;
			b->pcln_size = 0;
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (err)
		gobin_release(b);
	return err;
}

void gobin_release(struct gobin *b)
{
	free(b->syms);
	free(b->by_name);
	free(b->segs);
	free(b->pcln);
	free(b->path);
	if (b->file)
		munmap(b->file, b->file_size);
	memset(b, 0, sizeof(*b));
}
