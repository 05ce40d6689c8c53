/* MPI_THREAD_SERIALIZED kept truthful (libfmi only; 2 or more processes): while one thread of rank 0
 * blocks in MPI_Recv on MPI_COMM_WORLD, a call on the same communicator from another thread
 * returns an error saying the communicator is busy, never waits. Rank 1 sends the awaited
 * message after a pause. */
#include "check.h"
#include <pthread.h>
#include <unistd.h>

static volatile int done = 0;

static void *receiver(void *arg) {
    (void)arg;
    int v = -1;
    OK(MPI_Recv(&v, 1, MPI_INT, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    CHECK(v == 42, "received %d", v);
    done = 1;
    return NULL;
}

int main(int argc, char **argv) {
    int provided = -1;
    OK(MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided));
    CHECK(provided == MPI_THREAD_SERIALIZED, "provided %d", provided);
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(size >= 2, "run on 2 or more processes");
    if (rank == 0) {
        OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
        pthread_t t;
        CHECK(pthread_create(&t, NULL, receiver, NULL) == 0, "pthread_create");
        int busy = 0, flag = 0;
        char s[MPI_MAX_ERROR_STRING];
        int l = 0;
        while (!busy && !done) {
            int rc = MPI_Iprobe(1, 9, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) {
                busy = 1;
                MPI_Error_string(rc, s, &l);
                printf("BUSY: %s\n", s);
                fflush(stdout);
            }
            usleep(1000);
        }
        CHECK(busy, "a second thread's call on the busy communicator succeeded");
        pthread_join(t, NULL);
        OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    } else if (rank == 1) {
        sleep(3);
        int v = 42;
        OK(MPI_Send(&v, 1, MPI_INT, 0, 1, MPI_COMM_WORLD));
    }
    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_busy");
    OK(MPI_Finalize());
    return 0;
}
