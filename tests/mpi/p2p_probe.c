/* Probes: Probe and Iprobe (the message stays to be received), matched probes Mprobe/Mrecv
 * and Improbe/Imrecv (the message is taken out of matching), with wildcards and
 * MPI_PROC_NULL. At least one process; rank 0 collects from everyone. */
#include "check.h"

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    MPI_Status st;
    int flag, n;

    /* Every rank sends rank+1 ints with tag 100+rank to rank 0; rank 0 probes any source,
     * sizes its buffer from the count, then receives exactly that message. */
    int data[64];
    for (int i = 0; i < 64; i++) data[i] = rank * 1000 + i;
    MPI_Request sr;
    OK(MPI_Isend(data, rank + 1, MPI_INT, 0, 100 + rank, MPI_COMM_WORLD, &sr));
    if (rank == 0) {
        int got[64] = {0};
        for (int k = 0; k < size; k++) {
            OK(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
            int src = st.MPI_SOURCE;
            CHECK(src >= 0 && src < size && !got[src] && st.MPI_TAG == 100 + src, "probe %d %d", src,
                  st.MPI_TAG);
            OK(MPI_Get_count(&st, MPI_INT, &n));
            CHECK(n == src + 1, "probed count %d from %d", n, src);
            /* Iprobe of the same source and tag finds it again. */
            OK(MPI_Iprobe(src, st.MPI_TAG, MPI_COMM_WORLD, &flag, &st));
            CHECK(flag && st.MPI_SOURCE == src, "iprobe again");
            int buf[64];
            OK(MPI_Recv(buf, n, MPI_INT, src, st.MPI_TAG, MPI_COMM_WORLD, &st));
            for (int i = 0; i < n; i++) CHECK(buf[i] == src * 1000 + i, "data from %d", src);
            got[src] = 1;
        }
        OK(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE));
        CHECK(!flag, "nothing left to probe");
    }
    OK(MPI_Wait(&sr, MPI_STATUS_IGNORE));
    OK(MPI_Barrier(MPI_COMM_WORLD));

    /* Matched probes: two messages with the same envelope; Mprobe takes the first, so a Recv
     * then gets the second. */
    int a = rank * 10 + 1, b = rank * 10 + 2;
    MPI_Request q[2];
    OK(MPI_Isend(&a, 1, MPI_INT, 0, 7, MPI_COMM_WORLD, &q[0]));
    OK(MPI_Isend(&b, 1, MPI_INT, 0, 7, MPI_COMM_WORLD, &q[1]));
    if (rank == 0) {
        for (int k = 0; k < size; k++) {
            MPI_Message m;
            OK(MPI_Mprobe(k, 7, MPI_COMM_WORLD, &m, &st));
            CHECK(m != MPI_MESSAGE_NULL && st.MPI_SOURCE == k, "mprobe from %d", k);
            int second = -1, first = -1;
            OK(MPI_Recv(&second, 1, MPI_INT, k, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            OK(MPI_Mrecv(&first, 1, MPI_INT, &m, &st));
            CHECK(m == MPI_MESSAGE_NULL, "message handle nulled");
            CHECK(first == k * 10 + 1 && second == k * 10 + 2, "mprobe order %d %d", first, second);
        }
    }
    OK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE));
    OK(MPI_Barrier(MPI_COMM_WORLD));

    /* Improbe/Imrecv: nothing yet, then the message. */
    if (rank == 0) {
        MPI_Message m = MPI_MESSAGE_NULL;
        OK(MPI_Improbe(size - 1, 8, MPI_COMM_WORLD, &flag, &m, &st));
        CHECK(!flag, "improbe before the send");
    }
    OK(MPI_Barrier(MPI_COMM_WORLD));
    MPI_Request late = MPI_REQUEST_NULL;
    if (rank == size - 1) OK(MPI_Isend(&a, 1, MPI_INT, 0, 8, MPI_COMM_WORLD, &late));
    if (rank == 0) {
        MPI_Message m = MPI_MESSAGE_NULL;
        do {
            OK(MPI_Improbe(size - 1, 8, MPI_COMM_WORLD, &flag, &m, &st));
        } while (!flag);
        int v = -1;
        MPI_Request r;
        OK(MPI_Imrecv(&v, 1, MPI_INT, &m, &r));
        OK(MPI_Wait(&r, &st));
        CHECK(v == (size - 1) * 10 + 1 && st.MPI_SOURCE == size - 1 && st.MPI_TAG == 8, "imrecv %d", v);
    }

    OK(MPI_Wait(&late, MPI_STATUS_IGNORE));

    /* MPI_PROC_NULL. */
    OK(MPI_Probe(MPI_PROC_NULL, 0, MPI_COMM_WORLD, &st));
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL, "probe PROC_NULL");
    OK(MPI_Iprobe(MPI_PROC_NULL, 0, MPI_COMM_WORLD, &flag, &st));
    CHECK(flag && st.MPI_SOURCE == MPI_PROC_NULL, "iprobe PROC_NULL");
    MPI_Message m;
    OK(MPI_Mprobe(MPI_PROC_NULL, 0, MPI_COMM_WORLD, &m, &st));
    CHECK(m == MPI_MESSAGE_NO_PROC, "mprobe PROC_NULL");
    OK(MPI_Mrecv(data, 4, MPI_INT, &m, &st));
    OK(MPI_Get_count(&st, MPI_INT, &n));
    CHECK(m == MPI_MESSAGE_NULL && st.MPI_SOURCE == MPI_PROC_NULL && n == 0, "mrecv NO_PROC");

    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_probe");
    OK(MPI_Finalize());
    return 0;
}
