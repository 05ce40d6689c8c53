/* Errors under MPI_ERRORS_RETURN: truncation (the message is consumed; the next one is fine),
 * MPI_ERR_IN_STATUS from Waitall with each request's code in its status, bad ranks, tags,
 * counts, communicators, datatypes and requests. Rank 0 prints each message as
 * "MSG <what>: <string>" (the test driver checks libfmi's name the procedure). Any number of
 * processes. */
#include "check.h"

static void msg(int rank, const char *what, int rc) {
    if (rank != 0) return;
    char s[MPI_MAX_ERROR_STRING];
    int l = 0;
    s[0] = 0;
    MPI_Error_string(rc, s, &l);
    printf("MSG %s: %s\n", what, s);
    fflush(stdout);
}

#define EXPECT(what, call, cls)                                                               \
    do {                                                                                      \
        int rc_ = (call);                                                                     \
        CHECK(class_of(rc_) == (cls), "%s: rc %d class %d, want %d", what, rc_, class_of(rc_), \
              cls);                                                                           \
        msg(rank, what, rc_);                                                                 \
    } while (0)

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int out[8] = {1, 2, 3, 4, 5, 6, 7, 8}, in[8];
    MPI_Status st[2];

    /* Truncation: 8 ints into room for 4. */
    MPI_Request sr;
    OK(MPI_Isend(out, 8, MPI_INT, right, 1, MPI_COMM_WORLD, &sr));
    EXPECT("truncate", MPI_Recv(in, 4, MPI_INT, left, 1, MPI_COMM_WORLD, &st[0]), MPI_ERR_TRUNCATE);
    OK(MPI_Wait(&sr, MPI_STATUS_IGNORE));
    OK(MPI_Sendrecv(out, 2, MPI_INT, right, 1, in, 8, MPI_INT, left, 1, MPI_COMM_WORLD, &st[0]));
    int n;
    OK(MPI_Get_count(&st[0], MPI_INT, &n));
    CHECK(n == 2 && in[0] == 1 && in[1] == 2, "after truncation: count %d", n);

    /* Waitall: one request truncated, one fine. */
    MPI_Request r[2];
    OK(MPI_Irecv(in, 2, MPI_INT, left, 2, MPI_COMM_WORLD, &r[0]));
    OK(MPI_Irecv(in + 4, 4, MPI_INT, left, 3, MPI_COMM_WORLD, &r[1]));
    OK(MPI_Send(out, 3, MPI_INT, right, 2, MPI_COMM_WORLD));
    OK(MPI_Send(out, 4, MPI_INT, right, 3, MPI_COMM_WORLD));
    st[0].MPI_ERROR = st[1].MPI_ERROR = -1;
    EXPECT("waitall", MPI_Waitall(2, r, st), MPI_ERR_IN_STATUS);
    /* The other one completed (MPI_SUCCESS), or was left pending (MPICH stops at the first
     * error). */
    CHECK(class_of(st[0].MPI_ERROR) == MPI_ERR_TRUNCATE &&
              (st[1].MPI_ERROR == MPI_SUCCESS || st[1].MPI_ERROR == MPI_ERR_PENDING),
          "statuses' errors %d %d", st[0].MPI_ERROR, st[1].MPI_ERROR);
    msg(rank, "in_status", st[0].MPI_ERROR);
    if (st[1].MPI_ERROR == MPI_ERR_PENDING) OK(MPI_Wait(&r[1], MPI_STATUS_IGNORE));
    CHECK(r[1] == MPI_REQUEST_NULL, "the completed request is freed");
    CHECK(in[4] == 1 && in[7] == 4, "the fine one arrived");

    /* Bad arguments. */
    EXPECT("rank", MPI_Send(out, 1, MPI_INT, size, 0, MPI_COMM_WORLD), MPI_ERR_RANK);
    EXPECT("negative_rank", MPI_Send(out, 1, MPI_INT, -5, 0, MPI_COMM_WORLD), MPI_ERR_RANK);
    EXPECT("recv_rank", MPI_Recv(in, 1, MPI_INT, size + 2, 0, MPI_COMM_WORLD, st), MPI_ERR_RANK);
    EXPECT("tag", MPI_Send(out, 1, MPI_INT, right, -7, MPI_COMM_WORLD), MPI_ERR_TAG);
    int *tub, flag;
    OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tub, &flag));
    if (*tub < 0x7fffffff)
        EXPECT("tag_ub", MPI_Send(out, 1, MPI_INT, right, *tub + 1, MPI_COMM_WORLD), MPI_ERR_TAG);
    EXPECT("count", MPI_Send(out, -1, MPI_INT, right, 0, MPI_COMM_WORLD), MPI_ERR_COUNT);
    EXPECT("comm", MPI_Send(out, 1, MPI_INT, right, 0, MPI_COMM_NULL), MPI_ERR_COMM);
    EXPECT("type", MPI_Send(out, 1, MPI_DATATYPE_NULL, right, 0, MPI_COMM_WORLD), MPI_ERR_TYPE);
    MPI_Datatype loose;
    OK(MPI_Type_contiguous(2, MPI_INT, &loose));
    EXPECT("uncommitted", MPI_Send(out, 1, loose, right, 0, MPI_COMM_WORLD), MPI_ERR_TYPE);
    OK(MPI_Type_free(&loose));
    EXPECT("irecv_tag", MPI_Irecv(in, 1, MPI_INT, left, -3, MPI_COMM_WORLD, &r[0]), MPI_ERR_TAG);
    MPI_Request nonpersistent;
    OK(MPI_Irecv(in, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &nonpersistent));
    int rc = MPI_Start(&nonpersistent);
    CHECK(rc != MPI_SUCCESS, "start of a non-persistent request");
    msg(rank, "start", rc);
    OK(MPI_Wait(&nonpersistent, MPI_STATUS_IGNORE));

    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_errors");
    OK(MPI_Finalize());
    return 0;
}
