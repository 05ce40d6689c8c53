/* Blocking point-to-point: the four send modes, receives with statuses and counts, derived
 * datatypes, messages to oneself, MPI_PROC_NULL, Sendrecv and Sendrecv_replace, large-count
 * forms. Any number of processes (a ring). */
#include "check.h"

#define N 1000

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int out[N], in[N];
    MPI_Status st;

    /* Each mode around the ring: even ranks send first, odd ones receive first (a ring of
     * one is a message to oneself, which only the buffered modes can do blocking). */
    for (int mode = 0; mode < 4; mode++) {
        if (size == 1 && mode != 0 && mode != 3) continue;
        for (int i = 0; i < N; i++) out[i] = rank * 100000 + mode * 1000 + i;
        memset(in, 0, sizeof in);
        char bbuf[sizeof out + MPI_BSEND_OVERHEAD];
        if (mode == 3) OK(MPI_Buffer_attach(bbuf, sizeof bbuf));
        int first = (rank % 2 == 0) && size > 1;
        MPI_Request pre = MPI_REQUEST_NULL;
        if (mode == 2 || size == 1) OK(MPI_Irecv(in, N, MPI_INT, left, 10 + mode, MPI_COMM_WORLD, &pre));
        if (mode == 2) OK(MPI_Barrier(MPI_COMM_WORLD)); /* every receive posted before Rsend */
        if (!first && pre == MPI_REQUEST_NULL)
            OK(MPI_Recv(in, N, MPI_INT, left, 10 + mode, MPI_COMM_WORLD, &st));
        switch (mode) {
        case 0: OK(MPI_Send(out, N, MPI_INT, right, 10, MPI_COMM_WORLD)); break;
        case 1: OK(MPI_Ssend(out, N, MPI_INT, right, 11, MPI_COMM_WORLD)); break;
        case 2: OK(MPI_Rsend(out, N, MPI_INT, right, 12, MPI_COMM_WORLD)); break;
        case 3: OK(MPI_Bsend(out, N, MPI_INT, right, 13, MPI_COMM_WORLD)); break;
        }
        if (pre != MPI_REQUEST_NULL) OK(MPI_Wait(&pre, &st));
        else if (first) OK(MPI_Recv(in, N, MPI_INT, left, 10 + mode, MPI_COMM_WORLD, &st));
        CHECK(st.MPI_SOURCE == left && st.MPI_TAG == 10 + mode, "mode %d: source %d tag %d", mode,
              st.MPI_SOURCE, st.MPI_TAG);
        int n = -1;
        OK(MPI_Get_count(&st, MPI_INT, &n));
        CHECK(n == N, "mode %d: count %d", mode, n);
        for (int i = 0; i < N; i++)
            CHECK(in[i] == left * 100000 + mode * 1000 + i, "mode %d: in[%d] = %d", mode, i, in[i]);
        if (mode == 3) {
            void *b;
            int bs;
            OK(MPI_Buffer_detach(&b, &bs));
            CHECK(b == bbuf && bs == (int)sizeof bbuf, "detach gave %p %d", b, bs);
        }
    }

    /* A short message into a longer buffer: the count says how much came. */
    if (size > 1) {
        if (rank == 0) OK(MPI_Send(out, 3, MPI_INT, 1, 5, MPI_COMM_WORLD));
        if (rank == 1) {
            OK(MPI_Recv(in, N, MPI_INT, 0, 5, MPI_COMM_WORLD, &st));
            int n;
            OK(MPI_Get_count(&st, MPI_INT, &n));
            CHECK(n == 3, "count %d", n);
            OK(MPI_Get_count(&st, MPI_DOUBLE, &n));
            CHECK(n == MPI_UNDEFINED, "12 bytes as doubles: %d", n);
            OK(MPI_Get_elements(&st, MPI_BYTE, &n));
            CHECK(n == 12, "elements %d", n);
        }
    }

    /* A derived datatype: every other int of 2N, received as N contiguous ints. */
    {
        int strided[2 * N];
        for (int i = 0; i < 2 * N; i++) strided[i] = i % 2 ? -1 : rank * 7 + i / 2;
        MPI_Datatype vec;
        OK(MPI_Type_vector(N, 1, 2, MPI_INT, &vec));
        OK(MPI_Type_commit(&vec));
        OK(MPI_Sendrecv(strided, 1, vec, right, 20, in, N, MPI_INT, left, 20, MPI_COMM_WORLD, &st));
        for (int i = 0; i < N; i++) CHECK(in[i] == left * 7 + i, "vector: in[%d] = %d", i, in[i]);
        int n;
        OK(MPI_Get_count(&st, vec, &n));
        CHECK(n == 1, "count in vectors %d", n);
        /* and back into the strided layout */
        for (int i = 0; i < N; i++) out[i] = rank * 3 + i;
        for (int i = 0; i < 2 * N; i++) strided[i] = -5;
        OK(MPI_Sendrecv(out, N, MPI_INT, right, 21, strided, 1, vec, left, 21, MPI_COMM_WORLD, &st));
        for (int i = 0; i < 2 * N; i++)
            CHECK(strided[i] == (i % 2 ? -5 : left * 3 + i / 2), "unpacked[%d] = %d", i, strided[i]);
        OK(MPI_Type_free(&vec));
    }

    /* Sendrecv_replace around the ring, and the large-count forms. */
    for (int i = 0; i < N; i++) in[i] = rank + i;
    OK(MPI_Sendrecv_replace(in, N, MPI_INT, right, 30, left, 30, MPI_COMM_WORLD, &st));
    for (int i = 0; i < N; i++) CHECK(in[i] == left + i, "replace: in[%d] = %d", i, in[i]);
    MPI_Count cn = 0;
    OK(MPI_Sendrecv_c(out, (MPI_Count)N, MPI_INT, right, 31, in, (MPI_Count)N, MPI_INT, left, 31,
                      MPI_COMM_WORLD, &st));
    OK(MPI_Get_count_c(&st, MPI_INT, &cn));
    CHECK(cn == N, "count_c %lld", (long long)cn);
    if (size > 1) {
        if (rank == 0) OK(MPI_Send_c(out, (MPI_Count)N, MPI_INT, 1, 32, MPI_COMM_WORLD));
        if (rank == 1) OK(MPI_Recv_c(in, (MPI_Count)N, MPI_INT, 0, 32, MPI_COMM_WORLD, &st));
    }

    /* MPI_PROC_NULL: sends vanish, receives complete at once with an empty status. */
    OK(MPI_Send(out, N, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD));
    OK(MPI_Recv(in, N, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &st));
    int n = -1;
    OK(MPI_Get_count(&st, MPI_INT, &n));
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && n == 0,
          "PROC_NULL status %d %d %d", st.MPI_SOURCE, st.MPI_TAG, n);

    /* Messages to oneself are received in the order sent. */
    int selfv[3] = {0, 1, 2};
    MPI_Request selfr[3];
    for (int i = 0; i < 3; i++) OK(MPI_Isend(&selfv[i], 1, MPI_INT, rank, 40, MPI_COMM_WORLD, &selfr[i]));
    for (int i = 0; i < 3; i++) {
        int v = -1;
        OK(MPI_Recv(&v, 1, MPI_INT, MPI_ANY_SOURCE, 40, MPI_COMM_WORLD, &st));
        CHECK(v == i && st.MPI_SOURCE == rank, "self message %d: %d from %d", i, v, st.MPI_SOURCE);
    }
    OK(MPI_Waitall(3, selfr, MPI_STATUSES_IGNORE));

    /* The tag bound. */
    int *tub, flag;
    OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tub, &flag));
    CHECK(flag && *tub >= 32767, "MPI_TAG_UB");
    OK(MPI_Sendrecv(out, 1, MPI_INT, right, *tub, in, 1, MPI_INT, left, *tub, MPI_COMM_WORLD, &st));
    CHECK(st.MPI_TAG == *tub, "tag %d", st.MPI_TAG);

    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_blocking");
    OK(MPI_Finalize());
    return 0;
}
