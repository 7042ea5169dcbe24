/* libFuzzer target: fault rules (--inject), plan files (--inject-file)
 * and Go durations, the parsers a user's text reaches (issue 12). */
#include "fuzz.h"
#include "harness/base/util.h"
#include "inject/plan.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fault_plan p = FAULT_PLAN_INIT;
	struct sbuf why = SBUF_INIT, d = SBUF_INIT;
	char *text = malloc(size + 1);
	int64_t ns;

	memcpy(text, data, size);
	text[size] = '\0';
	plan_add(&p, text, &why);
	plan_add_file(&p, fuzz_file(data, size), &why);
	if (parse_duration(text, &ns) == 0)
		sbuf_add_duration(&d, ns);
	plan_release(&p);
	sbuf_release(&why);
	sbuf_release(&d);
	free(text);
	return 0;
}
