#define _GNU_SOURCE
#include "inject/inject.h"

#include <fnmatch.h>
#include <string.h>

/* The call's file name, as captured at entry. */
static const char *call_path(struct thread *t, const struct sc_desc *d, size_t *len)
{
	int i;

	for (i = 0; i < t->call.nin; i++)
		if (d->args[t->call.in[i].arg] == A_PATH) {
			*len = t->call.in[i].len;
			return t->inbuf.buf + t->call.in[i].off;
		}
	return NULL;
}

struct fault_rule *inject_syscall(struct fault_plan *p, struct prng *rng, struct thread *t)
{
	const struct sc_desc *d = sc_lookup(t->call.nr);
	size_t i;

	if (!p || !d)
		return NULL;
	for (i = 0; i < p->n; i++) {
		struct fault_rule *r = &p->rules[i];

		if (r->target != FT_SYSCALLS || !(r->calls[t->call.nr / 64] & (1ULL << (t->call.nr % 64))))
			continue;
		if (r->has_fd && (int)t->call.args[0] != r->fd)
			continue;
		if (r->path) {
			size_t len = 0;
			const char *path = call_path(t, d, &len);
			char buf[4096];

			if (!path || len >= sizeof(buf))
				continue;
			memcpy(buf, path, len);
			buf[len] = '\0';
			if (fnmatch(r->path, buf, 0))
				continue;
		}
		if (rule_selects(r, prng_unit(rng)))
			return r;
	}
	return NULL;
}

int inject_netpoll(struct fault_plan *p, struct prng *rng, struct thread *t,
		   void (*fired)(void *ctx, struct thread *t, const struct fault_rule *r,
				 const unsigned char ev[SC_EPOLL_EVENT_SIZE]),
		   void *ctx)
{
	unsigned char evs[SC_EPOLL_EVENT_SIZE * 256];
	/* Events gorr itself delivered late (t->delivered, at the end)
	 * are not the kernel's: no rule acts on them again. */
	int64_t n = t->call.ret - t->pol.delivered, i, kept = 0;
	size_t k;

	if (!p || !sc_is_epoll_wait(t->call.nr) || n <= 0)
		return 0;
	if (n > 256)
		n = 256;
	if (thread_read(t, t->call.args[1], evs, (size_t)n * SC_EPOLL_EVENT_SIZE))
		return 0;
	for (i = 0; i < n; i++) {
		struct fault_rule *hit = NULL;

		for (k = 0; k < p->n && !hit; k++) {
			struct fault_rule *r = &p->rules[k];

			if (r->target == FT_NETPOLL && rule_selects(r, prng_unit(rng)))
				hit = r;
		}
		if (hit) {
			fired(ctx, t, hit, evs + i * SC_EPOLL_EVENT_SIZE);
			continue;
		}
		if (kept != i)
			memmove(evs + kept * SC_EPOLL_EVENT_SIZE, evs + i * SC_EPOLL_EVENT_SIZE, SC_EPOLL_EVENT_SIZE);
		kept++;
	}
	if (kept == n)
		return 0;
	/* The delivered events move down behind the kept ones. */
	for (i = 0; i < t->pol.delivered && kept + i < 256; i++)
		if (thread_read(t, t->call.args[1] + (uint64_t)(n + i) * SC_EPOLL_EVENT_SIZE,
				evs + (kept + i) * SC_EPOLL_EVENT_SIZE, SC_EPOLL_EVENT_SIZE))
			break;
	thread_write(t, t->call.args[1], evs, (size_t)(kept + i) * SC_EPOLL_EVENT_SIZE);
	t->call.ret = kept + i;
	t->pol.delivered = (int)i;
	return (int)(n - kept);
}
