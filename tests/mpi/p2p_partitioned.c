/* Partitioned point-to-point (MPI-4): Psend_init/Precv_init around a ring, started several
 * times, partitions marked ready one at a time, by range and by list (in any order), Parrived
 * polled until every partition arrived; MPI_PROC_NULL; Pready of a partition out of range is
 * an error. Any number of processes. */
#include "check.h"

#define P 4
#define C 50

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int out[P * C], in[P * C];
    MPI_Request s, r;
    OK(MPI_Precv_init(in, P, C, MPI_INT, left, 5, MPI_COMM_WORLD, MPI_INFO_NULL, &r));
    OK(MPI_Psend_init(out, P, C, MPI_INT, right, 5, MPI_COMM_WORLD, MPI_INFO_NULL, &s));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < P * C; i++) out[i] = round * 100000 + rank * 1000 + i;
        memset(in, 0, sizeof in);
        OK(MPI_Start(&r));
        OK(MPI_Start(&s));
        if (round == 0) {
            for (int p = P - 1; p >= 0; p--) OK(MPI_Pready(p, s));
        } else if (round == 1) {
            OK(MPI_Pready_range(0, P - 1, s));
        } else {
            int list[P];
            for (int p = 0; p < P; p++) list[p] = (p * 3) % P;
            OK(MPI_Pready_list(P, list, s));
        }
        int arrived = 0;
        double t0 = MPI_Wtime();
        while (!arrived && MPI_Wtime() - t0 < 60) {
            arrived = 1;
            for (int p = 0; p < P; p++) {
                int f = 0;
                OK(MPI_Parrived(r, p, &f));
                arrived &= f;
            }
        }
        CHECK(arrived, "round %d: partitions never arrived", round);
        MPI_Status st[2];
        MPI_Request both[2] = {s, r};
        OK(MPI_Waitall(2, both, st));
        CHECK(both[0] == s && both[1] == r, "partitioned requests are persistent");
        for (int i = 0; i < P * C; i++)
            CHECK(in[i] == round * 100000 + left * 1000 + i, "round %d: in[%d] = %d", round, i, in[i]);
    }
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    OK(MPI_Start(&r));
    OK(MPI_Start(&s));
    int rc = MPI_Pready(P, s);
    CHECK(rc != MPI_SUCCESS, "Pready of partition %d accepted", P);
    OK(MPI_Pready_range(0, P - 1, s));
    OK(MPI_Wait(&s, MPI_STATUS_IGNORE));
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    OK(MPI_Request_free(&s));
    OK(MPI_Request_free(&r));

    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_partitioned");
    OK(MPI_Finalize());
    return 0;
}
