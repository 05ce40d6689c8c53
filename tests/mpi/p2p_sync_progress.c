/* A posted receive matches without the program's MPI_Wait: two processes that each post a
 * receive from the other and then send synchronously to each other both complete, whether the
 * synchronous send is blocking (MPI_Ssend) or MPI_Issend followed by MPI_Wait on the send alone.
 * Ranks pair up (0-1, 2-3, ...); an odd one out only joins the barriers. */
#include "check.h"

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int peer = rank ^ 1;
    if (peer < size) {
        for (int round = 0; round < 3; round++) {
            int in = -1, out = 100 * round + rank;
            MPI_Request r, s;
            MPI_Status st;
            /* Blocking synchronous send after a posted receive. */
            OK(MPI_Irecv(&in, 1, MPI_INT, peer, round, MPI_COMM_WORLD, &r));
            OK(MPI_Ssend(&out, 1, MPI_INT, peer, round, MPI_COMM_WORLD));
            OK(MPI_Wait(&r, &st));
            CHECK(in == 100 * round + peer && st.MPI_SOURCE == peer && st.MPI_TAG == round,
                  "Ssend round %d: got %d from %d tag %d", round, in, st.MPI_SOURCE, st.MPI_TAG);
            /* Non-blocking synchronous send, waited for before the receive. */
            in = -1;
            OK(MPI_Irecv(&in, 1, MPI_INT, peer, 10 + round, MPI_COMM_WORLD, &r));
            OK(MPI_Issend(&out, 1, MPI_INT, peer, 10 + round, MPI_COMM_WORLD, &s));
            OK(MPI_Wait(&s, MPI_STATUS_IGNORE));
            OK(MPI_Wait(&r, &st));
            CHECK(in == 100 * round + peer, "Issend round %d: got %d", round, in);
        }
    }
    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_sync_progress");
    OK(MPI_Finalize());
    return 0;
}
