/* The strace-like text of decoded trace events (harness/trace/printer.c),
 * for gorr dump and replay's reports. */
#ifndef GORR_TRACE_PRINTER_H
#define GORR_TRACE_PRINTER_H

#include "harness/trace/event.h"

/* Formatting, strace-like, one line without the newline. */
struct gobin;
struct print_opts {
	size_t strsize;			/* bytes of buffers shown */
	const struct gobin *bin;	/* to symbolize PCs, or NULL */
};
void print_event(struct sbuf *sb, const struct trace_event *ev,
		 const struct print_opts *po);
/* Just the syscall part: name(args) = result. */
void print_syscall(struct sbuf *sb, const struct trace_event *ev,
		   const struct print_opts *po);
/* "0x4c1500 in unicode.IsSpace (inlined into main.count) at
 * /usr/lib/go/src/unicode/graphic.go:126", or the bare pc when bin does not
 * know it. */
void print_code_pc(struct sbuf *sb, uint64_t pc, const struct gobin *bin);
/* Signal names: "SIGSEGV", or "SIG42". */
void print_signame(struct sbuf *sb, int sig);

#endif
