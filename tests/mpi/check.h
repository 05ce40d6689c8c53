/* Shared by the MPI layer's C tests (tests/mpi/): a failed check prints where and why, with
 * the rank, and aborts the job with a non-zero exit code. The tests are compiled once with
 * MPICH's mpicc_abi and run under MPICH's mpiexec and under fmirun with libfmi's library. */
#ifndef FMI_MPI_TEST_CHECK_H
#define FMI_MPI_TEST_CHECK_H
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int check_rank(void) {
    int init = 0, fin = 0, r = -1;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "CHECK FAILED at %s:%d (rank %d): %s: ", __FILE__, __LINE__,  \
                    check_rank(), #cond);                                                  \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            fflush(stderr);                                                                \
            int init_ = 0, fin_ = 0;                                                       \
            MPI_Initialized(&init_);                                                       \
            MPI_Finalized(&fin_);                                                          \
            if (init_ && !fin_) MPI_Abort(MPI_COMM_WORLD, 3);                             \
            exit(3);                                                                       \
        }                                                                                  \
    } while (0)

/* An MPI call that must succeed. */
#define OK(call)                                                                           \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != MPI_SUCCESS) {                                                          \
            char s_[MPI_MAX_ERROR_STRING];                                                 \
            int l_ = 0;                                                                    \
            s_[0] = 0;                                                                     \
            MPI_Error_string(rc_, s_, &l_);                                                \
            CHECK(rc_ == MPI_SUCCESS, "%s returned %d: %s", #call, rc_, s_);              \
        }                                                                                  \
    } while (0)

/* The class of an error code. */
static inline int class_of(int rc) {
    int c = -1;
    MPI_Error_class(rc, &c);
    return c;
}

/* Prints "PASS <name>" once (rank 0 of MPI_COMM_WORLD) before MPI_Finalize. */
static inline void pass(const char *name) {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    if (r == 0) {
        printf("PASS %s\n", name);
        fflush(stdout);
    }
}
#endif
