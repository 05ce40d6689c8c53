/* A lock that is not granted in time (run with a short FMI_MPI_TIMEOUT, libfmi only: the
 * bound is libfmi's): rank 0 holds an exclusive lock on its window longer than the bound;
 * rank 1's MPI_Win_lock fails with the timeout and its request is withdrawn, so after rank 0
 * unlocks, rank 1 can lock and read again (the late reply is not taken for another one's)
 * and rank 0 can lock exclusively again (the withdrawn lock is not left held). */
#include "check.h"
#include <unistd.h>

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(size == 2, "run on 2 processes");
    int *mem;
    MPI_Win win;
    OK(MPI_Win_allocate(sizeof(int), sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win));
    OK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    *mem = 1234;
    if (rank == 0) OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        sleep(5); /* FMI_MPI_TIMEOUT=3 */
        OK(MPI_Win_unlock(0, win));
    } else {
        int rc = MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
        CHECK(rc != MPI_SUCCESS, "the lock was granted while rank 0 held it exclusively");
        printf("timed out as expected: class %d\n", class_of(rc));
    }
    OK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 1) {
        int v = -1;
        OK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
        OK(MPI_Get(&v, 1, MPI_INT, 0, 0, 1, MPI_INT, win));
        OK(MPI_Win_unlock(0, win));
        CHECK(v == 1234, "get after the timeout read %d", v);
    }
    OK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) {
        OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win));
        OK(MPI_Win_unlock(0, win));
    }
    OK(MPI_Win_free(&win));
    pass("win_timeout");
    OK(MPI_Finalize());
    return 0;
}
