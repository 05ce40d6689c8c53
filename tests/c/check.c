/* check: the reporting shared by the bad_args programs (see check.h). */
#include "check.h"

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int g_passed, g_failed;
char g_prefix[32] = "";
const char *volatile g_current = "(start)";

/* --- reporting ------------------------------------------------------------------------------- */

const char *status_name(int s)
{
    static const char *names[] = {
        "FMI_SUCCESS",       "FMI_ERR_NULL_ARG", "FMI_ERR_INVALID_ARG", "FMI_ERR_CONFIG",
        "FMI_ERR_TIMEOUT",   "FMI_ERR_SIZE_MISMATCH", "FMI_ERR_CHANNEL", "FMI_ERR_PEER_LOST",
        "FMI_ERR_AUTH",      "FMI_ERR_UNSUPPORTED", "FMI_ERR_INTERNAL", "FMI_ERR_MISMATCH",
        "FMI_ERR_TRUNCATE",  "FMI_ERR_LIMIT",    "FMI_ERR_RANK_TAKEN",
    };
    return (s >= 0 && s < (int)(sizeof names / sizeof names[0])) ? names[s] : "(unknown)";
}

const char *last_message(void)
{
    const char *m = fmi_last_error_message();
    return m != NULL ? m : "(NULL)";
}

void record(int ok, const char *name, const char *fmt, ...)
{
    if (ok)
        g_passed++;
    else
        g_failed++;
    printf("%s%s  %s", g_prefix, ok ? "PASS" : "FAIL", name);
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stdout);
        vprintf(fmt, ap);
        va_end(ap);
    }
    putchar('\n');
    fflush(stdout);
}

void expect_status(const char *call, fmi_status want, fmi_status got)
{
    if (got == want)
        record(1, call, "%s", status_name(want));
    else
        record(0, call, "expected %s (%d), got %s (%d); last error: %s", status_name(want), (int)want,
               status_name((int)got), (int)got, last_message());
}

static void on_crash(int sig)
{
    /* Only async-signal-safe calls here. */
    const char *cur = g_current;
    static const char head[] = "\nCRASH (fatal signal) during: ";
    ssize_t ignored = write(STDOUT_FILENO, head, sizeof head - 1);
    ignored += write(STDOUT_FILENO, cur, strlen(cur));
    ignored += write(STDOUT_FILENO, "\n", 1);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

void catch_crashes(void)
{
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGABRT, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int finish(void)
{
    printf("%d passed, %d failed\n", g_passed, g_failed);
    fflush(stdout);
    return g_failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Every function that takes a communicator, called on a handle that is not live: INVALID_ARG. */
void expect_dead_handle(fmi_comm *dead, const char *label)
{
    int32_t b[4] = {1, 2, 3, 4}, r[4] = {0};
    uint32_t u = 0;
    uint64_t t = 0;
    printf("%s-- %s\n", g_prefix, label);
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_rank(dead, &u));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_size(dead, &u));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_hint(dead, FMI_HINT_FAST));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_channel(dead, "direct"));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_channel(dead, NULL));
    fmi_counters k;
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_get_counters(dead, NULL, &k));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_comm_reset_counters(dead));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_set_timeout(dead, 1000));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_get_timeout(dead, &t));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_send(dead, b, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_recv(dead, r, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_bcast(dead, b, 4, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_barrier(dead));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_gather(dead, b, r, 1, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scatter(dead, b, r, 1, FMI_INT32, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_reduce(dead, b, r, 4, FMI_INT32, FMI_OP_SUM, 0));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allreduce(dead, b, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_scan(dead, b, r, 4, FMI_INT32, FMI_OP_SUM));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_allgather(dead, b, r, 1, FMI_INT32));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_alltoall(dead, b, r, 1, FMI_INT32));
    EXPECT(FMI_ERR_INVALID_ARG, fmi_finalize(dead));
}
