/* MPI-4 sessions inside an initialized MPI (mpi://WORLD and mpi://SELF, their info and groups,
 * MPI_Comm_create_from_group, the session's info and error handler) and MPI_Alloc_mem /
 * MPI_Free_mem. Runs unchanged on MPICH and on libfmi. */
#include "check.h"

static int session_errors = 0;
static void on_session_error(MPI_Session *s, int *code, ...) {
    (void)s;
    (void)code;
    session_errors++;
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));

    MPI_Session s = MPI_SESSION_NULL;
    OK(MPI_Session_init(MPI_INFO_NULL, MPI_ERRORS_RETURN, &s));
    CHECK(s != MPI_SESSION_NULL, "no session");

    /* the process sets: both standard names are there */
    int npsets = 0, world = 0, self = 0;
    OK(MPI_Session_get_num_psets(s, MPI_INFO_NULL, &npsets));
    CHECK(npsets >= 2, "%d process sets", npsets);
    for (int i = 0; i < npsets; i++) {
        int len = 0;
        OK(MPI_Session_get_nth_pset(s, MPI_INFO_NULL, i, &len, NULL));
        CHECK(len > 1 && len <= MPI_MAX_PSET_NAME_LEN, "pset %d: length %d", i, len);
        char name[MPI_MAX_PSET_NAME_LEN];
        OK(MPI_Session_get_nth_pset(s, MPI_INFO_NULL, i, &len, name));
        CHECK((int)strlen(name) == len - 1, "pset %d: '%s' is not %d long", i, name, len - 1);
        world += strcmp(name, "mpi://WORLD") == 0;
        self += strcmp(name, "mpi://SELF") == 0;
    }
    CHECK(world == 1 && self == 1, "mpi://WORLD seen %d times, mpi://SELF %d", world, self);

    /* mpi_size of each process set */
    const char *names[2] = {"mpi://WORLD", "mpi://SELF"};
    int sizes[2] = {size, 1};
    for (int i = 0; i < 2; i++) {
        MPI_Info info;
        char v[64];
        int vlen = sizeof v, flag = 0;
        OK(MPI_Session_get_pset_info(s, names[i], &info));
        OK(MPI_Info_get_string(info, "mpi_size", &vlen, v, &flag));
        CHECK(flag && atoi(v) == sizes[i], "%s: mpi_size '%s', expected %d", names[i], v,
              sizes[i]);
        OK(MPI_Info_free(&info));
    }

    /* groups of the process sets, and communicators made from them */
    MPI_Group gw, gs, wg;
    int res;
    OK(MPI_Group_from_session_pset(s, "mpi://WORLD", &gw));
    OK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    OK(MPI_Group_compare(gw, wg, &res));
    CHECK(res == MPI_IDENT, "mpi://WORLD's group is not MPI_COMM_WORLD's (%d)", res);
    OK(MPI_Group_from_session_pset(s, "mpi://SELF", &gs));
    int gsize = 0, grank = -1;
    OK(MPI_Group_size(gs, &gsize));
    OK(MPI_Group_rank(gs, &grank));
    CHECK(gsize == 1 && grank == 0, "mpi://SELF: size %d rank %d", gsize, grank);

    MPI_Comm cw, cs;
    OK(MPI_Comm_create_from_group(gw, "org.libfmi.test.world", MPI_INFO_NULL, MPI_ERRORS_RETURN,
                                  &cw));
    int r = -1, n = 0;
    OK(MPI_Comm_rank(cw, &r));
    OK(MPI_Comm_size(cw, &n));
    CHECK(r == rank && n == size, "comm from mpi://WORLD: rank %d size %d", r, n);
    int mine = rank + 1, sum = 0;
    OK(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, cw));
    CHECK(sum == size * (size + 1) / 2, "allreduce on it gave %d", sum);
    MPI_Errhandler eh;
    OK(MPI_Comm_get_errhandler(cw, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "its error handler is not the one given");
    OK(MPI_Errhandler_free(&eh));
    OK(MPI_Comm_free(&cw));
    /* the same string tag again makes a new communicator */
    OK(MPI_Comm_create_from_group(gw, "org.libfmi.test.world", MPI_INFO_NULL, MPI_ERRORS_RETURN,
                                  &cw));
    OK(MPI_Barrier(cw));
    OK(MPI_Comm_free(&cw));
    OK(MPI_Comm_create_from_group(gs, "org.libfmi.test.self", MPI_INFO_NULL, MPI_ERRORS_RETURN,
                                  &cs));
    OK(MPI_Comm_size(cs, &n));
    CHECK(n == 1, "comm from mpi://SELF has %d processes", n);

    /* the session's buffer serves buffered sends on a communicator derived from the session
     * (no process or communicator buffer is attached) */
    {
        int bsize = 4 * (int)sizeof(int) + MPI_BSEND_OVERHEAD;
        char *buf = malloc(bsize);
        OK(MPI_Session_attach_buffer(s, buf, bsize));
        int v[4] = {1, 2, 3, 4}, got[4] = {0};
        OK(MPI_Bsend(v, 4, MPI_INT, 0, 5, cs));
        OK(MPI_Recv(got, 4, MPI_INT, 0, 5, cs, MPI_STATUS_IGNORE));
        CHECK(got[0] == 1 && got[3] == 4, "bsend through the session's buffer: %d %d", got[0],
              got[3]);
        MPI_Comm csd;
        OK(MPI_Comm_dup(cs, &csd));
        OK(MPI_Bsend(v, 4, MPI_INT, 0, 6, csd));
        OK(MPI_Recv(got, 4, MPI_INT, 0, 6, csd, MPI_STATUS_IGNORE));
        OK(MPI_Comm_free(&csd));
        OK(MPI_Session_flush_buffer(s));
        MPI_Request fr;
        OK(MPI_Session_iflush_buffer(s, &fr));
        OK(MPI_Wait(&fr, MPI_STATUS_IGNORE));
        void *back = NULL;
        int backsize = 0;
        OK(MPI_Session_detach_buffer(s, &back, &backsize));
        CHECK(back == buf && backsize == bsize, "detached %p/%d, attached %p/%d", back, backsize,
              (void *)buf, bsize);
        /* without it, a buffered send on that communicator has no buffer */
        int rcb = MPI_Bsend(v, 4, MPI_INT, 0, 7, cs);
        CHECK(rcb != MPI_SUCCESS && class_of(rcb) == MPI_ERR_BUFFER,
              "bsend with no buffer attached: %d (class %d)", rcb, class_of(rcb));
        MPI_Count cbsize = 0;
        OK(MPI_Session_attach_buffer(s, MPI_BUFFER_AUTOMATIC, 0));
        OK(MPI_Session_detach_buffer_c(s, &back, &cbsize));
        CHECK(back == MPI_BUFFER_AUTOMATIC, "automatic buffer not given back");
        free(buf);
    }
    OK(MPI_Comm_free(&cs));
    OK(MPI_Group_free(&gw));
    OK(MPI_Group_free(&gs));
    OK(MPI_Group_free(&wg));

    /* an unknown process set is an error returned through the session's handler */
    MPI_Group bad;
    int rc = MPI_Group_from_session_pset(s, "mpi://NOWHERE", &bad);
    CHECK(rc != MPI_SUCCESS, "mpi://NOWHERE gave a group");

    /* the session's info and error handler */
    MPI_Info used;
    OK(MPI_Session_get_info(s, &used));
    OK(MPI_Info_free(&used));
    MPI_Errhandler seh, got;
    OK(MPI_Session_create_errhandler(on_session_error, &seh));
    OK(MPI_Session_set_errhandler(s, seh));
    OK(MPI_Session_get_errhandler(s, &got));
    CHECK(got == seh, "the session's handler is not the one set");
    OK(MPI_Errhandler_free(&got));
    OK(MPI_Session_call_errhandler(s, MPI_ERR_OTHER));
    CHECK(session_errors == 1, "the session's handler ran %d times", session_errors);
    /* (MPICH runs the handler and then returns MPI_SUCCESS here: only the handler is checked) */
    MPI_Session_get_pset_info(s, "mpi://NOWHERE", &used);
    CHECK(session_errors == 2, "an error did not reach the handler (%d)", session_errors);
    OK(MPI_Errhandler_free(&seh));
    OK(MPI_Session_finalize(&s));
    CHECK(s == MPI_SESSION_NULL, "finalize did not reset the handle");

    /* MPI_Alloc_mem / MPI_Free_mem */
    double *p = NULL;
    OK(MPI_Alloc_mem(1000 * sizeof(double), MPI_INFO_NULL, &p));
    CHECK(p != NULL, "no memory");
    for (int i = 0; i < 1000; i++) p[i] = i;
    CHECK(p[999] == 999.0, "memory not writable");
    OK(MPI_Free_mem(p));
    void *z = NULL;
    OK(MPI_Alloc_mem(0, MPI_INFO_NULL, &z));
    OK(MPI_Free_mem(z));

    OK(MPI_Barrier(MPI_COMM_WORLD));
    OK(MPI_Finalize());
    if (rank == 0) printf("PASS session\n");
    return 0;
}
