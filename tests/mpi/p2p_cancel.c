/* Cancel: a receive no message matches is withdrawn (Test_cancelled true, the buffer
 * untouched, a later message goes to the next receive); a completed send is not cancelled;
 * a persistent receive cancelled and started again. Statuses set by hand (Status_set_*).
 * Any number of processes. */
#include "check.h"

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    MPI_Status st;
    int flag;

    /* A receive nobody sends to, cancelled. */
    int v = -7;
    MPI_Request r;
    OK(MPI_Irecv(&v, 1, MPI_INT, left, 99, MPI_COMM_WORLD, &r));
    OK(MPI_Cancel(&r));
    OK(MPI_Wait(&r, &st));
    OK(MPI_Test_cancelled(&st, &flag));
    CHECK(flag && v == -7 && r == MPI_REQUEST_NULL, "cancelled receive: flag %d v %d", flag, v);

    /* Then a message with that tag (sent after everyone cancelled) goes to the next receive. */
    OK(MPI_Barrier(MPI_COMM_WORLD));
    int w = rank;
    OK(MPI_Sendrecv(&w, 1, MPI_INT, right, 99, &v, 1, MPI_INT, left, 99, MPI_COMM_WORLD, &st));
    CHECK(v == left, "after cancel: %d", v);

    /* A completed send: cancel does nothing. */
    OK(MPI_Isend(&w, 1, MPI_INT, right, 98, MPI_COMM_WORLD, &r));
    OK(MPI_Recv(&v, 1, MPI_INT, left, 98, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    OK(MPI_Cancel(&r));
    OK(MPI_Wait(&r, &st));
    OK(MPI_Test_cancelled(&st, &flag));
    CHECK(!flag && v == left, "delivered send not cancelled: flag %d", flag);

    /* A persistent receive: cancelled, then started again and matched. */
    MPI_Request p;
    OK(MPI_Recv_init(&v, 1, MPI_INT, left, 97, MPI_COMM_WORLD, &p));
    OK(MPI_Start(&p));
    OK(MPI_Cancel(&p));
    OK(MPI_Wait(&p, &st));
    OK(MPI_Test_cancelled(&st, &flag));
    CHECK(flag && p != MPI_REQUEST_NULL, "persistent cancelled");
    OK(MPI_Barrier(MPI_COMM_WORLD)); /* every rank cancelled before anyone sends tag 97 */
    OK(MPI_Start(&p));
    OK(MPI_Send(&w, 1, MPI_INT, right, 97, MPI_COMM_WORLD));
    OK(MPI_Wait(&p, &st));
    OK(MPI_Test_cancelled(&st, &flag));
    CHECK(!flag && v == left && st.MPI_SOURCE == left, "persistent after cancel: %d", v);
    OK(MPI_Request_free(&p));

    /* Statuses by hand. */
    MPI_Status s;
    int n;
    MPI_Count c;
    OK(MPI_Status_set_elements(&s, MPI_DOUBLE, 5));
    OK(MPI_Get_count(&s, MPI_DOUBLE, &n));
    CHECK(n == 5, "set_elements then get_count %d", n);
    OK(MPI_Get_elements(&s, MPI_BYTE, &n));
    CHECK(n == 40, "40 bytes: %d", n);
    OK(MPI_Status_set_elements_x(&s, MPI_INT, (MPI_Count)3));
    OK(MPI_Get_elements_x(&s, MPI_INT, &c));
    CHECK(c == 3, "elements_x %lld", (long long)c);
    MPI_Datatype pair;
    OK(MPI_Type_contiguous(2, MPI_INT, &pair));
    OK(MPI_Type_commit(&pair));
    OK(MPI_Status_set_elements(&s, pair, 3)); /* one and a half pairs */
    OK(MPI_Get_count(&s, pair, &n));
    CHECK(n == MPI_UNDEFINED, "1.5 pairs: count %d", n);
    OK(MPI_Get_elements(&s, pair, &n));
    CHECK(n == 3, "1.5 pairs: elements %d", n);
    OK(MPI_Type_free(&pair));
    OK(MPI_Status_set_cancelled(&s, 1));
    OK(MPI_Test_cancelled(&s, &flag));
    CHECK(flag, "set_cancelled");
    OK(MPI_Status_set_cancelled(&s, 0));
    OK(MPI_Test_cancelled(&s, &flag));
    CHECK(!flag, "set_cancelled 0");
    OK(MPI_Status_set_source(&s, 3));
    OK(MPI_Status_set_tag(&s, 4));
    OK(MPI_Status_set_error(&s, MPI_ERR_TAG));
    int a, b, e;
    OK(MPI_Status_get_source(&s, &a));
    OK(MPI_Status_get_tag(&s, &b));
    OK(MPI_Status_get_error(&s, &e));
    CHECK(a == 3 && b == 4 && e == MPI_ERR_TAG, "status fields %d %d %d", a, b, e);

    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_cancel");
    OK(MPI_Finalize());
    return 0;
}
