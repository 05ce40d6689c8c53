/* Inter-communicators: MPI_Intercomm_create from a split of MPI_COMM_WORLD into the even and
 * the odd ranks (so that group ranks and world ranks differ), the queries (test_inter,
 * remote size and group), point-to-point both ways (wildcards, probe, synchronous,
 * non-blocking, sendrecv), every blocking collective with checked results (roots MPI_ROOT /
 * MPI_PROC_NULL / a remote rank, both directions), dup, split, create, compare, names,
 * attributes, MPI_Intercomm_create_from_groups, MPI_Intercomm_merge with high/low both ways,
 * scan erroneous, free.
 * Up to 16 processes. At one process: only MPI_Comm_test_inter of the world. */
#include "check.h"

static int lsize, rsize, lrank, wrank, wsize, color;
static int rworld[64]; /* world rank of each remote rank */
static int lworld[64]; /* world rank of each local rank */

static void queries(MPI_Comm inter) {
    int flag = -1, n = -1, r = -1;
    OK(MPI_Comm_test_inter(inter, &flag));
    CHECK(flag == 1, "test_inter = %d", flag);
    OK(MPI_Comm_size(inter, &n));
    CHECK(n == lsize, "size %d, local group %d", n, lsize);
    OK(MPI_Comm_rank(inter, &r));
    CHECK(r == lrank, "rank %d, expected %d", r, lrank);
    OK(MPI_Comm_remote_size(inter, &n));
    CHECK(n == rsize, "remote size %d, expected %d", n, rsize);
    MPI_Group rg, wg, lg;
    OK(MPI_Comm_remote_group(inter, &rg));
    OK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    int ranks[64], out[64];
    for (int i = 0; i < 64; i++) ranks[i] = i;
    OK(MPI_Group_translate_ranks(rg, rsize, ranks, wg, out));
    for (int i = 0; i < rsize; i++)
        CHECK(out[i] == rworld[i], "remote rank %d is world %d, expected %d", i, out[i], rworld[i]);
    OK(MPI_Comm_group(inter, &lg));
    OK(MPI_Group_size(lg, &n));
    CHECK(n == lsize, "local group size %d", n);
    OK(MPI_Group_translate_ranks(lg, lsize, ranks, wg, out));
    for (int i = 0; i < lsize; i++) CHECK(out[i] == lworld[i], "local rank %d is world %d", i, out[i]);
    OK(MPI_Group_free(&rg));
    OK(MPI_Group_free(&lg));
    OK(MPI_Group_free(&wg));
}

