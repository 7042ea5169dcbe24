/* libFuzzer target: the Go binary reader (ELF headers and sections, the
 * pclntab, buildinfo, .symtab) on mutated binaries, with the lookups gorr
 * makes of a binary it traces (issue 12).  Seed it with small Go
 * binaries: tests/fuzz/seeds.sh. */
#include "fuzz.h"
#include "harness/go/gobin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobin b;
	struct gobin_loc loc;
	struct gobin_frame fr[16];
	uint64_t i, entry = 0, pc, pcs[16];
	int64_t frame;

	if (gobin_open(&b, fuzz_file(data, size)) == 0) {
		for (i = 0; b.is_go && i < b.nfunc && i < 64; i++) {
			if (!gobin_func_name(&b, i, &entry))
				break;
			for (pc = entry; pc < entry + 64; pc += 7) {
				gobin_pc_lookup(&b, pc, &loc);
				gobin_frame_size(&b, pc, &frame);
				gobin_call_safe(&b, pc);
				gobin_pc_frames(&b, pc, fr, 16);
			}
		}
		gobin_func_entry(&b, "main.main");
		gobin_func_entry(&b, "runtime.cputicks");
		gobin_line_pcs(&b, "main.go", 10, pcs, 16, &loc.func);
		gobin_func_pcs(&b, "main.leaf", pcs, 16);
		gobin_symbol(&b, "runtime.g0");
		gobin_release(&b);
	}
	return 0;
}
