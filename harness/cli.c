#define _GNU_SOURCE
#include "harness/cli.h"
#include "harness/base/util.h"
#include "inject/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void cli_session_defaults(struct session_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pin_cpu = PIN_AUTO;
	o->strsize = 64;
}

/* The value of an option given as "--opt V" or "--opt=V". */
const char *cli_opt_value(const char *name, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	const char *v;

	if (!strncmp(a, name, n) && a[n] == '=')
		v = a + n + 1;
	else if (strcmp(a, name))
		return NULL;
	else if (*i + 1 >= argc)
		v = "";
	else
		v = argv[++*i];
	/* Missing or empty: said here, so that callers only return. */
	if (!*v)
		error("'%s' needs a value", name);
	return v;
}

int cli_is_opt(const char *a, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(a, name, n) && (a[n] == '\0' || a[n] == '=');
}

int cli_parse_count(const char *name, const char *v, uint64_t max, uint64_t *out)
{
	if (!*v)
		return -1;
	if (parse_u64(v, out) < 0 || *out > max) {
		error("%s: '%s' is not a number from 0 to %llu", name, v,
		      (unsigned long long)max);
		return -1;
	}
	return 0;
}

int cli_parse_duration(const char *name, const char *v, int64_t *ns)
{
	if (!*v)
		return -1;
	if (parse_duration(v, ns) < 0 || *ns <= 0) {
		error("%s: '%s' is not a duration such as 30s, 10m or 1h", name, v);
		return -1;
	}
	return 0;
}

int cli_session_option(struct session_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;
	uint64_t n;

	if (cli_is_opt(a, "--seed")) {
		v = cli_opt_value("--seed", argc, argv, i);
		if (cli_parse_count("--seed", v, UINT64_MAX, &n))
			return -1;
		o->seed = n;
		o->seed_given = 1;
		return 1;
	}
	if (cli_is_opt(a, "--cpus")) {
		v = cli_opt_value("--cpus", argc, argv, i);
		if (cli_parse_count("--cpus", v, CPU_SETSIZE, &n))
			return -1;
		if (n == 0) {
			error("--cpus: the program needs at least one CPU");
			return -1;
		}
		o->cpus = (int)n;
		return 1;
	}
	if (cli_is_opt(a, "--pin")) {
		v = cli_opt_value("--pin", argc, argv, i);
		if (cli_parse_count("--pin", v, CPU_SETSIZE - 1, &n))
			return -1;
		o->pin_cpu = (int)n;
		return 1;
	}
	if (cli_is_opt(a, "--as")) {
		v = cli_opt_value("--as", argc, argv, i);
		if (!v || !*v)
			return -1;
		if (v[0] != '/') {
			error("--as: '%s' is not an absolute path", v);
			return -1;
		}
		o->as_path = v;
		return 1;
	}
	if (cli_is_opt(a, "--hang-timeout")) {
		v = cli_opt_value("--hang-timeout", argc, argv, i);
		return cli_parse_duration("--hang-timeout", v, &o->hang_ns) ? -1 : 1;
	}
	if (cli_is_opt(a, "--chaos")) {
		v = cli_opt_value("--chaos", argc, argv, i);
		if (cli_parse_count("--chaos", v, 3, &n))
			return -1;
		o->chaos = (int)n;
		return 1;
	}
	if (cli_is_opt(a, "--timeout")) {
		v = cli_opt_value("--timeout", argc, argv, i);
		return cli_parse_duration("--timeout", v, &o->timeout_ns) ? -1 : 1;
	}
	if (cli_is_opt(a, "--leaks")) {
		o->leaks = 1;
		return 1;
	}
	if (cli_is_opt(a, "--leaks-settle")) {
		v = cli_opt_value("--leaks-settle", argc, argv, i);
		o->leaks = 1;
		return cli_parse_duration("--leaks-settle", v, &o->leaks_settle_ns) ? -1 : 1;
	}
	if (cli_is_opt(a, "--leaks-ignore")) {
		v = cli_opt_value("--leaks-ignore", argc, argv, i);
		if (!*v)
			return -1;
		o->leaks = 1;
		o->leaks_ignore = xrealloc(o->leaks_ignore, (o->nleaks_ignore + 1) * sizeof(char *));
		o->leaks_ignore[o->nleaks_ignore++] = xstrdup(v);
		return 1;
	}
	if (cli_is_opt(a, "--sample")) {
		v = cli_opt_value("--sample", argc, argv, i);
		return cli_parse_duration("--sample", v, &o->sample_ns) ? -1 : 1;
	}
	if (cli_is_opt(a, "--inject") || cli_is_opt(a, "--inject-file")) {
		int file = cli_is_opt(a, "--inject-file");
		struct sbuf why = SBUF_INIT;
		int err;

		v = cli_opt_value(file ? "--inject-file" : "--inject", argc, argv, i);
		if (!*v)
			return -1;
		if (!o->plan)
			o->plan = xcalloc(1, sizeof(*o->plan));
		err = file ? plan_add_file(o->plan, v, &why) : plan_add(o->plan, v, &why);
		if (err)
			error("%s", why.buf);
		sbuf_release(&why);
		return err ? -1 : 1;
	}
	if (!strcmp(a, "--no-pin")) {
		o->pin_cpu = PIN_NONE;
		return 1;
	}
	if (!strcmp(a, "-s") || cli_is_opt(a, "--strsize")) {
		v = cli_opt_value(a[1] == 's' ? "-s" : "--strsize", argc, argv, i);
		if (cli_parse_count("--strsize", v, 1 << 20, &n))
			return -1;
		o->strsize = (size_t)n;
		return 1;
	}
	if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		o->quiet = 1;
		return 1;
	}
	return 0;
}

void cli_session_release(struct session_opts *o)
{
	size_t i;

	for (i = 0; i < o->nleaks_ignore; i++)
		free(o->leaks_ignore[i]);
	free(o->leaks_ignore);
	o->leaks_ignore = NULL;
	o->nleaks_ignore = 0;
	if (o->plan) {
		plan_release(o->plan);
		free(o->plan);
		o->plan = NULL;
	}
}

void cli_session_seed(struct session_opts *o)
{
	uint64_t seed;

	if (o->seed_given)
		return;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	/* Keep seeds short enough to type in a reproducer. */
	o->seed = seed % 1000000000ULL;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	const char *nl;

	/* Without a message the error was said already, in one line. */
	if (!fmt)
		return EXIT_GORR_USAGE;
	{
		char msg[1024];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		error("%s", msg);
	}
	/* The first line of the usage text names the command. */
	nl = strchr(usage, '\n');
	fprintf(stderr, "%.*s\n(see --help)\n", nl ? (int)(nl - usage) : (int)strlen(usage), usage);
	return EXIT_GORR_USAGE;
}