static void p2p(MPI_Comm inter) {
    /* Every process sends one message to every remote process; received with ANY_SOURCE. */
    int sendv[64], recvv[64];
    MPI_Request reqs[64];
    for (int j = 0; j < rsize; j++) {
        sendv[j] = wrank * 1000 + j;
        OK(MPI_Isend(&sendv[j], 1, MPI_INT, j, 5, inter, &reqs[j]));
    }
    int seen[64] = {0};
    for (int j = 0; j < rsize; j++) {
        MPI_Status st;
        int v = -1;
        OK(MPI_Recv(&v, 1, MPI_INT, MPI_ANY_SOURCE, 5, inter, &st));
        CHECK(st.MPI_SOURCE >= 0 && st.MPI_SOURCE < rsize, "source %d", st.MPI_SOURCE);
        CHECK(st.MPI_TAG == 5, "tag %d", st.MPI_TAG);
        CHECK(v == rworld[st.MPI_SOURCE] * 1000 + lrank, "from %d got %d", st.MPI_SOURCE, v);
        seen[st.MPI_SOURCE]++;
    }
    for (int j = 0; j < rsize; j++) CHECK(seen[j] == 1, "remote %d sent %d messages", j, seen[j]);
    OK(MPI_Waitall(rsize, reqs, MPI_STATUSES_IGNORE));

    /* Specific sources with Irecv, synchronous sends, then probe + receive. */
    MPI_Request both[128];
    for (int j = 0; j < rsize; j++) OK(MPI_Irecv(&recvv[j], 1, MPI_INT, j, 6, inter, &both[j]));
    for (int j = 0; j < rsize; j++) {
        sendv[j] = -(wrank * 1000 + j);
        OK(MPI_Issend(&sendv[j], 1, MPI_INT, j, 6, inter, &both[rsize + j]));
    }
    OK(MPI_Waitall(2 * rsize, both, MPI_STATUSES_IGNORE));
    for (int j = 0; j < rsize; j++)
        CHECK(recvv[j] == -(rworld[j] * 1000 + lrank), "ssend from %d: %d", j, recvv[j]);

    if (lrank == 0) {
        /* The two rank-0 processes: probe, then sendrecv. */
        double d[3] = {wrank, wrank + 0.5, wrank + 0.25}, e[3];
        MPI_Request r;
        OK(MPI_Isend(d, 3, MPI_DOUBLE, 0, 7, inter, &r));
        MPI_Status st;
        OK(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, inter, &st));
        int cnt = -1;
        OK(MPI_Get_count(&st, MPI_DOUBLE, &cnt));
        CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 7 && cnt == 3, "probe: %d %d %d", st.MPI_SOURCE,
              st.MPI_TAG, cnt);
        OK(MPI_Recv(e, 3, MPI_DOUBLE, 0, 7, inter, MPI_STATUS_IGNORE));
        CHECK(e[0] == rworld[0] && e[2] == rworld[0] + 0.25, "probed message %g %g", e[0], e[2]);
        OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        int a = wrank, b = -1;
        OK(MPI_Sendrecv(&a, 1, MPI_INT, 0, 8, &b, 1, MPI_INT, 0, 8, inter, &st));
        CHECK(b == rworld[0] && st.MPI_SOURCE == 0, "sendrecv %d from %d", b, st.MPI_SOURCE);
    }
    /* MPI_PROC_NULL and an invalid remote rank. */
    int x = 1;
    OK(MPI_Send(&x, 1, MPI_INT, MPI_PROC_NULL, 1, inter));
    OK(MPI_Comm_set_errhandler(inter, MPI_ERRORS_RETURN));
    int rc = MPI_Send(&x, 1, MPI_INT, rsize, 1, inter);
    CHECK(class_of(rc) == MPI_ERR_RANK, "send to remote rank %d (of %d): class %d", rsize, rsize,
          class_of(rc));
    OK(MPI_Comm_set_errhandler(inter, MPI_ERRORS_ARE_FATAL));
}

/* The root of a rooted collective from group `g`'s local rank 0. */
static int root_arg(int g) {
    if (color == g) return lrank == 0 ? MPI_ROOT : MPI_PROC_NULL;
    return 0;
}

