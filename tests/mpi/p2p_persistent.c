/* Persistent requests: Send_init/Ssend_init/Bsend_init/Rsend_init/Recv_init started many
 * times with Start and Startall, inactive requests in Wait and Test, MPI_PROC_NULL, freeing.
 * Any number of processes (a ring). */
#include "check.h"

#define N 64
#define ROUNDS 5

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int out[4][N], in[4][N];
    MPI_Request r[8];
    MPI_Status st[8];
    char bbuf[N * sizeof(int) + MPI_BSEND_OVERHEAD];
    OK(MPI_Buffer_attach(bbuf, sizeof bbuf));
    for (int k = 0; k < 4; k++) OK(MPI_Recv_init(in[k], N, MPI_INT, left, k, MPI_COMM_WORLD, &r[k]));
    OK(MPI_Send_init(out[0], N, MPI_INT, right, 0, MPI_COMM_WORLD, &r[4]));
    OK(MPI_Ssend_init(out[1], N, MPI_INT, right, 1, MPI_COMM_WORLD, &r[5]));
    OK(MPI_Bsend_init(out[2], N, MPI_INT, right, 2, MPI_COMM_WORLD, &r[6]));
    OK(MPI_Rsend_init(out[3], N, MPI_INT, right, 3, MPI_COMM_WORLD, &r[7]));

    /* Not started: inactive, Wait and Test return at once with an empty status. */
    int flag = 0;
    OK(MPI_Wait(&r[0], &st[0]));
    CHECK(r[0] != MPI_REQUEST_NULL && st[0].MPI_TAG == MPI_ANY_TAG, "inactive wait");
    OK(MPI_Test(&r[4], &flag, &st[0]));
    CHECK(flag && r[4] != MPI_REQUEST_NULL, "inactive test");

    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < N; i++) out[k][i] = round * 10000 + rank * 100 + k * 10 + i % 10;
        memset(in, 0, sizeof in);
        OK(MPI_Startall(4, r));
        OK(MPI_Barrier(MPI_COMM_WORLD)); /* receives started: Rsend is allowed */
        if (round % 2) {
            OK(MPI_Startall(4, &r[4]));
        } else {
            for (int k = 4; k < 8; k++) OK(MPI_Start(&r[k]));
        }
        OK(MPI_Waitall(8, r, st));
        for (int k = 0; k < 8; k++) CHECK(r[k] != MPI_REQUEST_NULL, "persistent request kept");
        for (int k = 0; k < 4; k++) {
            CHECK(st[k].MPI_SOURCE == left && st[k].MPI_TAG == k, "round %d status %d", round, k);
            for (int i = 0; i < N; i++)
                CHECK(in[k][i] == round * 10000 + left * 100 + k * 10 + i % 10,
                      "round %d in[%d][%d] = %d", round, k, i, in[k][i]);
        }
    }
    for (int k = 0; k < 8; k++) {
        OK(MPI_Request_free(&r[k]));
        CHECK(r[k] == MPI_REQUEST_NULL, "freed");
    }

    /* To and from MPI_PROC_NULL. */
    MPI_Request p[2];
    OK(MPI_Send_init(out[0], N, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &p[0]));
    OK(MPI_Recv_init(in[0], N, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &p[1]));
    for (int round = 0; round < 2; round++) {
        OK(MPI_Startall(2, p));
        OK(MPI_Waitall(2, p, st));
        int n = -1;
        OK(MPI_Get_count(&st[1], MPI_INT, &n));
        CHECK(n == 0 && p[0] != MPI_REQUEST_NULL, "PROC_NULL persistent receive: count %d", n);
    }
    OK(MPI_Request_free(&p[0]));
    OK(MPI_Request_free(&p[1]));

    void *b;
    int bs;
    OK(MPI_Buffer_detach(&b, &bs));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_persistent");
    OK(MPI_Finalize());
    return 0;
}
