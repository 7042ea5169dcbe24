/* The replayer: re-executes a trace made by `gorr record` or `gorr run`.
 * The trace's `run` events say which thread runs next; a thread runs until
 * its next stop, and that stop must be its next event in the trace, or the
 * replay has diverged.  Every recorded syscall is emulated (its result and
 * the bytes it wrote come from the trace) except those that build the
 * process itself (clone, exec, exit), which run for real.  Signals are
 * delivered again at their recorded point, timeslices end at their
 * recorded registers (a breakpoint at the PC, then a full register match),
 * and the program's writes to stdout and stderr appear again. */
#ifndef GORR_REPLAY_H
#define GORR_REPLAY_H

int cmd_replay(int argc, char **argv);
/* gorr debug: the replay under gdb (replayer/gdb.h). */
int cmd_debug(int argc, char **argv);

#endif
