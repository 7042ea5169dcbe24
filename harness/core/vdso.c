#define _GNU_SOURCE
#include "harness/core/vdso.h"
#include "harness/core/breakpoint.h"
#include "harness/core/ptrace.h"
#include "harness/base/util.h"
#include "vdso_syms.h"		/* $(BUILD)/harness/vdso: from the built image */

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/seccomp.h>

/* The built image (GNUmakefile: harness/vdso/image.c, linked by
 * image.lds), in gorr's own read-only data. */
__asm__(".section .rodata\n"
	".balign 64\n"
	".globl gorr_vdso_image\n"
	"gorr_vdso_image:\n"
	".incbin \"" VDSO_IMAGE_PATH "\"\n"
	".globl gorr_vdso_image_end\n"
	"gorr_vdso_image_end:\n"
	".previous\n");
extern const unsigned char gorr_vdso_image[], gorr_vdso_image_end[];

uint64_t vdso_page_addr(void)
{
	return VDSO_BASE + VDSO_PAGE_OFF;
}

uint64_t vdso_fast_pc(void)
{
	return VDSO_BASE + VDSO_FAST_RET_OFF;
}

uint64_t vdso_slow_pc(void)
{
	return VDSO_BASE + VDSO_SLOW_RET_OFF;
}

int vdso_holds(uint64_t pc)
{
	return pc >= VDSO_BASE && pc < VDSO_BASE + VDSO_PAGE_OFF;
}

int vdso_map(struct session *s, struct thread *t, int mode, uint64_t *ehdr)
{
	size_t len = (size_t)(gorr_vdso_image_end - gorr_vdso_image);
	uint64_t a[6] = { VDSO_BASE, VDSO_PAGE_OFF, PROT_READ | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0 };
	struct user_regs_struct regs;
	struct vdso_page head;
	int64_t ret;
	int err;

	if (len > VDSO_PAGE_OFF)
		return -E2BIG;
	if ((err = pt_getregs(t->tid, &regs)))
		return err;
	/* The call is made from the exec stop's rip: the entry point,
	 * mapped executable. */
	if ((err = bp_inject_syscall(s, t, regs.rip, SYS_mmap, a, &ret)))
		return err;
	if (ret != (int64_t)VDSO_BASE)
		return ret < 0 && ret > -4096 ? (int)ret : -ENOTSUP;
	a[0] = vdso_page_addr();
	a[1] = VDSO_PAGE;
	a[2] = PROT_READ | PROT_WRITE;
	if ((err = bp_inject_syscall(s, t, regs.rip, SYS_mmap, a, &ret)))
		return err;
	if (ret != (int64_t)vdso_page_addr())
		return ret < 0 && ret > -4096 ? (int)ret : -ENOTSUP;
	/* The image through /proc/PID/mem (it writes through PROT_EXEC's
	 * missing write permission, mm/memory.c FOLL_FORCE). */
	if ((err = bp_code_write(s, t, VDSO_BASE, gorr_vdso_image, len)))
		return err;
	memset(&head, 0, offsetof(struct vdso_page, ent));
	head.magic = VDSO_MAGIC;
	head.mode = (uint32_t)mode;
	if ((err = mem_write(t->tid, vdso_page_addr(), &head, offsetof(struct vdso_page, ent))))
		return err;
	*ehdr = VDSO_BASE;
	return 0;
}

int vdso_filter(const struct sock_filter *bpf, unsigned short len, struct sock_filter **out,
		unsigned short *out_len)
{
	uint64_t ip = vdso_fast_pc();
	/* clock_gettime from the image's first SYSCALL (seccomp_data's
	 * instruction_pointer is the address after it, the task's saved ip
	 * at entry: kernel/seccomp.c populate_seccomp_data) is allowed; the
	 * rest goes on to libseccomp's program, which checks the
	 * architecture first.  Jumps are relative to the next instruction. */
	const struct sock_filter pre[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 7),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(ip >> 32), 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	size_t n = sizeof(pre) / sizeof(pre[0]);

	if (len + n > BPF_MAXINSNS)
		return -E2BIG;
	*out = xmalloc((len + n) * sizeof(**out));
	memcpy(*out, pre, sizeof(pre));
	memcpy(*out + n, bpf, len * sizeof(*bpf));
	*out_len = (unsigned short)(len + n);
	return 0;
}

