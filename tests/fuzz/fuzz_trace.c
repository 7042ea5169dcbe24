/* libFuzzer target: the trace reader and the printer, as `gorr dump` and
 * `gorr dump --json` run them on a damaged or hostile trace (issue 12).
 * Run with -close_fd_mask=3: dump prints to stdout and stderr. */
#include "fuzz.h"
#include "harness/trace/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	char *text[] = { "dump", (char *)path, NULL };
	char *json[] = { "dump", "--json", "-s", "4096", (char *)path, NULL };

	cmd_dump(2, text);
	cmd_dump(5, json);
	return 0;
}