static void collectives(MPI_Comm inter) {
    int buf[256], res[256];
    OK(MPI_Barrier(inter));
    for (int g = 0; g < 2; g++) {
        int root = root_arg(g);
        /* bcast */
        int b[3] = {-1, -1, -1};
        if (root == MPI_ROOT) b[0] = 11 + g, b[1] = 22, b[2] = wrank;
        OK(MPI_Bcast(b, 3, MPI_INT, root, inter));
        if (color != g) CHECK(b[0] == 11 + g && b[1] == 22 && b[2] == rworld[0], "bcast %d %d %d", b[0], b[1], b[2]);
        /* reduce: the root gets the remote group's sum of world ranks + 1 */
        int v = wrank + 1, s = -1;
        OK(MPI_Reduce(&v, &s, 1, MPI_INT, MPI_SUM, root, inter));
        if (root == MPI_ROOT) {
            int want = 0;
            for (int j = 0; j < rsize; j++) want += rworld[j] + 1;
            CHECK(s == want, "reduce %d, expected %d", s, want);
        }
        /* gather: 2 ints from each remote process */
        int two[2] = {wrank, wrank * 2};
        for (int i = 0; i < 2 * rsize; i++) res[i] = -1;
        OK(MPI_Gather(two, 2, MPI_INT, res, 2, MPI_INT, root, inter));
        if (root == MPI_ROOT)
            for (int j = 0; j < rsize; j++)
                CHECK(res[2 * j] == rworld[j] && res[2 * j + 1] == 2 * rworld[j], "gather block %d", j);
        /* gatherv: j+1 ints from remote j, at displacement 3j */
        int counts[64], displs[64];
        for (int j = 0; j < rsize; j++) counts[j] = j + 1, displs[j] = 8 * j;
        for (int i = 0; i < lrank + 1; i++) buf[i] = wrank * 10 + i;
        for (int i = 0; i < 8 * rsize; i++) res[i] = -1;
        OK(MPI_Gatherv(buf, lrank + 1, MPI_INT, res, counts, displs, MPI_INT, root, inter));
        if (root == MPI_ROOT)
            for (int j = 0; j < rsize; j++)
                for (int i = 0; i <= j; i++)
                    CHECK(res[8 * j + i] == rworld[j] * 10 + i, "gatherv %d.%d = %d", j, i, res[8 * j + i]);
        /* scatter: remote j gets {j, world root} */
        if (root == MPI_ROOT)
            for (int j = 0; j < rsize; j++) buf[2 * j] = j, buf[2 * j + 1] = wrank;
        int got[3] = {-1, -1, -1};
        OK(MPI_Scatter(buf, 2, MPI_INT, got, 2, MPI_INT, root, inter));
        if (color != g) CHECK(got[0] == lrank && got[1] == rworld[0], "scatter %d %d", got[0], got[1]);
        /* scatterv: remote j gets j+1 ints from displacement 3j */
        if (root == MPI_ROOT)
            for (int j = 0; j < rsize; j++)
                for (int i = 0; i <= j; i++) buf[8 * j + i] = 100 * j + i;
        int sv[64];
        OK(MPI_Scatterv(buf, counts, displs, MPI_INT, sv, lrank + 1, MPI_INT, root, inter));
        if (color != g)
            for (int i = 0; i <= lrank; i++) CHECK(sv[i] == 100 * lrank + i, "scatterv %d = %d", i, sv[i]);
    }
    /* allreduce: the remote group's sum and max */
    int v[2] = {wrank, wrank}, s[2];
    OK(MPI_Allreduce(v, s, 1, MPI_INT, MPI_SUM, inter));
    OK(MPI_Allreduce(v + 1, s + 1, 1, MPI_INT, MPI_MAX, inter));
    int sum = 0, max = -1;
    for (int j = 0; j < rsize; j++) sum += rworld[j], max = rworld[j] > max ? rworld[j] : max;
    CHECK(s[0] == sum && s[1] == max, "allreduce %d %d, expected %d %d", s[0], s[1], sum, max);
    /* allgather */
    int two[2] = {wrank, -wrank};
    OK(MPI_Allgather(two, 2, MPI_INT, res, 2, MPI_INT, inter));
    for (int j = 0; j < rsize; j++)
        CHECK(res[2 * j] == rworld[j] && res[2 * j + 1] == -rworld[j], "allgather block %d", j);
    /* allgatherv: remote j contributes j+1 ints at displacement 3j */
    int counts[64], displs[64];
    for (int j = 0; j < rsize; j++) counts[j] = j + 1, displs[j] = 8 * j;
    for (int i = 0; i <= lrank; i++) buf[i] = wrank * 7 + i;
    OK(MPI_Allgatherv(buf, lrank + 1, MPI_INT, res, counts, displs, MPI_INT, inter));
    for (int j = 0; j < rsize; j++)
        for (int i = 0; i <= j; i++) CHECK(res[8 * j + i] == rworld[j] * 7 + i, "allgatherv %d.%d", j, i);
    /* alltoall: to remote j: wrank*100+j */
    for (int j = 0; j < rsize; j++) buf[j] = wrank * 100 + j;
    OK(MPI_Alltoall(buf, 1, MPI_INT, res, 1, MPI_INT, inter));
    for (int j = 0; j < rsize; j++) CHECK(res[j] == rworld[j] * 100 + lrank, "alltoall from %d: %d", j, res[j]);
    /* alltoallv: to remote j: lrank+1 ints... each receives j+1 ints from remote j */
    int sc[64], sd[64], rc[64], rd[64];
    for (int j = 0; j < rsize; j++) {
        sc[j] = lrank + 1, sd[j] = j * 8;
        rc[j] = j + 1, rd[j] = j * 8;
        for (int i = 0; i <= lrank; i++) buf[j * 8 + i] = wrank * 100 + j * 10 + i;
    }
    OK(MPI_Alltoallv(buf, sc, sd, MPI_INT, res, rc, rd, MPI_INT, inter));
    for (int j = 0; j < rsize; j++)
        for (int i = 0; i <= j; i++)
            CHECK(res[j * 8 + i] == rworld[j] * 100 + lrank * 10 + i, "alltoallv %d.%d", j, i);
    /* reduce_scatter_block: vectors of lsize*rsize ints, rsize to each process (equal totals
     * on both sides); element k = world rank + k */
    for (int k = 0; k < lsize * rsize; k++) buf[k] = wrank + k;
    OK(MPI_Reduce_scatter_block(buf, res, rsize, MPI_INT, MPI_SUM, inter));
    for (int i = 0; i < rsize; i++) {
        int k = lrank * rsize + i, want = 0;
        for (int j = 0; j < rsize; j++) want += rworld[j] + k;
        CHECK(res[i] == want, "reduce_scatter_block %d = %d, expected %d", i, res[i], want);
    }
    int rcounts[64];
    for (int i = 0; i < lsize; i++) rcounts[i] = rsize;
    OK(MPI_Reduce_scatter(buf, res, rcounts, MPI_INT, MPI_SUM, inter));
    for (int i = 0; i < rsize; i++) {
        int k = lrank * rsize + i, want = 0;
        for (int j = 0; j < rsize; j++) want += rworld[j] + k;
        CHECK(res[i] == want, "reduce_scatter %d = %d, expected %d", i, res[i], want);
    }
    /* scan is erroneous on an inter-communicator */
    OK(MPI_Comm_set_errhandler(inter, MPI_ERRORS_RETURN));
    int rcode = MPI_Scan(v, s, 1, MPI_INT, MPI_SUM, inter);
    CHECK(class_of(rcode) == MPI_ERR_COMM, "scan on an inter-communicator: class %d", class_of(rcode));
    OK(MPI_Comm_set_errhandler(inter, MPI_ERRORS_ARE_FATAL));
}

