/* check: the reporting shared by the bad_args programs (bad_args.c: single process,
 * bad_args_peers.c: two peers): one line per check, the final `N passed, M failed`, the crash
 * handler that names the check in progress, and the checks of a dead communicator handle.
 */
#ifndef FMI_TESTS_C_CHECK_H
#define FMI_TESTS_C_CHECK_H

#include <fmi.h>

extern int g_passed, g_failed;
extern char g_prefix[32];
extern const char *volatile g_current; /* the check in progress, for the crash handler */

const char *status_name(int s);
const char *last_message(void);
void record(int ok, const char *name, const char *fmt, ...);
void expect_status(const char *call, fmi_status want, fmi_status got);

/* EXPECT(FMI_ERR_NULL_ARG, fmi_send(...)): runs the call and checks its status. */
#define EXPECT(want, call)                                                                           \
    do {                                                                                             \
        g_current = #call;                                                                           \
        expect_status(#call, (want), (call));                                                        \
        g_current = "(between checks)";                                                              \
    } while (0)

#define CHECK_TRUE(cond, ...) record((cond) ? 1 : 0, #cond, __VA_ARGS__)

/* Fatal signals (SEGV, BUS, ABRT, FPE, ILL) print the check in progress, then end the process. */
void catch_crashes(void);
double now_seconds(void);
int finish(void);

/* Every function that takes a communicator, called on a handle that is not live: INVALID_ARG. */
void expect_dead_handle(fmi_comm *dead, const char *label);

#endif
