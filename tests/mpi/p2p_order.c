/* Wildcards and ordering: messages from one sender on one communicator are received in the
 * order sent (per tag selection), MPI_ANY_TAG takes them in sending order, MPI_ANY_SOURCE
 * gets every sender's messages in each sender's order, and a dup'ed communicator's messages
 * never match the original's. Needs 2+ processes for the peer part. */
#include "check.h"

#define M 50

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    MPI_Status st;

    /* Everyone but 0 sends M numbered messages with alternating tags; 0 receives tag 1 ones
     * first from each sender, then the rest with MPI_ANY_TAG, all from MPI_ANY_SOURCE. */
    MPI_Comm dup;
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    if (rank != 0) {
        int x = -rank;
        OK(MPI_Send(&x, 1, MPI_INT, 0, 1, dup)); /* same tag on another communicator */
        for (int i = 0; i < M; i++) {
            int v = rank * 1000 + i;
            OK(MPI_Send(&v, 1, MPI_INT, 0, i % 2, MPI_COMM_WORLD));
        }
    } else {
        int next1[64] = {0}, next0[64] = {0};
        for (int k = 0; k < (size - 1) * (M / 2); k++) {
            int v;
            OK(MPI_Recv(&v, 1, MPI_INT, MPI_ANY_SOURCE, 1, MPI_COMM_WORLD, &st));
            int s = st.MPI_SOURCE, i = v % 1000;
            CHECK(v / 1000 == s && i == 2 * next1[s] + 1, "tag 1 from %d: got #%d want #%d", s, i,
                  2 * next1[s] + 1);
            next1[s]++;
        }
        for (int k = 0; k < (size - 1) * (M / 2); k++) {
            int v;
            OK(MPI_Recv(&v, 1, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
            int s = st.MPI_SOURCE, i = v % 1000;
            CHECK(st.MPI_TAG == 0 && i == 2 * next0[s], "any tag from %d: got #%d tag %d", s, i,
                  st.MPI_TAG);
            next0[s]++;
        }
        for (int s = 1; s < size; s++) {
            int x;
            OK(MPI_Recv(&x, 1, MPI_INT, s, MPI_ANY_TAG, dup, &st));
            CHECK(x == -s && st.MPI_TAG == 1, "dup message from %d: %d", s, x);
        }
    }
    OK(MPI_Comm_free(&dup));
    OK(MPI_Barrier(MPI_COMM_WORLD)); /* no tag 9 message may reach the wildcard receives above */

    /* Posted receives match in the order posted: two wildcard receives, then one message. */
    if (size > 1 && rank < 2) {
        int peer = 1 - rank, v = rank * 10 + 1, x = -1, y = -1;
        MPI_Request r[2];
        OK(MPI_Irecv(&x, 1, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &r[0]));
        OK(MPI_Irecv(&y, 1, MPI_INT, peer, 9, MPI_COMM_WORLD, &r[1]));
        OK(MPI_Send(&v, 1, MPI_INT, peer, 9, MPI_COMM_WORLD));
        v = rank * 10 + 2;
        OK(MPI_Send(&v, 1, MPI_INT, peer, 9, MPI_COMM_WORLD));
        OK(MPI_Waitall(2, r, MPI_STATUSES_IGNORE));
        CHECK(x == peer * 10 + 1 && y == peer * 10 + 2, "posted order: x=%d y=%d", x, y);
    }
    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_order");
    OK(MPI_Finalize());
    return 0;
}
