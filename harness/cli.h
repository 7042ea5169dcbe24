/* Command-line pieces shared by the subcommands that run a program
 * (record, and later run and hunt): the session options and their help. */
#ifndef GORR_CLI_H
#define GORR_CLI_H

#include "harness/engine.h"

#define CLI_SESSION_HELP \
	"      --seed N        the run's seed: AT_RANDOM bytes (Go's map order,\n" \
	"                      select choices) derive from it (default: random)\n" \
	"      --cpus N        tell the program it has N CPUs (sched_getaffinity,\n" \
	"                      hence GOMAXPROCS); default: what it would see natively\n" \
	"      --pin CPU       run gorr and the program on CPU (default: the first\n" \
	"                      CPU gorr may use); the program still sees its own mask\n" \
	"      --no-pin        do not pin (ptrace stops cost about 3x more)\n" \
	"  -s, --strsize N     bytes of each input buffer kept in the trace (default 64)\n" \
	"  -q, --quiet         no notices from gorr on stderr\n" \
	"      --inject RULE   inject a fault (docs/fault-plan.md): write:delay=10ms,\n" \
	"                      read:error=EIO,when=3, openat:error=ENOENT,path=*.conf,\n" \
	"                      netpoll:drop, netpoll:delay=1s, gc@main.handle,\n" \
	"                      gc@event:500, gc:every=10ms\n" \
	"      --inject-file PLAN  rules from a file, one per line, # comments\n" \
	"      --leaks         when the program exits with status 0, goroutines left\n" \
	"                      blocked on channels or locks are leaks: gorr lists them\n" \
	"                      and exits 123\n" \
	"      --leaks-ignore FUNC  not a leak when FUNC is on its stack (repeatable;\n" \
	"                      implies --leaks)\n" \
	"      --leaks-settle DUR  at os.Exit, let the other goroutines run until they\n" \
	"                      block, at most DUR on the scheduler's clock (default 1s)\n" \
	"                      and 20000 events; not after a non-zero status (implies\n" \
	"                      --leaks)\n" \
	"      --sample DUR    every DUR on the scheduler's clock, write the goroutine\n" \
	"                      and timer counts to the trace and stderr\n" \
	"      --chaos LEVEL   perturb the schedule from the seed (docs/chaos.md):\n" \
	"                      0 off (default), 1 and 2 milder, 3 (hunt's default)\n" \
	"                      also at a quarter of the program's checks of plain\n" \
	"                      memory, or for 15% of the seeds with long slices;\n" \
	"                      every level ends slices at decision points\n" \
	"      --timeout DUR   end the run after DUR on the scheduler's clock (virtual\n" \
	"                      under run); reported like a hang, status 124\n" \
	"      --as PATH       run PROG as the absolute PATH: a copy of PROG is put\n" \
	"                      there for the run (folders too) and removed after, so\n" \
	"                      that the program's own path is the original's (hunt's\n" \
	"                      reproducers of a saved copy use it)\n"
#define CLI_RUN_HELP \
	"      --hang-timeout DUR  under virtual time, a run in which every thread\n" \
	"                      waits and only timers fire for DUR is a hang (default 1h)\n"

/* The value of an option given as "--opt V" or "--opt=V" at argv[*i]
 * (advancing *i); NULL when argv[*i] is not name, "" (said) when the
 * value is missing. */
const char *cli_opt_value(const char *name, int argc, char **argv, int *i);
/* Whether a is the option name, alone or as name=value. */
int cli_is_opt(const char *a, const char *name);
/* A decimal count up to max; 0, or -1 after saying what is wrong. */
int cli_parse_count(const char *name, const char *v, uint64_t max, uint64_t *out);
/* A positive duration as Go writes them (10ms, 1h30m); 0, or -1 after
 * saying what is wrong. */
int cli_parse_duration(const char *name, const char *v, int64_t *ns);

void cli_session_defaults(struct session_opts *o);
/* Parse the session option at argv[*i] (advancing *i past its value):
 * 1 when it was one, 0 when it is not a session option, -1 after a
 * usage error was printed. */
int cli_session_option(struct session_opts *o, int argc, char **argv, int *i);
/* Free what the options allocated (the fault plan). */
void cli_session_release(struct session_opts *o);
/* Draw a random seed unless --seed gave one. */
void cli_session_seed(struct session_opts *o);
/* Print "gorr: MSG" and a pointer to --help; returns EXIT_GORR_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