/* The thread whose reads t's process's ring holds: only one runs the
 * program's code at a time.  t, if its last resume let it run the
 * program's code (thread.ran_user: not only PTRACE_CONT, also
 * PTRACE_SYSCALL from a signal's stop, which runs the handler and on
 * to the next call: 1 of 3 recordings of math/big's tests had reads
 * after the event they came before), else the thread of its process
 * that runs it now; NULL when none did since its last stop (t comes
 * back from a call: half of an HTTP server's stops), and the page is
 * not read.  (The scheduler's running thread is not always that one: a
 * woken thread that takes a signal, the running one at a stop of
 * another's: 3 of 16 traces of tests/progs/killchild diverged.) */
static struct thread *clock_reader(struct session *s, struct thread *t)
{
	size_t i;

	if (t->ran_user)
		return t;
	for (i = 0; i < s->norder; i++)
		if (s->order[i]->tgid == t->tgid && s->order[i]->ran_user && !s->order[i]->stopped)
			return s->order[i];
	return NULL;
}

void vdso_drain(struct session *s, struct thread *t)
{
	struct vdso_ent ent[VDSO_RING];
	struct thread *by;
	uint32_t n = 0, i;
	int err;

	if (s->opts.fast_clock != VDSO_RECORD || !s->ops->vclock || !(by = clock_reader(s, t)))
		return;
	err = vdso_take(t, ent, &n);
	if (err && err != -ESRCH)
		warning("cannot read process %d's clock reads: %s", (int)t->tgid, strerror(-err));
	for (i = 0; i < n; i++)
		s->ops->vclock(s, by, &ent[i]);
}

/* The header and the first entries in one read: most stops find a few. */
#define TAKE_FIRST 4

int vdso_take(struct thread *t, struct vdso_ent *ent, uint32_t *n)
{
	struct {
		uint32_t magic, mode, head, fill, pad[12];
		struct vdso_ent ent[TAKE_FIRST];
	} first, *p = &first;
	uint32_t zero = 0, head;
	int err;

	_Static_assert(offsetof(typeof(first), ent) == offsetof(struct vdso_page, ent),
		       "the page's header");
	*n = 0;
	if (mem_read(t->tid, vdso_page_addr(), &first, sizeof(first)) || p->magic != VDSO_MAGIC)
		return 0;	/* no page: the mapping failed, or not ours */
	head = p->head;
	if (!head)
		return 0;
	if (head > VDSO_RING)
		return -EPROTO;
	memcpy(ent, p->ent, (head < TAKE_FIRST ? head : TAKE_FIRST) * sizeof(*ent));
	if (head > TAKE_FIRST &&
	    (err = mem_read(t->tid, vdso_page_addr() + offsetof(struct vdso_page, ent) +
			    TAKE_FIRST * sizeof(*ent), ent + TAKE_FIRST,
			    (head - TAKE_FIRST) * sizeof(*ent))))
		return err;
	if ((err = mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, head), &zero,
			     sizeof(zero))))
		return err;
	*n = head;
	return 0;
}

int vdso_used(struct thread *t, uint32_t given, uint32_t *used)
{
	uint32_t hf[2];
	int err;

	*used = 0;
	if ((err = mem_read(t->tid, vdso_page_addr() + offsetof(struct vdso_page, head), hf,
			    sizeof(hf))))
		return err;
	if (hf[0] > given)
		return -EPROTO;
	*used = hf[0];
	hf[1] = hf[0];		/* fill = head: what is left is withdrawn */
	return mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, fill), &hf[1],
			 sizeof(hf[1]));
}

int vdso_give(struct thread *t, const struct vdso_ent *ent, uint32_t n)
{
	uint32_t hf[2] = { 0, n };
	int err;

	if (n > VDSO_RING)
		return -E2BIG;
	if (n && (err = mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, ent), ent,
				  n * sizeof(*ent))))
		return err;
	return mem_write(t->tid, vdso_page_addr() + offsetof(struct vdso_page, head), hf,
			 sizeof(hf));
}

size_t vdso_out_bytes(const struct vdso_ent *e, unsigned char buf[16])
{
	if (!e->ptr || e->ret < 0)
		return 0;
	return sc_clock_out(sc_lookup(e->nr), e->sec, e->nsec, buf);
}
