/* Generalized requests (MPI_Grequest_start/complete with query, free and cancel callbacks,
 * completed before a wait and from another thread during one), and added error classes and
 * codes (above MPI_ERR_LASTCODE, removable in order). Runs unchanged on MPICH and on libfmi. */
#include "check.h"
#include <pthread.h>
#include <unistd.h>

struct ctx {
    int queried, freed, cancelled, cancel_complete;
};

static int query_fn(void *extra, MPI_Status *st) {
    struct ctx *c = extra;
    c->queried++;
    MPI_Status_set_elements(st, MPI_BYTE, 5);
    MPI_Status_set_cancelled(st, 0);
    st->MPI_SOURCE = 3;
    st->MPI_TAG = 7;
    return MPI_SUCCESS;
}
static int free_fn(void *extra) {
    ((struct ctx *)extra)->freed++;
    return MPI_SUCCESS;
}
static int cancel_fn(void *extra, int complete) {
    struct ctx *c = extra;
    c->cancelled++;
    c->cancel_complete = complete;
    return MPI_SUCCESS;
}
static int failing_query(void *extra, MPI_Status *st) {
    (void)extra;
    (void)st;
    return MPI_ERR_BUFFER;
}

static void *completer(void *arg) {
    usleep(100 * 1000);
    MPI_Grequest_complete(*(MPI_Request *)arg);
    return NULL;
}

int main(int argc, char **argv) {
    int provided;
    OK(MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided));
    int rank;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

    /* test before completion, cancel, complete, wait: query then free */
    struct ctx c = {0, 0, 0, 0};
    MPI_Request r;
    OK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &c, &r));
    int flag = 1;
    MPI_Status st;
    OK(MPI_Test(&r, &flag, &st));
    CHECK(!flag && c.queried == 0 && c.freed == 0, "incomplete request tested complete");
    OK(MPI_Cancel(&r));
    CHECK(c.cancelled == 1 && c.cancel_complete == 0, "cancel_fn: %d calls, complete %d",
          c.cancelled, c.cancel_complete);
    OK(MPI_Grequest_complete(r));
    OK(MPI_Wait(&r, &st));
    CHECK(r == MPI_REQUEST_NULL, "the request was not freed");
    CHECK(c.queried == 1 && c.freed == 1, "query %d free %d", c.queried, c.freed);
    int count = -1;
    OK(MPI_Get_count(&st, MPI_BYTE, &count));
    CHECK(st.MPI_SOURCE == 3 && st.MPI_TAG == 7 && count == 5, "status %d %d %d",
          st.MPI_SOURCE, st.MPI_TAG, count);

    /* completed by another thread while this one waits */
    struct ctx d = {0, 0, 0, 0};
    OK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &d, &r));
    MPI_Request copy = r;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, completer, &copy) == 0, "pthread_create");
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    pthread_join(t, NULL);
    CHECK(d.queried == 1 && d.freed == 1, "query %d free %d", d.queried, d.freed);

    /* a query_fn's error is the wait's */
    struct ctx e = {0, 0, 0, 0};
    OK(MPI_Grequest_start(failing_query, free_fn, cancel_fn, &e, &r));
    OK(MPI_Grequest_complete(r));
    int rc = MPI_Wait(&r, &st);
    CHECK(class_of(rc) == MPI_ERR_BUFFER, "wait returned class %d", class_of(rc));
    CHECK(e.freed == 1, "free_fn not called after a failed query");

    /* added error classes and codes */
    int cls, code, last, *lastp, lflag;
    OK(MPI_Add_error_class(&cls));
    CHECK(cls >= MPI_ERR_LASTCODE, "class %d below MPI_ERR_LASTCODE", cls);
    OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &lastp, &lflag));
    last = *lastp;
    CHECK(lflag && last == cls, "MPI_LASTUSEDCODE %d, class %d", last, cls);
    OK(MPI_Add_error_code(cls, &code));
    int k = -1;
    OK(MPI_Error_class(code, &k));
    CHECK(k == cls, "code %d has class %d, not %d", code, k, cls);
    OK(MPI_Add_error_string(code, "mine"));
    CHECK(MPI_Remove_error_class(cls) != MPI_SUCCESS, "removed a class that has codes");
    CHECK(MPI_Remove_error_code(code) != MPI_SUCCESS, "removed a code that has a string");
    OK(MPI_Remove_error_string(code));
    OK(MPI_Remove_error_code(code));
    OK(MPI_Remove_error_class(cls));

    OK(MPI_Barrier(MPI_COMM_WORLD));
    OK(MPI_Finalize());
    if (rank == 0) printf("PASS grequest\n");
    return 0;
}
