/* The fault plan parser: what it accepts, what it refuses and how it
 * says so, and which matches a rule's filters select. */
#include "inject/plan.h"
#include "t.h"

#include <unistd.h>

static void good_rules(void)
{
	static const char *const ok[] = {
		"write:delay=10ms",
		"read,write,recvfrom:delay=1.5s,when=3",
		"openat:error=ENOENT,path=/etc/*.conf",
		"write:error=EPIPE,fd=1,when=2+3",
		"connect:error=ECONNREFUSED,prob=0.25",
		"read:error=5,when=1..4",
		"netpoll:drop",
		"netpoll:delay=50ms,when=2",
		"gc@main.handle",
		"gc@net/http.(*conn).serve:when=1",
		"gc@event:1234",
		"gc:every=2s",
		"  epoll_pwait:delay=1ms  ",
		"write:delay=30ms:fd=2:when=5",
		"openat:error=ENOENT:when=2:path=/srv/a:b/*.conf",
	};
	struct fault_plan p = FAULT_PLAN_INIT;
	struct sbuf why = SBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++)
		CHECK(plan_add(&p, ok[i], &why) == 0, "'%s': %s", ok[i], why.buf);
	CHECK(p.n == ARRAY_SIZE(ok), "n=%zu", p.n);
	CHECK(p.rules[0].action == FA_DELAY && p.rules[0].ns == 10000000, "delay");
	CHECK(p.rules[1].calls[0] & 1 && p.rules[1].calls[0] & 2, "read and write");
	CHECK(p.rules[2].err == 2 && !strcmp(p.rules[2].path, "/etc/*.conf"), "ENOENT, path");
	CHECK(p.rules[4].has_prob && p.rules[4].prob == 0.25, "prob");
	CHECK(p.rules[6].target == FT_NETPOLL && p.rules[6].action == FA_NETPOLL_DROP, "drop");
	CHECK(p.rules[9].target == FT_GC_FUNC && !strcmp(p.rules[9].func, "net/http.(*conn).serve"),
	      "gc@ func '%s'", p.rules[9].func);
	CHECK(p.rules[10].target == FT_GC_EVENT && p.rules[10].event == 1234, "gc@event");
	CHECK(p.rules[11].target == FT_GC_EVERY && p.rules[11].ns == 2000000000LL, "gc:every");
	/* strace's colons between options (issue 12). */
	CHECK(p.rules[13].action == FA_DELAY && p.rules[13].ns == 30000000 && p.rules[13].has_fd &&
	      p.rules[13].fd == 2 && p.rules[13].has_when && p.rules[13].when_first == 5,
	      "colon-separated options");
	CHECK(p.rules[14].err == 2 && !strcmp(p.rules[14].path, "/srv/a:b/*.conf"),
	      "a path= glob keeps its colons: '%s'", p.rules[14].path);
	plan_release(&p);
	sbuf_release(&why);
}

static void bad_rules(void)
{
	static const struct {
		const char *rule, *says;
	} bad[] = {
		{ "", "empty rule" },
		{ "write", "no action" },
		{ "reed:delay=1s", "'reed' is not a syscall" },
		{ "write:delay=soon", "'delay=soon' (expected a duration" },
		{ "write:delay=-1s", "'delay=-1s'" },
		{ "write:delay=nanms", "'delay=nanms'" },
		{ "write:delay=infs", "'delay=infs'" },
		{ "write:error=ENOPE", "'error=ENOPE' (expected an errno name" },
		{ "write:when=0", "'when=0'" },
		{ "write:delay=1s,when=5..2", "'when=5..2'" },
		{ "write:delay=1s,prob=1.5", "'prob=1.5'" },
		{ "write:delay=1s,error=EIO", "more than one action" },
		{ "write:drop", "'drop' is not an option here" },
		{ "netpoll:error=EIO", "netpoll takes drop or delay" },
		{ "getpid:delay=1s,fd=3", "'getpid' has none" },
		{ "read:delay=1s,path=/x", "path= selects calls on a file name; 'read' has none" },
		{ "gc@", "needs a function" },
		{ "gc@event:x", "'gc@event:x'" },
		{ "gc:when=1", "gc: needs every=DUR" },
		{ "write:delay=1s,colour=red", "'colour=red' is not an option" },
	};
	struct fault_plan p = FAULT_PLAN_INIT;
	struct sbuf why = SBUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		sbuf_reset(&why);
		CHECK(plan_add(&p, bad[i].rule, &why) < 0, "'%s' was accepted", bad[i].rule);
		CHECK(why.buf && strstr(why.buf, bad[i].says) && !strchr(why.buf, '\n'),
		      "'%s': message '%s' lacks '%s'", bad[i].rule, why.buf ? why.buf : "", bad[i].says);
		CHECK(why.buf && strstr(why.buf, "bad fault rule"), "'%s': %s", bad[i].rule, why.buf);
	}
	CHECK(p.n == 0, "rules were added");
	plan_release(&p);
	sbuf_release(&why);
}

static void when_selects(void)
{
	struct fault_plan p = FAULT_PLAN_INIT;
	struct sbuf why = SBUF_INIT;
	char got[64];
	int i, k;
	static const struct {
		const char *rule, *want;
	} cases[] = {
		{ "write:delay=1s", "1111111111" },
		{ "write:delay=1s,when=3", "0010000000" },
		{ "write:delay=1s,when=2+3", "0100100100" },
		{ "write:delay=1s,when=4..6", "0001110000" },
		{ "write:delay=1s,prob=0", "0000000000" },
	};

	for (k = 0; k < (int)ARRAY_SIZE(cases); k++) {
		CHECK(plan_add(&p, cases[k].rule, &why) == 0, "%s", why.buf);
		for (i = 0; i < 10; i++)
			got[i] = rule_selects(&p.rules[k], 0.5) ? '1' : '0';
		got[10] = '\0';
		CHECK(!strcmp(got, cases[k].want), "%s: %s, want %s", cases[k].rule, got, cases[k].want);
	}
	plan_release(&p);
	sbuf_release(&why);
}

static void plan_files(void)
{
	char path[] = "/tmp/gorr-plan-XXXXXX";
	int fd = mkstemp(path);
	struct fault_plan p = FAULT_PLAN_INIT;
	struct sbuf why = SBUF_INIT;
	static const char text[] = "# a plan\n\nwrite:delay=5ms   # slow writes\n  netpoll:drop,when=2\n"
				   "read:bogus\n";

	CHECK(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1, "write");
	close(fd);
	CHECK(plan_add_file(&p, path, &why) < 0, "accepted a bad plan");
	CHECK(p.n == 2, "n=%zu", p.n);
	CHECK(why.buf && strstr(why.buf, ":5: bad fault rule 'read:bogus'"), "%s", why.buf);
	unlink(path);
	plan_release(&p);
	sbuf_reset(&why);
	CHECK(plan_add_file(&p, "/nonexistent/plan", &why) < 0 && strstr(why.buf, "cannot read"), "%s", why.buf);
	sbuf_release(&why);
}

int main(void)
{
	T.suite = "plan";
	RUN(good_rules);
	RUN(bad_rules);
	RUN(when_selects);
	RUN(plan_files);
	return T.any_failed;
}
