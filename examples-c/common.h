/* Shared helpers of the libfmi C examples: status checking and the communicator lifecycle. */
#ifndef FMI_EXAMPLES_COMMON_H
#define FMI_EXAMPLES_COMMON_H

#include <fmi.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints where and why an FMI call failed, then exits non-zero. */
static inline void fmi_example_fail(const char *file, int line, const char *call, int status)
{
    const char *detail = fmi_last_error_message();
    fprintf(stderr, "%s:%d: %s failed: %s (status %d): %s\n", file, line, call,
            fmi_strerror(status), status, detail != NULL ? detail : "(no detail)");
    fflush(stderr);
    exit(EXIT_FAILURE);
}

/* Evaluates an FMI call and exits with a diagnostic unless it returns FMI_SUCCESS. */
#define FMI_CHECK(call)                                                   \
    do {                                                                  \
        fmi_status fmi_check_status_ = (call);                            \
        if (fmi_check_status_ != FMI_SUCCESS)                             \
            fmi_example_fail(__FILE__, __LINE__, #call, (int)fmi_check_status_); \
    } while (0)

/* Fails the program with a message (for result checks, not FMI errors). */
#define EXAMPLE_FAIL(...)                                                 \
    do {                                                                  \
        fprintf(stderr, __VA_ARGS__);                                     \
        fputc('\n', stderr);                                              \
        fflush(stderr);                                                   \
        exit(EXIT_FAILURE);                                               \
    } while (0)

#endif
