#ifndef GORR_DUMP_H
#define GORR_DUMP_H
/* `gorr dump`: print a trace, one line per event. */
int cmd_dump(int argc, char **argv);
#endif
