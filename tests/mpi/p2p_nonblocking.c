/* Non-blocking point-to-point and the wait/test family: Isend/Issend/Irsend/Ibsend/Irecv,
 * Wait, Test, Waitall/any/some, Testall/any/some, Request_get_status(_all/_any/_some),
 * Request_free of an active send, Isendrecv(_replace), null and inactive requests. Any number
 * of processes. */
#include "check.h"

#define N 256
#define K 4

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    static int out[K][N], in[K][N];
    MPI_Request r[2 * K];
    MPI_Status st[2 * K];

    /* K messages each way in every send mode, completed by Waitall. */
    char bbuf[K * (N * sizeof(int) + MPI_BSEND_OVERHEAD)];
    OK(MPI_Buffer_attach(bbuf, sizeof bbuf));
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < N; i++) out[k][i] = rank * 1000 + k * 100 + i % 100;
        OK(MPI_Irecv(in[k], N, MPI_INT, left, k, MPI_COMM_WORLD, &r[k]));
    }
    OK(MPI_Barrier(MPI_COMM_WORLD)); /* receives posted: Irsend is allowed */
    OK(MPI_Isend(out[0], N, MPI_INT, right, 0, MPI_COMM_WORLD, &r[K + 0]));
    OK(MPI_Issend(out[1], N, MPI_INT, right, 1, MPI_COMM_WORLD, &r[K + 1]));
    OK(MPI_Irsend(out[2], N, MPI_INT, right, 2, MPI_COMM_WORLD, &r[K + 2]));
    OK(MPI_Ibsend(out[3], N, MPI_INT, right, 3, MPI_COMM_WORLD, &r[K + 3]));
    OK(MPI_Waitall(2 * K, r, st));
    for (int k = 0; k < K; k++) {
        CHECK(r[k] == MPI_REQUEST_NULL && r[K + k] == MPI_REQUEST_NULL, "requests freed");
        CHECK(st[k].MPI_SOURCE == left && st[k].MPI_TAG == k, "status %d: %d %d", k,
              st[k].MPI_SOURCE, st[k].MPI_TAG);
        for (int i = 0; i < N; i++)
            CHECK(in[k][i] == left * 1000 + k * 100 + i % 100, "in[%d][%d] = %d", k, i, in[k][i]);
    }
    void *b;
    int bs;
    OK(MPI_Buffer_detach(&b, &bs));

    /* Waitany and Waitsome until everything is done; each index reported once. */
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < K; k++) {
            OK(MPI_Irecv(in[k], N, MPI_INT, MPI_ANY_SOURCE, 50 + k, MPI_COMM_WORLD, &r[k]));
            OK(MPI_Isend(out[k], N, MPI_INT, right, 50 + k, MPI_COMM_WORLD, &r[K + k]));
        }
        int seen[2 * K] = {0}, left_n = 2 * K;
        while (left_n > 0) {
            if (round == 0) {
                int idx = -1;
                OK(MPI_Waitany(2 * K, r, &idx, &st[0]));
                CHECK(idx >= 0 && idx < 2 * K && !seen[idx], "waitany index %d", idx);
                CHECK(r[idx] == MPI_REQUEST_NULL, "completed request nulled");
                if (idx < K) CHECK(st[0].MPI_SOURCE == left && st[0].MPI_TAG == 50 + idx, "status");
                seen[idx] = 1;
                left_n--;
            } else {
                int outc = -1, idx[2 * K];
                OK(MPI_Waitsome(2 * K, r, &outc, idx, st));
                CHECK(outc >= 1 && outc <= left_n, "waitsome outcount %d", outc);
                for (int j = 0; j < outc; j++) {
                    CHECK(!seen[idx[j]], "index %d twice", idx[j]);
                    seen[idx[j]] = 1;
                }
                left_n -= outc;
            }
        }
        int idx = 7;
        OK(MPI_Waitany(2 * K, r, &idx, &st[0])); /* all null now */
        CHECK(idx == MPI_UNDEFINED, "waitany of nulls gave %d", idx);
        int outc = 0;
        OK(MPI_Waitsome(2 * K, r, &outc, &idx, st));
        CHECK(outc == MPI_UNDEFINED, "waitsome of nulls gave %d", outc);
    }

    /* Test, Testall, Testany, Testsome, Request_get_status: a receive that cannot complete
     * until the peer sends after a barrier. */
    {
        int v = -1, w = rank, flag = 1;
        MPI_Request rr;
        OK(MPI_Irecv(&v, 1, MPI_INT, left, 60, MPI_COMM_WORLD, &rr));
        OK(MPI_Test(&rr, &flag, &st[0]));
        CHECK(!flag && rr != MPI_REQUEST_NULL, "test before the send");
        OK(MPI_Testall(1, &rr, &flag, st));
        CHECK(!flag && rr != MPI_REQUEST_NULL, "testall before the send");
        int idx = 5, outc = 5;
        OK(MPI_Testany(1, &rr, &idx, &flag, &st[0]));
        CHECK(!flag && idx == MPI_UNDEFINED, "testany before the send");
        OK(MPI_Testsome(1, &rr, &outc, &idx, st));
        CHECK(outc == 0, "testsome before the send: %d", outc);
        OK(MPI_Request_get_status(rr, &flag, &st[0]));
        CHECK(!flag, "get_status before the send");
        OK(MPI_Barrier(MPI_COMM_WORLD));
        OK(MPI_Send(&w, 1, MPI_INT, right, 60, MPI_COMM_WORLD));
        do {
            OK(MPI_Request_get_status(rr, &flag, &st[0]));
        } while (!flag);
        CHECK(rr != MPI_REQUEST_NULL && st[0].MPI_SOURCE == left, "get_status leaves the request");
        OK(MPI_Request_get_status_all(1, &rr, &flag, st));
        CHECK(flag, "get_status_all");
        OK(MPI_Request_get_status_any(1, &rr, &idx, &flag, &st[0]));
        CHECK(flag && idx == 0, "get_status_any");
        OK(MPI_Request_get_status_some(1, &rr, &outc, &idx, st));
        CHECK(outc == 1 && idx == 0, "get_status_some");
        OK(MPI_Test(&rr, &flag, &st[0]));
        CHECK(flag && rr == MPI_REQUEST_NULL && v == left, "test after: %d %d", flag, v);
        OK(MPI_Test(&rr, &flag, &st[0])); /* a null request: complete, empty status */
        CHECK(flag && st[0].MPI_SOURCE == MPI_ANY_SOURCE && st[0].MPI_TAG == MPI_ANY_TAG,
              "null request status");
        OK(MPI_Wait(&rr, MPI_STATUS_IGNORE));
        /* no active request: index MPI_UNDEFINED, flag set and the empty status, whole (its
         * MPI_ERROR is MPI_SUCCESS, MPI-4.1 section 3.7.3) */
        MPI_Request nulls[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
        st[0].MPI_ERROR = MPI_ERR_OTHER;
        st[0].MPI_SOURCE = st[0].MPI_TAG = 0;
        OK(MPI_Request_get_status_any(2, nulls, &idx, &flag, &st[0]));
        CHECK(flag && idx == MPI_UNDEFINED, "get_status_any of null requests: %d %d", flag, idx);
        CHECK(st[0].MPI_SOURCE == MPI_ANY_SOURCE && st[0].MPI_TAG == MPI_ANY_TAG &&
                  st[0].MPI_ERROR == MPI_SUCCESS,
              "get_status_any of null requests: source %d tag %d error %d", st[0].MPI_SOURCE,
              st[0].MPI_TAG, st[0].MPI_ERROR);
    }

    /* Request_free of an active send: the message still arrives. */
    {
        int v = rank + 500, got = -1;
        MPI_Request sr;
        OK(MPI_Isend(&v, 1, MPI_INT, right, 70, MPI_COMM_WORLD, &sr));
        OK(MPI_Request_free(&sr));
        CHECK(sr == MPI_REQUEST_NULL, "freed");
        OK(MPI_Recv(&got, 1, MPI_INT, left, 70, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(got == left + 500, "freed send delivered %d", got);
    }

    /* Isendrecv and Isendrecv_replace. */
    {
        int a = rank, c = -1, d = rank * 2;
        MPI_Request q[2];
        OK(MPI_Isendrecv(&a, 1, MPI_INT, right, 80, &c, 1, MPI_INT, left, 80, MPI_COMM_WORLD, &q[0]));
        OK(MPI_Isendrecv_replace(&d, 1, MPI_INT, right, 81, left, 81, MPI_COMM_WORLD, &q[1]));
        OK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE));
        CHECK(c == left && d == left * 2, "isendrecv %d %d", c, d);
    }

    /* A request handle as an integer and back (MPI_Request_toint/fromint). */
    {
        int v = rank, got = -1;
        MPI_Request q[2];
        OK(MPI_Irecv(&got, 1, MPI_INT, left, 90, MPI_COMM_WORLD, &q[0]));
        int as_int = MPI_Request_toint(q[0]);
        q[0] = MPI_Request_fromint(as_int);
        CHECK(MPI_Request_fromint(MPI_Request_toint(MPI_REQUEST_NULL)) == MPI_REQUEST_NULL,
              "null request round trip");
        OK(MPI_Isend(&v, 1, MPI_INT, right, 90, MPI_COMM_WORLD, &q[1]));
        OK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE));
        CHECK(got == left, "request from an int: %d", got);
    }

    /* MPI_PROC_NULL requests complete at once. */
    {
        int flag = 0;
        MPI_Request q;
        OK(MPI_Irecv(in[0], N, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &q));
        OK(MPI_Test(&q, &flag, &st[0]));
        CHECK(flag && st[0].MPI_SOURCE == MPI_PROC_NULL, "PROC_NULL irecv");
        OK(MPI_Isend(out[0], N, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &q));
        OK(MPI_Wait(&q, MPI_STATUS_IGNORE));
    }

    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_nonblocking");
    OK(MPI_Finalize());
    return 0;
}
