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
	"--inject RULE (fault injection, docs/fault-plan.md) and --leaks.\n"
	"\n"
	"environment: GORR_CACHE_DIR (default $XDG_CACHE_HOME/gorr or ~/.cache/gorr;\n"
	"\"off\": none) keeps binaries' digests, the Go runtime layouts read from\n"
	"their DWARF, their decision points and their loop-counting code.\n";

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

/* Run as rr (a link or copy named rr: `make install` puts one beside
 * gorr), gorr answers what Delve's rr backend asks (pkg/proc/gdbserial/
 * rr.go): `rr --version`, and `rr replay --dbgport=PORT [--onprocess=PID]
 * TRACE`, which is `gorr replay --gdb 127.0.0.1:PORT TRACE`; Delve reads
 * the gdb command line gorr prints and connects. */
static int as_rr(int argc, char **argv)
{
	char gdbspec[64] = "127.0.0.1:0", *args[4];
	const char *trace = NULL;
	int i;

	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
		/* Delve wants three numbers, and the qRRCmd style of rr 5.8. */
		printf("rr version 5.8.0\n");
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "replay")) {
		error("run as rr, gorr only replays (rr replay --dbgport=PORT TRACE), for Delve; "
		      "'%s' is not supported: use gorr itself", argc >= 2 ? argv[1] : "");
		return EXIT_GORR_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "--dbgport=", 10)) {
			snprintf(gdbspec, sizeof(gdbspec), "127.0.0.1:%s", argv[i] + 10);
		} else if ((!strcmp(argv[i], "--dbgport") || !strcmp(argv[i], "-s")) && i + 1 < argc) {
			snprintf(gdbspec, sizeof(gdbspec), "127.0.0.1:%s", argv[++i]);
		} else if (!strncmp(argv[i], "--onprocess=", 12)) {
			/* Only the program's first process is served. */
		} else if (argv[i][0] == '-') {
			error("run as rr, gorr does not know the option '%s'", argv[i]);
			return EXIT_GORR_USAGE;
		} else {
			trace = argv[i];
		}
	}
	if (!trace) {
		error("rr replay: no trace given");
		return EXIT_GORR_USAGE;
	}
	args[0] = "replay";
	args[1] = "--gdb";
	args[2] = gdbspec;
	args[3] = (char *)trace;
	return cmd_replay(4, args);
}

int main(int argc, char **argv)
{
	size_t i;
	const char *base = strrchr(argv[0], '/');

	if (!strcmp(base ? base + 1 : argv[0], "rr"))
		return as_rr(argc, argv);
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
