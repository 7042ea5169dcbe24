/* gorr: one binary, subcommands (like git and rr). */
#include "harness/trace/dump.h"
#include "harness/hunt.h"
#include "harness/base/util.h"
#include "recorder/record.h"
#include "replayer/replay.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: gorr COMMAND [options] [--] [PROG ARGS...]\n"
	"\n"
	"Record, replay and inject faults into Go programs, on Linux x86-64,\n"
	"without hardware performance counters.\n"
	"\n"
	"commands:\n"
	"  record [-o FILE] -- PROG ARGS   run PROG and record its nondeterminism\n"
	"  run [--seed N] -- PROG ARGS     one deterministic run, in virtual time\n"
	"  replay [--break SPEC] TRACE     re-execute a trace, deterministically\n"
	"  debug TRACE                     replay a trace under gdb (replay --gdb PORT: any debugger)\n"
	"  hunt [-n RUNS] -- PROG ARGS     run many seeds under chaos; save a failing one\n"
	"  dump [--json] FILE              print a trace's events, one per line\n"
	"  version                         print gorr's version\n"
	"  help                            show this help\n"
	"\n"
	"'gorr COMMAND --help' describes a command's options; record and run take\n"
	"--inject RULE (fault injection, docs/fault-plan.md) and --leaks.\n";

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "record", cmd_record },
	{ "run", cmd_run },
	{ "replay", cmd_replay },
	{ "debug", cmd_debug },
	{ "dump", cmd_dump },
	{ "hunt", cmd_hunt },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_GORR_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("gorr %s\n", GORR_VERSION);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	error("'%s' is not a gorr command (see 'gorr help')", argv[1]);
	return EXIT_GORR_USAGE;
}
