/* `gorr hunt`: run a program under `gorr run --chaos` with many seeds, in
 * parallel, until one fails; save its trace and output and print a
 * one-line reproducer (docs/hunt.md). */
#ifndef GORR_HUNT_H
#define GORR_HUNT_H

int cmd_hunt(int argc, char **argv);

#endif
