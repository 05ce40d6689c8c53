/* Buffered sends: Buffer_attach/detach (address and size back), Bsend and Ibsend within the
 * attached space, Buffer_flush, and the errors: no buffer, a message larger than the buffer.
 * Any number of processes (a ring). */
#include "check.h"

#define N 100
#define K 8

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int out[K][N], in[N];

    /* No buffer attached. */
    int rc = MPI_Bsend(out[0], N, MPI_INT, right, 1, MPI_COMM_WORLD);
    CHECK(class_of(rc) == MPI_ERR_BUFFER, "bsend without a buffer: class %d", class_of(rc));

    /* Room for K messages: K buffered sends in a row, then the receives. */
    int room = K * (N * (int)sizeof(int) + MPI_BSEND_OVERHEAD);
    char *buf = malloc(room);
    OK(MPI_Buffer_attach(buf, room));
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < N; i++) out[k][i] = rank * 1000 + k * 10 + i % 10;
        if (k % 2) {
            MPI_Request r;
            OK(MPI_Ibsend(out[k], N, MPI_INT, right, 2, MPI_COMM_WORLD, &r));
            OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        } else {
            OK(MPI_Bsend(out[k], N, MPI_INT, right, 2, MPI_COMM_WORLD));
        }
        for (int i = 0; i < N; i++) out[k][i] = -1; /* the data was copied */
    }
    for (int k = 0; k < K; k++) {
        OK(MPI_Recv(in, N, MPI_INT, left, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        for (int i = 0; i < N; i++)
            CHECK(in[i] == left * 1000 + k * 10 + i % 10, "message %d: in[%d] = %d", k, i, in[i]);
    }
    OK(MPI_Buffer_flush());
    MPI_Request flush_req;
    OK(MPI_Buffer_iflush(&flush_req));
    int fdone = 0;
    while (!fdone) OK(MPI_Test(&flush_req, &fdone, MPI_STATUS_IGNORE));

    /* Larger than the whole buffer: MPI_ERR_BUFFER (MPICH may send it anyway, from memory
     * of its own; then it is received). */
    static int big[K * N * 2];
    rc = MPI_Bsend(big, K * N * 2, MPI_INT, right, 3, MPI_COMM_WORLD);
    CHECK(rc == MPI_SUCCESS || class_of(rc) == MPI_ERR_BUFFER, "bsend larger than the buffer: class %d",
          class_of(rc));
    int sent = rc == MPI_SUCCESS, all_sent = -1;
    OK(MPI_Allreduce(&sent, &all_sent, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    if (all_sent) OK(MPI_Recv(big, K * N * 2, MPI_INT, left, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    if (rank == 0 && rc != MPI_SUCCESS) {
        char s[MPI_MAX_ERROR_STRING];
        int l;
        MPI_Error_string(rc, s, &l);
        printf("MSG bsend_too_big: %s\n", s);
    }

    void *back;
    int bs;
    OK(MPI_Buffer_detach(&back, &bs));
    CHECK(back == buf && bs == room, "detach: %p %d", back, bs);
    OK(MPI_Buffer_detach(&back, &bs));
    CHECK(back == NULL && bs == 0, "detach with nothing attached: %p %d", back, bs);
    free(buf);

    /* A communicator's own buffer is used for sends on it; the process has none now. */
    MPI_Comm dup;
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    OK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN));
    char cbuf[N * sizeof(int) + MPI_BSEND_OVERHEAD];
    OK(MPI_Comm_attach_buffer(dup, cbuf, sizeof cbuf));
    OK(MPI_Bsend(out[0], N, MPI_INT, right, 4, dup));
    rc = MPI_Bsend(out[0], N, MPI_INT, right, 4, MPI_COMM_WORLD);
    CHECK(class_of(rc) == MPI_ERR_BUFFER, "world has no buffer: class %d", class_of(rc));
    OK(MPI_Recv(in, N, MPI_INT, left, 4, dup, MPI_STATUS_IGNORE));
    MPI_Request fr;
    OK(MPI_Comm_iflush_buffer(dup, &fr));
    OK(MPI_Wait(&fr, MPI_STATUS_IGNORE));
    OK(MPI_Comm_flush_buffer(dup));
    OK(MPI_Comm_detach_buffer(dup, &back, &bs));
    CHECK(back == cbuf && bs == (int)sizeof cbuf, "comm detach: %p %d", back, bs);
    OK(MPI_Comm_free(&dup));

    /* MPI_BUFFER_AUTOMATIC: the library finds the room. */
    OK(MPI_Buffer_attach(MPI_BUFFER_AUTOMATIC, 0));
    for (int k = 0; k < K; k++) OK(MPI_Bsend(out[k], N, MPI_INT, right, 6, MPI_COMM_WORLD));
    for (int k = 0; k < K; k++) OK(MPI_Recv(in, N, MPI_INT, left, 6, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    OK(MPI_Buffer_detach(&back, &bs));
    CHECK(back == MPI_BUFFER_AUTOMATIC, "automatic detach: %p", back);

    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("p2p_bsend");
    OK(MPI_Finalize());
    return 0;
}
