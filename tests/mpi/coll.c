/* Collectives on contiguous predefined datatypes: barrier, bcast, gather(v), scatter(v),
 * allgather(v), alltoall(v), reduce, allreduce, reduce_scatter(_block), scan, exscan, each in
 * its MPI_IN_PLACE form too; and the error of a root out of range, through the handler. */
#include "check.h"

#define MAXP 16

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(size <= MAXP, "at most %d processes", MAXP);
    int root = size - 1;
    OK(MPI_Barrier(MPI_COMM_WORLD));

    /* bcast */
    double d[3] = {0, 0, 0};
    if (rank == root) { d[0] = 1.5; d[1] = -2; d[2] = 1e300; }
    OK(MPI_Bcast(d, 3, MPI_DOUBLE, root, MPI_COMM_WORLD));
    CHECK(d[0] == 1.5 && d[1] == -2 && d[2] == 1e300, "bcast %g %g %g", d[0], d[1], d[2]);

    /* gather, in place at the root */
    int two[2] = {rank, 10 * rank}, all[2 * MAXP];
    for (int i = 0; i < 2 * MAXP; i++) all[i] = -1;
    OK(MPI_Gather(two, 2, MPI_INT, all, 2, MPI_INT, root, MPI_COMM_WORLD));
    if (rank == root)
        for (int i = 0; i < size; i++) CHECK(all[2 * i] == i && all[2 * i + 1] == 10 * i, "gather[%d]", i);
    if (rank == root) {
        for (int i = 0; i < 2 * size; i++) all[i] = (i / 2 == root) ? (i % 2 ? 10 * root : root) : -1;
        OK(MPI_Gather(MPI_IN_PLACE, 2, MPI_INT, all, 2, MPI_INT, root, MPI_COMM_WORLD));
        for (int i = 0; i < size; i++) CHECK(all[2 * i] == i && all[2 * i + 1] == 10 * i, "gather in place[%d]", i);
    } else {
        OK(MPI_Gather(two, 2, MPI_INT, NULL, 0, MPI_INT, root, MPI_COMM_WORLD));
    }

    /* scatter, in place at the root */
    int mine[2] = {-1, -1};
    if (rank == root) for (int i = 0; i < 2 * size; i++) all[i] = 100 + i;
    OK(MPI_Scatter(all, 2, MPI_INT, mine, 2, MPI_INT, root, MPI_COMM_WORLD));
    CHECK(mine[0] == 100 + 2 * rank && mine[1] == 101 + 2 * rank, "scatter %d %d", mine[0], mine[1]);
    if (rank == root) OK(MPI_Scatter(all, 2, MPI_INT, MPI_IN_PLACE, 2, MPI_INT, root, MPI_COMM_WORLD));
    else OK(MPI_Scatter(NULL, 0, MPI_INT, mine, 2, MPI_INT, root, MPI_COMM_WORLD));

    /* allgather and its in-place form */
    long lv = 1000L * rank, lall[MAXP];
    OK(MPI_Allgather(&lv, 1, MPI_LONG, lall, 1, MPI_LONG, MPI_COMM_WORLD));
    for (int i = 0; i < size; i++) CHECK(lall[i] == 1000L * i, "allgather[%d] %ld", i, lall[i]);
    for (int i = 0; i < size; i++) lall[i] = (i == rank) ? 7L * rank : -1;
    OK(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, lall, 1, MPI_LONG, MPI_COMM_WORLD));
    for (int i = 0; i < size; i++) CHECK(lall[i] == 7L * i, "allgather in place[%d]", i);

    /* alltoall: element j of rank i is i*100+j; in place too */
    int sa[MAXP], ra[MAXP];
    for (int j = 0; j < size; j++) sa[j] = rank * 100 + j;
    OK(MPI_Alltoall(sa, 1, MPI_INT, ra, 1, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < size; i++) CHECK(ra[i] == i * 100 + rank, "alltoall[%d] %d", i, ra[i]);
    OK(MPI_Alltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, sa, 1, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < size; i++) CHECK(sa[i] == i * 100 + rank, "alltoall in place[%d]", i);

    /* v-forms: rank i contributes i+1 ints of value i, placed with a gap of one */
    int counts[MAXP], displs[MAXP], total = 0;
    for (int i = 0; i < size; i++) { counts[i] = i + 1; displs[i] = total + i; total += i + 1; }
    int span = displs[size - 1] + counts[size - 1];
    int vsend[MAXP + 1], vrecv[MAXP * MAXP];
    for (int k = 0; k <= rank; k++) vsend[k] = rank;
    for (int k = 0; k < span; k++) vrecv[k] = -7;
    OK(MPI_Allgatherv(vsend, rank + 1, MPI_INT, vrecv, counts, displs, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < size; i++)
        for (int k = 0; k < counts[i]; k++) CHECK(vrecv[displs[i] + k] == i, "allgatherv block %d", i);
    for (int i = 1; i < size; i++) CHECK(vrecv[displs[i] - 1] == -7, "allgatherv wrote the gap before %d", i);
    for (int k = 0; k < span; k++) vrecv[k] = -7;
    OK(MPI_Gatherv(vsend, rank + 1, MPI_INT, vrecv, counts, displs, MPI_INT, root, MPI_COMM_WORLD));
    if (rank == root)
        for (int i = 0; i < size; i++)
            for (int k = 0; k < counts[i]; k++) CHECK(vrecv[displs[i] + k] == i, "gatherv block %d", i);
    int got[MAXP + 1];
    if (rank == root) for (int i = 0; i < size; i++) for (int k = 0; k < counts[i]; k++) vrecv[displs[i] + k] = 50 + i;
    OK(MPI_Scatterv(vrecv, counts, displs, MPI_INT, got, rank + 1, MPI_INT, root, MPI_COMM_WORLD));
    for (int k = 0; k <= rank; k++) CHECK(got[k] == 50 + rank, "scatterv %d", got[k]);
    /* alltoallv: rank i sends j+1 copies of i*10+j to rank j */
    int scounts[MAXP], sdispls[MAXP], rcounts[MAXP], rdispls[MAXP], st = 0, rt = 0;
    int sbuf[MAXP * MAXP], rbuf[MAXP * MAXP];
    for (int j = 0; j < size; j++) {
        scounts[j] = j + 1; sdispls[j] = st; st += j + 1;
        rcounts[j] = rank + 1; rdispls[j] = rt; rt += rank + 1;
        for (int k = 0; k < j + 1; k++) sbuf[sdispls[j] + k] = rank * 10 + j;
    }
    OK(MPI_Alltoallv(sbuf, scounts, sdispls, MPI_INT, rbuf, rcounts, rdispls, MPI_INT, MPI_COMM_WORLD));
    for (int i = 0; i < size; i++)
        for (int k = 0; k <= rank; k++) CHECK(rbuf[rdispls[i] + k] == i * 10 + rank, "alltoallv from %d", i);

    /* reductions */
    int x = rank + 1, y = -1;
    OK(MPI_Reduce(&x, &y, 1, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD));
    if (rank == root) CHECK(y == size * (size + 1) / 2, "reduce sum %d", y);
    y = rank + 1;
    if (rank == root) OK(MPI_Reduce(MPI_IN_PLACE, &y, 1, MPI_INT, MPI_MAX, root, MPI_COMM_WORLD));
    else OK(MPI_Reduce(&y, NULL, 1, MPI_INT, MPI_MAX, root, MPI_COMM_WORLD));
    if (rank == root) CHECK(y == size, "reduce in place max %d", y);
    double dv[2] = {rank + 0.5, -(double)rank}, dr[2];
    OK(MPI_Allreduce(dv, dr, 2, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD));
    CHECK(dr[0] == 0.5 && dr[1] == -(double)(size - 1), "allreduce min %g %g", dr[0], dr[1]);
    unsigned u = 1u << rank;
    OK(MPI_Allreduce(MPI_IN_PLACE, &u, 1, MPI_UNSIGNED, MPI_BOR, MPI_COMM_WORLD));
    CHECK(u == (1u << size) - 1, "allreduce in place bor %u", u);
    long long p = 2, pr;
    OK(MPI_Allreduce(&p, &pr, 1, MPI_LONG_LONG, MPI_PROD, MPI_COMM_WORLD));
    CHECK(pr == (1LL << size), "allreduce prod %lld", pr);
    int sc, ex = -99;
    x = rank + 1;
    OK(MPI_Scan(&x, &sc, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    CHECK(sc == (rank + 1) * (rank + 2) / 2, "scan %d", sc);
    OK(MPI_Exscan(&x, &ex, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    if (rank > 0) CHECK(ex == rank * (rank + 1) / 2, "exscan %d", ex);
    sc = rank + 1;
    OK(MPI_Scan(MPI_IN_PLACE, &sc, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    CHECK(sc == (rank + 1) * (rank + 2) / 2, "scan in place %d", sc);

    /* reduce_scatter_block: element j of every rank is j; rank j gets size*j */
    int rs[MAXP], rsr = -1;
    for (int j = 0; j < size; j++) rs[j] = j;
    OK(MPI_Reduce_scatter_block(rs, &rsr, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    CHECK(rsr == size * rank, "reduce_scatter_block %d", rsr);
    for (int j = 0; j < size; j++) rs[j] = j;
    OK(MPI_Reduce_scatter_block(MPI_IN_PLACE, rs, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    CHECK(rs[0] == size * rank, "reduce_scatter_block in place %d", rs[0]);
    /* reduce_scatter: rank j gets j+1 elements */
    int rc_counts[MAXP], big[MAXP * MAXP], mineb[MAXP + 1], n = 0;
    for (int j = 0; j < size; j++) { rc_counts[j] = j + 1; for (int k = 0; k <= j; k++) big[n++] = j * 3 + k; }
    OK(MPI_Reduce_scatter(big, mineb, rc_counts, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    for (int k = 0; k <= rank; k++) CHECK(mineb[k] == size * (rank * 3 + k), "reduce_scatter[%d] %d", k, mineb[k]);

    /* A root out of range is an error of class MPI_ERR_ROOT, raised on the communicator. */
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int rc = MPI_Bcast(d, 1, MPI_DOUBLE, size + 5, MPI_COMM_WORLD);
    CHECK(rc != MPI_SUCCESS && class_of(rc) == MPI_ERR_ROOT, "bad root: class %d", class_of(rc));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("coll");
    OK(MPI_Finalize());
    return 0;
}
