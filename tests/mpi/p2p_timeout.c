/* FMI_MPI_TIMEOUT (libfmi only; run with a small value and 2 or more processes): rank 0 blocks in a
 * receive from rank 1, which never sends that message; the call fails when the timeout fires,
 * through the communicator's error handler, with a message naming the call and the peer. The
 * same for MPI_Wait of a receive. The other ranks stay alive (non-blocking probes only) until
 * rank 0 says it is done. */
#include "check.h"

static int calls = 0;
static char last[MPI_MAX_ERROR_STRING];

static void handler(MPI_Comm *comm, int *code, ...) {
    (void)comm;
    int l = 0;
    calls++;
    MPI_Error_string(*code, last, &l);
    printf("HANDLER %d: %s\n", calls, last);
    fflush(stdout);
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(size >= 2, "run on 2 or more processes");
    MPI_Errhandler eh;
    OK(MPI_Comm_create_errhandler(handler, &eh));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, eh));
    int v = 0;
    if (rank == 0) {
        double t0 = MPI_Wtime();
        int rc = MPI_Recv(&v, 1, MPI_INT, 1, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        CHECK(rc != MPI_SUCCESS && calls == 1, "recv: rc %d, handler calls %d", rc, calls);
        printf("RECV class %d after %.1f s\n", class_of(rc), MPI_Wtime() - t0);
        MPI_Request r;
        OK(MPI_Irecv(&v, 1, MPI_INT, 1, 6, MPI_COMM_WORLD, &r));
        rc = MPI_Wait(&r, MPI_STATUS_IGNORE);
        CHECK(rc != MPI_SUCCESS && calls == 2, "wait: rc %d, handler calls %d", rc, calls);
        for (int p = 1; p < size; p++) OK(MPI_Send(&v, 1, MPI_INT, p, 7, MPI_COMM_WORLD));
    } else {
        int flag = 0;
        double t0 = MPI_Wtime();
        while (!flag && MPI_Wtime() - t0 < 60)
            OK(MPI_Iprobe(0, 7, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE));
        CHECK(flag, "rank 0 never said it was done");
        OK(MPI_Recv(&v, 1, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    }
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    OK(MPI_Errhandler_free(&eh));
    pass("p2p_timeout");
    OK(MPI_Finalize());
    return 0;
}
