#define _GNU_SOURCE
#include "inject/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct sbuf *why, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct sbuf *why, const char *rule, const char *fmt, ...)
{
	va_list ap;

	sbuf_reset(why);
	sbuf_addf(why, "bad fault rule '%s': ", rule);
	va_start(ap, fmt);
	sbuf_vaddf(why, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *dupn(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* SYSCALL[,SYSCALL...]: every name from the table. */
static int parse_calls(struct fault_rule *r, const char *s, size_t n, const char *rule,
		       struct sbuf *why)
{
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t len = (size_t)((comma ? comma : end) - p);
		char *name = dupn(p, len);
		long nr = sc_number(name);

		if (nr < 0) {
			fail(why, rule, "'%s' is not a syscall (expected names such as read or "
			     "epoll_pwait, or netpoll, gc@FUNC, gc@event:N, gc:every=DUR)", name);
			free(name);
			return -EINVAL;
		}
		free(name);
		r->calls[nr / 64] |= 1ULL << (nr % 64);
		p = comma ? comma + 1 : end;
	}
	return 0;
}

static int parse_count(const char *s, uint64_t *v)
{
	return parse_u64(s, v) < 0 || *v == 0 ? -1 : 0;
}

/* when=N | when=N+STEP | when=N..M (1-based). */
static int parse_when(struct fault_rule *r, const char *v, const char *rule, struct sbuf *why)
{
	char *copy = xstrdup(v), *plus = strchr(copy, '+'), *dots = strstr(copy, "..");
	int bad = 0;

	r->has_when = 1;
	r->when_step = 0;
	if (plus) {
		*plus = '\0';
		bad = parse_count(copy, &r->when_first) || parse_count(plus + 1, &r->when_step);
		r->when_last = UINT64_MAX;
	} else if (dots) {
		*dots = '\0';
		bad = parse_count(copy, &r->when_first) || parse_count(dots + 2, &r->when_last) ||
		      r->when_last < r->when_first;
		r->when_step = 1;
	} else {
		bad = parse_count(copy, &r->when_first);
		r->when_last = r->when_first;
	}
	free(copy);
	if (bad)
		return fail(why, rule, "'when=%s' (expected when=N, when=N+STEP or when=N..M, "
			    "counting matches from 1)", v);
	return 0;
}

static int parse_option(struct fault_rule *r, const char *opt, const char *rule,
			struct sbuf *why, int *actions)
{
	const char *eq = strchr(opt, '=');
	char *key = eq ? dupn(opt, (size_t)(eq - opt)) : xstrdup(opt);
	const char *v = eq ? eq + 1 : NULL;
	int err = 0;
	uint64_t n;

	if (!strcmp(key, "drop") && !v && r->target == FT_NETPOLL) {
		r->action = FA_NETPOLL_DROP;
		(*actions)++;
	} else if (!strcmp(key, "delay") && v) {
		if (parse_duration(v, &r->ns) < 0 || r->ns <= 0)
			err = fail(why, rule, "'delay=%s' (expected a duration such as 10ms, 1.5s or 2m)", v);
		r->action = r->target == FT_NETPOLL ? FA_NETPOLL_DELAY : FA_DELAY;
		(*actions)++;
	} else if (!strcmp(key, "error") && v) {
		int e = sc_errno_number(v);

		if (e < 0 && parse_u64(v, &n) == 0 && n > 0 && n < 4096)
			e = (int)n;
		if (e <= 0)
			err = fail(why, rule, "'error=%s' (expected an errno name such as EAGAIN "
				   "or ECONNRESET, or its number)", v);
		r->err = e;
		r->action = FA_ERROR;
		(*actions)++;
	} else if (!strcmp(key, "every") && v && r->target == FT_GC_EVERY) {
		if (parse_duration(v, &r->ns) < 0 || r->ns <= 0)
			err = fail(why, rule, "'every=%s' (expected a duration such as 10s)", v);
	} else if (!strcmp(key, "when") && v) {
		err = parse_when(r, v, rule, why);
	} else if (!strcmp(key, "prob") && v) {
		char *end;

		r->prob = strtod(v, &end);
		r->has_prob = 1;
		if (end == v || *end || r->prob < 0 || r->prob > 1)
			err = fail(why, rule, "'prob=%s' (expected a probability from 0 to 1)", v);
	} else if (!strcmp(key, "fd") && v) {
		if (parse_u64(v, &n) < 0 || n > 1u << 30)
			err = fail(why, rule, "'fd=%s' (expected a file descriptor number)", v);
		r->fd = (int)n;
		r->has_fd = 1;
	} else if (!strcmp(key, "path") && v && *v) {
		free(r->path);
		r->path = xstrdup(v);
	} else {
		err = fail(why, rule, "'%s' is not an option here (expected delay=DUR, error=ERRNO, "
			   "drop (netpoll), when=N[+STEP|..M], prob=P, fd=N, path=GLOB)", opt);
	}
	free(key);
	return err;
}

/* The calls a filter can apply to. */
static int check_filters(struct fault_rule *r, const char *rule, struct sbuf *why)
{
	long nr;

	if (r->target != FT_SYSCALLS) {
		if (r->has_fd || r->path)
			return fail(why, rule, "fd= and path= select syscalls; this rule is not about syscalls");
		return 0;
	}
	for (nr = 0; nr < SC_TABLE_SIZE; nr++) {
		const struct sc_desc *d;

		if (!(r->calls[nr / 64] & (1ULL << (nr % 64))))
			continue;
		d = sc_lookup(nr);
		if (r->has_fd && !(d->flags & SF_FD))
			return fail(why, rule, "fd= selects calls on a file descriptor; '%s' has none",
				    d->name);
		if (r->path && !(d->flags & SF_FILE))
			return fail(why, rule, "path= selects calls on a file name; '%s' has none",
				    d->name);
	}
	return 0;
}

static int parse_rule(struct fault_plan *p, const char *text, struct sbuf *why);

int plan_add(struct fault_plan *p, const char *text, struct sbuf *why)
{
	const char *b = text, *e = text + strlen(text);
	char *trimmed;
	int err;

	while (*b == ' ' || *b == '\t')
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		e--;
	trimmed = dupn(b, (size_t)(e - b));
	err = parse_rule(p, trimmed, why);
	free(trimmed);
	return err;
}

static int parse_rule(struct fault_plan *p, const char *text, struct sbuf *why)
{
	struct fault_rule r;
	const char *rule = text, *opts = NULL, *colon;
	int actions = 0, err = 0;

	memset(&r, 0, sizeof(r));
	if (!*rule)
		return fail(why, text, "empty rule (expected TARGET:ACTION[,FILTER...])");
	if (!strncmp(rule, "gc@event:", 9)) {
		const char *num = rule + 9, *end = strchr(num, ':');
		char *n = end ? dupn(num, (size_t)(end - num)) : xstrdup(num);

		r.target = FT_GC_EVENT;
		r.action = FA_GC;
		actions = 1;
		if (parse_u64(n, &r.event) < 0)
			err = fail(why, text, "'gc@event:%s' (expected gc@event:N, an event number)", n);
		free(n);
		opts = end ? end + 1 : NULL;
	} else if (!strncmp(rule, "gc@", 3)) {
		const char *name = rule + 3, *end = strchr(name, ':');

		r.target = FT_GC_FUNC;
		r.action = FA_GC;
		actions = 1;
		r.func = end ? dupn(name, (size_t)(end - name)) : xstrdup(name);
		if (!*r.func)
			err = fail(why, text, "'gc@' needs a function (expected gc@main.handle)");
		opts = end ? end + 1 : NULL;
	} else {
		colon = strchr(rule, ':');
		if (!colon)
			return fail(why, text, "no action (expected TARGET:ACTION, such as "
				    "write:delay=10ms, read:error=EIO, netpoll:drop, gc@main.f)");
		opts = colon + 1;
		if ((size_t)(colon - rule) == 7 && !strncmp(rule, "netpoll", 7)) {
			r.target = FT_NETPOLL;
		} else if ((size_t)(colon - rule) == 2 && !strncmp(rule, "gc", 2)) {
			r.target = FT_GC_EVERY;
			r.action = FA_GC;
			actions = 1;
		} else {
			r.target = FT_SYSCALLS;
			err = parse_calls(&r, rule, (size_t)(colon - rule), text, why);
		}
	}
	while (!err && opts && *opts) {
		/* Options are separated by commas or, as strace writes its
		 * inject= options, by colons; a path= glob (file names may
		 * hold colons) runs to the next comma. */
		const char *sep = strncmp(opts, "path=", 5) ? strpbrk(opts, ",:") : strchr(opts, ',');
		char *opt = sep ? dupn(opts, (size_t)(sep - opts)) : xstrdup(opts);

		err = parse_option(&r, opt, text, why, &actions);
		free(opt);
		opts = sep ? sep + 1 : NULL;
	}
	if (!err && actions == 0)
		err = fail(why, text, "no action (expected delay=DUR or error=ERRNO for syscalls, "
			   "drop or delay=DUR for netpoll)");
	if (!err && actions > 1)
		err = fail(why, text, "more than one action: give one per rule");
	if (!err && r.target == FT_SYSCALLS && r.action != FA_DELAY && r.action != FA_ERROR)
		err = fail(why, text, "syscalls take delay=DUR or error=ERRNO");
	if (!err && r.target == FT_NETPOLL && r.action != FA_NETPOLL_DROP &&
	    r.action != FA_NETPOLL_DELAY)
		err = fail(why, text, "netpoll takes drop or delay=DUR");
	if (!err && r.target == FT_GC_EVERY && !r.ns)
		err = fail(why, text, "gc: needs every=DUR (or use gc@FUNC, gc@event:N)");
	if (!err)
		err = check_filters(&r, text, why);
	if (err) {
		free(r.func);
		free(r.path);
		return err;
	}
	r.text = xstrdup(rule);
	p->rules = xrealloc(p->rules, (p->n + 1) * sizeof(*p->rules));
	p->rules[p->n++] = r;
	return 0;
}

int plan_add_file(struct fault_plan *p, const char *path, struct sbuf *why)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, err = 0;

	if (!f) {
		sbuf_reset(why);
		sbuf_addf(why, "cannot read fault plan '%s': %s", path, strerror(errno));
		return -errno;
	}
	while (!err && (n = getline(&line, &cap, f)) >= 0) {
		char *hash = strchr(line, '#'), *s = line, *e;

		lineno++;
		if (hash)
			*hash = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (!*s)
			continue;
		err = plan_add(p, s, why);
		if (err) {
			struct sbuf msg = SBUF_INIT;

			sbuf_addf(&msg, "%s:%d: %s", path, lineno, why->buf);
			sbuf_reset(why);
			sbuf_add(why, msg.buf, msg.len);
			sbuf_release(&msg);
		}
	}
	free(line);
	fclose(f);
	return err;
}

void plan_release(struct fault_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->rules[i].text);
		free(p->rules[i].func);
		free(p->rules[i].path);
		free(p->rules[i].pcs);
	}
	free(p->rules);
	p->rules = NULL;
	p->n = 0;
}


int rule_selects(struct fault_rule *r, double draw)
{
	uint64_t m = ++r->matches;

	if (r->has_when) {
		if (m < r->when_first || m > r->when_last)
			return 0;
		if (r->when_step && (m - r->when_first) % r->when_step)
			return 0;
	}
	if (r->has_prob && draw >= r->prob)
		return 0;
	r->fired++;
	return 1;
}

int plan_names_clock(const struct fault_plan *p)
{
	size_t i;
	long nr;

	for (i = 0; i < p->n; i++)
		for (nr = 0; nr < SC_TABLE_SIZE; nr++)
			if (p->rules[i].target == FT_SYSCALLS && (p->rules[i].calls[nr / 64] >> (nr % 64) & 1) &&
			    sc_lookup(nr) && (sc_lookup(nr)->flags & SF_CLOCKREAD))
				return 1;
	return 0;
}
