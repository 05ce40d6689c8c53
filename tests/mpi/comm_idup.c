/* MPI_Comm_idup and MPI_Comm_idup_with_info: several in flight at once with other
 * non-blocking collectives on the parent (Iallreduce, Ibarrier) and a blocking dup meanwhile;
 * each new communicator is congruent with its parent, distinct from the others (messages with
 * the same tag on two of them never match each other's receives) and works (allreduce,
 * ring send/recv); attributes copied by their copy callback (MPI_COMM_NULL_COPY_FN's are not);
 * completion by Wait, Waitall and a Test loop; Comm_idup_with_info's hints visible through
 * Comm_get_info (libfmi reports the hints it uses: fmi_hint). */
#include "check.h"

static int copies = 0;

static int copy_fn(MPI_Comm c, int kv, void *extra, void *in, void *out, int *flag) {
    (void)c; (void)kv; (void)extra;
    copies++;
    *(void **)out = (char *)in + 1;
    *flag = 1;
    return MPI_SUCCESS;
}

/* The new communicator works and is congruent with MPI_COMM_WORLD. */
static void works(MPI_Comm n, int rank, int size) {
    int res, r, s;
    OK(MPI_Comm_compare(n, MPI_COMM_WORLD, &res));
    CHECK(res == MPI_CONGRUENT, "compare: %d", res);
    OK(MPI_Comm_rank(n, &r));
    OK(MPI_Comm_size(n, &s));
    CHECK(r == rank && s == size, "rank %d size %d", r, s);
    int sum = 0;
    OK(MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, n));
    CHECK(sum == size * (size - 1) / 2, "allreduce on the new communicator: %d", sum);
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len;
    OK(MPI_Get_library_version(lib, &len));
    int libfmi = strstr(lib, "libfmi") != NULL;
    MPI_Comm w = MPI_COMM_WORLD;

    int kv, nkv;
    OK(MPI_Comm_create_keyval(copy_fn, MPI_COMM_NULL_DELETE_FN, &kv, NULL));
    OK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &nkv, NULL));
    static char base[4];
    OK(MPI_Comm_set_attr(w, kv, base));
    OK(MPI_Comm_set_attr(w, nkv, base));

    /* 1. Two idups with an Iallreduce and an Ibarrier between them, a blocking dup while
       they are in flight, then Waitall. */
    MPI_Comm a, b, blocking;
    MPI_Request rs[4];
    int one = 1, total = 0;
    OK(MPI_Comm_idup(w, &a, &rs[0]));
    OK(MPI_Iallreduce(&one, &total, 1, MPI_INT, MPI_SUM, w, &rs[1]));
    OK(MPI_Comm_idup(w, &b, &rs[2]));
    OK(MPI_Ibarrier(w, &rs[3]));
    OK(MPI_Comm_dup(w, &blocking));
    OK(MPI_Waitall(4, rs, MPI_STATUSES_IGNORE));
    CHECK(total == size, "iallreduce after an idup: %d", total);
    CHECK(a != MPI_COMM_NULL && b != MPI_COMM_NULL && a != b && a != blocking,
          "new handles");
    works(a, rank, size);
    works(b, rank, size);
    works(blocking, rank, size);

    /* Attributes: kv copied by its callback, nkv not. */
    void *v = NULL;
    int flag = 0;
    OK(MPI_Comm_get_attr(a, kv, &v, &flag));
    CHECK(flag && v == base + 1, "copied attribute: flag %d", flag);
    OK(MPI_Comm_get_attr(a, nkv, &v, &flag));
    CHECK(!flag, "MPI_COMM_NULL_COPY_FN's attribute was copied");
    CHECK(copies >= 3, "copy callbacks: %d", copies);

    /* Isolation: the same tag on a and b, received on b first. */
    int to = (rank + 1) % size, from = (rank + size - 1) % size;
    int x = 100 + rank, y = 200 + rank, got_a = -1, got_b = -1;
    MPI_Request sr[2];
    OK(MPI_Isend(&x, 1, MPI_INT, to, 5, a, &sr[0]));
    OK(MPI_Isend(&y, 1, MPI_INT, to, 5, b, &sr[1]));
    OK(MPI_Recv(&got_b, 1, MPI_INT, from, 5, b, MPI_STATUS_IGNORE));
    OK(MPI_Recv(&got_a, 1, MPI_INT, from, 5, a, MPI_STATUS_IGNORE));
    OK(MPI_Waitall(2, sr, MPI_STATUSES_IGNORE));
    CHECK(got_a == 100 + from && got_b == 200 + from, "a got %d, b got %d", got_a, got_b);

    /* 2. An idup of a duplicate, completed by a Test loop, with an idup of the parent in
       flight meanwhile (completed by Wait). */
    MPI_Comm c, d;
    MPI_Request rc, rd;
    OK(MPI_Comm_idup(a, &c, &rc));
    OK(MPI_Comm_idup(w, &d, &rd));
    int done = 0;
    while (!done) OK(MPI_Test(&rc, &done, MPI_STATUS_IGNORE));
    CHECK(rc == MPI_REQUEST_NULL, "request not freed");
    OK(MPI_Wait(&rd, MPI_STATUS_IGNORE));
    works(c, rank, size);
    works(d, rank, size);

    /* 3. Comm_idup_with_info: the hints given, not the parent's. */
    MPI_Info info, used;
    OK(MPI_Info_create(&info));
    OK(MPI_Info_set(info, "fmi_hint", "cheap"));
    MPI_Comm e;
    MPI_Request re;
    OK(MPI_Comm_idup_with_info(w, info, &e, &re));
    OK(MPI_Wait(&re, MPI_STATUS_IGNORE));
    works(e, rank, size);
    OK(MPI_Comm_get_info(e, &used));
    if (libfmi) {
        char val[32];
        int vlen = sizeof val;
        OK(MPI_Info_get_string(used, "fmi_hint", &vlen, val, &flag));
        CHECK(flag && strcmp(val, "cheap") == 0, "fmi_hint of the idup_with_info: %s",
              flag ? val : "(unset)");
    }
    OK(MPI_Info_free(&used));
    OK(MPI_Info_free(&info));

    MPI_Comm all[] = {a, b, blocking, c, d, e};
    for (int i = 0; i < 6; i++) OK(MPI_Comm_free(&all[i]));
    OK(MPI_Comm_free_keyval(&kv));
    OK(MPI_Comm_free_keyval(&nkv));
    pass("comm_idup");
    OK(MPI_Finalize());
    return 0;
}