static void merge(MPI_Comm inter, int high, int low_group) {
    MPI_Comm m;
    OK(MPI_Intercomm_merge(inter, high, &m));
    int n = -1, r = -1, flag = -1;
    OK(MPI_Comm_size(m, &n));
    OK(MPI_Comm_rank(m, &r));
    OK(MPI_Comm_test_inter(m, &flag));
    CHECK(n == wsize && flag == 0, "merged: size %d, inter %d", n, flag);
    /* low_group -1: both pass the same high, the order is the implementation's */
    int want = low_group < 0 ? r : color == low_group ? lrank : rsize + lrank;
    CHECK(r == want, "merged rank %d, expected %d (high %d)", r, want, high);
    int s = -1;
    OK(MPI_Allreduce(&wrank, &s, 1, MPI_INT, MPI_SUM, m));
    CHECK(s == wsize * (wsize - 1) / 2, "allreduce on the merged communicator: %d", s);
    OK(MPI_Comm_free(&m));
}

static int copies = 0;
static int copy_fn(MPI_Comm c, int k, void *extra, void *in, void *out, int *flag) {
    (void)c, (void)k, (void)extra;
    copies++;
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &wrank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &wsize));
    int flag = -1;
    OK(MPI_Comm_test_inter(MPI_COMM_WORLD, &flag));
    CHECK(flag == 0, "the world is an inter-communicator?");
    if (wsize < 2 || wsize > 16) {
        pass("intercomm");
        OK(MPI_Finalize());
        return 0;
    }
    color = wrank % 2;
    lsize = rsize = 0;
    for (int w = 0; w < wsize; w++) {
        if (w % 2 == color) lworld[lsize++] = w;
        else rworld[rsize++] = w;
    }
    lrank = wrank / 2;
    MPI_Comm local, inter;
    OK(MPI_Comm_split(MPI_COMM_WORLD, color, wrank, &local));
    OK(MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, color == 0 ? 1 : 0, 77, &inter));
    queries(inter);
    p2p(inter);
    collectives(inter);

    /* names and attributes; dup copies them (the attribute by its copy callback) */
    OK(MPI_Comm_set_name(inter, "the inter"));
    char name[MPI_MAX_OBJECT_NAME];
    int len = 0;
    OK(MPI_Comm_get_name(inter, name, &len));
    CHECK(strcmp(name, "the inter") == 0, "name %s", name);
    int key;
    OK(MPI_Comm_create_keyval(copy_fn, MPI_COMM_NULL_DELETE_FN, &key, NULL));
    static int payload = 42;
    OK(MPI_Comm_set_attr(inter, key, &payload));
    MPI_Comm dup;
    OK(MPI_Comm_dup(inter, &dup));
    CHECK(copies == 1, "copy callback ran %d times", copies);
    void *val = NULL;
    OK(MPI_Comm_get_attr(dup, key, &val, &flag));
    CHECK(flag && val == &payload, "attribute on the dup: flag %d", flag);
    int cmp = -1;
    OK(MPI_Comm_compare(inter, dup, &cmp));
    CHECK(cmp == MPI_CONGRUENT, "compare with the dup: %d", cmp);
    OK(MPI_Comm_compare(inter, local, &cmp));
    CHECK(cmp == MPI_UNEQUAL, "compare with the local communicator: %d", cmp);
    queries(dup);
    p2p(dup);
    collectives(dup);
    OK(MPI_Comm_free(&dup));
    OK(MPI_Comm_free_keyval(&key));

    /* split with reversed keys: same groups, local ranks reversed */
    MPI_Comm sp;
    OK(MPI_Comm_split(inter, 3, -lrank, &sp));
    int r = -1, rs = -1;
    OK(MPI_Comm_rank(sp, &r));
    OK(MPI_Comm_remote_size(sp, &rs));
    CHECK(r == lsize - 1 - lrank && rs == rsize, "split: rank %d, remote size %d", r, rs);
    int v = wrank, s = -1;
    OK(MPI_Allreduce(&v, &s, 1, MPI_INT, MPI_SUM, sp));
    int sum = 0;
    for (int j = 0; j < rsize; j++) sum += rworld[j];
    CHECK(s == sum, "allreduce on the split: %d, expected %d", s, sum);
    if (r == 0) {
        /* remote rank 0 of the split is the last process of the other group */
        int x = wrank, y = -1;
        OK(MPI_Sendrecv(&x, 1, MPI_INT, 0, 3, &y, 1, MPI_INT, 0, 3, sp, MPI_STATUS_IGNORE));
        CHECK(y == rworld[rsize - 1], "split sendrecv: %d, expected %d", y, rworld[rsize - 1]);
    }
    OK(MPI_Comm_free(&sp));
    /* split where one group has no process of a color: MPI_COMM_NULL for it */
    OK(MPI_Comm_split(inter, color == 0 ? 1 : MPI_UNDEFINED, 0, &sp));
    CHECK(sp == MPI_COMM_NULL, "a split with the color in one group only is not MPI_COMM_NULL");

    /* create from the local group: congruent */
    MPI_Group lg;
    MPI_Comm cr;
    OK(MPI_Comm_group(inter, &lg));
    OK(MPI_Comm_create(inter, lg, &cr));
    OK(MPI_Comm_compare(inter, cr, &cmp));
    CHECK(cmp == MPI_CONGRUENT, "create from the local group: compare %d", cmp);
    OK(MPI_Barrier(cr));
    OK(MPI_Comm_free(&cr));
    OK(MPI_Group_free(&lg));

    merge(inter, color, 0);     /* group 0 low: first */
    merge(inter, 1 - color, 1); /* group 1 low: first */
    merge(inter, 0, -1);
    /* MPI_Intercomm_create_from_groups: the same two groups, from the world's group */
    MPI_Group wg, mine, theirs;
    MPI_Comm fg;
    OK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    OK(MPI_Group_incl(wg, lsize, lworld, &mine));
    OK(MPI_Group_incl(wg, rsize, rworld, &theirs));
    OK(MPI_Intercomm_create_from_groups(mine, 0, theirs, 0, "intercomm.c", MPI_INFO_NULL,
                                        MPI_ERRORS_ARE_FATAL, &fg));
    queries(fg);
    p2p(fg);
    OK(MPI_Allreduce(&v, &s, 1, MPI_INT, MPI_SUM, fg));
    CHECK(s == sum, "allreduce on the inter-communicator from groups: %d, expected %d", s, sum);
    OK(MPI_Comm_free(&fg));
    OK(MPI_Group_free(&mine));
    OK(MPI_Group_free(&theirs));
    OK(MPI_Group_free(&wg));

    OK(MPI_Comm_free(&inter));
    CHECK(inter == MPI_COMM_NULL, "free did not set MPI_COMM_NULL");
    OK(MPI_Comm_free(&local));
    pass("intercomm");
    OK(MPI_Finalize());
    return 0;
}
