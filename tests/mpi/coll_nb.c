/* Non-blocking and persistent collectives: they really run in the background (an Ibarrier or
 * Iallreduce started before a blocking collective on another communicator that the peers
 * join first, or before a send its peer must receive before it joins: each would deadlock if
 * the call ran to completion at its start); every I-form gives the blocking
 * result, several in flight at once (Waitall, Test loops), with derived datatypes and a
 * non-commutative user operator; persistent collectives started several times with new data
 * (Start, Startall, Request_free); _c forms. Every result is checked exactly. */
#include "check.h"

#define MAXP 16

/* Digits as pairs (value, 10^digits), modulo the prime DMOD (so that 16 ranks' digits fit an
 * int); a op b = a's digits then b's: associative, not commutative. */
#define DMOD 32749
static void digits(void *in, void *inout, int *len, MPI_Datatype *dt) {
    (void)dt;
    int *a = in, *b = inout;
    for (int i = 0; i < 2 * *len; i += 2) {
        b[i] = (int)(((long long)a[i] * b[i + 1] + b[i]) % DMOD);
        b[i + 1] = (int)((long long)b[i + 1] * a[i + 1] % DMOD);
    }
}
static int number(int lo, int hi) { int v = 0; for (int r = lo; r <= hi; r++) v = (v * 10 + r + 1) % DMOD; return v; }

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(size <= MAXP, "at most %d processes", MAXP);
    MPI_Comm w = MPI_COMM_WORLD;
    MPI_Request r, rs[16];

    /* 1. Rank 0 starts an Ibarrier, then joins a blocking bcast on another communicator
       that the others enter before the barrier: had the Ibarrier run to completion at its
       start, rank 0 would never send the bcast's data and the others never reach the
       barrier. */
    MPI_Comm d;
    OK(MPI_Comm_dup(w, &d));
    int msg = 0;
    if (rank == 0) {
        OK(MPI_Ibarrier(w, &r));
        msg = 42;
        OK(MPI_Bcast(&msg, 1, MPI_INT, 0, d));
        OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        CHECK(r == MPI_REQUEST_NULL, "request not reset");
    } else {
        OK(MPI_Bcast(&msg, 1, MPI_INT, 0, d));
        CHECK(msg == 42, "msg %d", msg);
        OK(MPI_Ibarrier(w, &r));
        OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    }
    /* And with a point-to-point pair: rank 0 starts an Ibarrier and sends to rank 1, which
       receives before it enters the barrier. */
    if (rank == 0) {
        OK(MPI_Ibarrier(w, &r));
        if (size > 1) { msg = 43; OK(MPI_Send(&msg, 1, MPI_INT, 1, 7, w)); }
        OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    } else {
        if (rank == 1) { OK(MPI_Recv(&msg, 1, MPI_INT, 0, 7, w, MPI_STATUS_IGNORE)); CHECK(msg == 43, "msg %d", msg); }
        OK(MPI_Ibarrier(w, &r));
        OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    }
    /* The same with an Iallreduce, computation and an allreduce on the other communicator
       in between; the others complete theirs by testing. */
    int v = rank + 1, sum = 0, other = 0;
    if (rank == 0) {
        OK(MPI_Iallreduce(&v, &sum, 1, MPI_INT, MPI_SUM, w, &r));
        double acc = 0;
        for (int i = 0; i < 100000; i++) acc += i * 0.5;
        CHECK(acc > 0, "compute");
        OK(MPI_Allreduce(&v, &other, 1, MPI_INT, MPI_MAX, d));
        OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    } else {
        OK(MPI_Allreduce(&v, &other, 1, MPI_INT, MPI_MAX, d));
        OK(MPI_Iallreduce(&v, &sum, 1, MPI_INT, MPI_SUM, w, &r));
        int flag = 0;
        while (!flag) OK(MPI_Test(&r, &flag, MPI_STATUS_IGNORE));
    }
    CHECK(other == size, "allreduce on the dup %d", other);
    OK(MPI_Comm_free(&d));
    CHECK(sum == size * (size + 1) / 2, "iallreduce %d", sum);

    /* 2. Every I-form, all in flight at once, then checked. */
    MPI_Op cat;
    OK(MPI_Op_create(digits, 0, &cat));
    MPI_Datatype dg; /* one digit pair */
    OK(MPI_Type_contiguous(2, MPI_INT, &dg));
    OK(MPI_Type_commit(&dg));
    MPI_Datatype pair; /* ints 0 and 2 of 3 */
    OK(MPI_Type_vector(2, 1, 2, MPI_INT, &pair));
    OK(MPI_Type_commit(&pair));
    int root = size - 1, n = 0;
    int bc[3] = {0, -1, 0};
    if (rank == root) { bc[0] = 5; bc[2] = 6; }
    OK(MPI_Ibcast(bc, 1, pair, root, w, &rs[n++]));
    int gin[2] = {rank, -rank}, gout[2 * MAXP];
    OK(MPI_Igather(gin, 2, MPI_INT, gout, 2, MPI_INT, root, w, &rs[n++]));
    int sall[MAXP], sone = -1;
    for (int i = 0; i < size; i++) sall[i] = 100 + i;
    OK(MPI_Iscatter(sall, 1, MPI_INT, &sone, 1, MPI_INT, root, w, &rs[n++]));
    int agout[MAXP];
    OK(MPI_Iallgather(&rank, 1, MPI_INT, agout, 1, MPI_INT, w, &rs[n++]));
    int a2s[MAXP], a2r[MAXP];
    for (int j = 0; j < size; j++) a2s[j] = rank * 10 + j;
    OK(MPI_Ialltoall(a2s, 1, MPI_INT, a2r, 1, MPI_INT, w, &rs[n++]));
    /* v-forms: rank i contributes i % 2 + 1 ints, placed with a gap of one */
    int vc[MAXP], vd[MAXP], vin[2] = {rank * 7, rank * 7 + 1}, vout[3 * MAXP], at = 0;
    for (int i = 0; i < size; i++) { vc[i] = i % 2 + 1; vd[i] = at; at += vc[i] + 1; }
    for (int i = 0; i < 3 * MAXP; i++) vout[i] = -1;
    OK(MPI_Iallgatherv(vin, vc[rank], MPI_INT, vout, vc, vd, MPI_INT, w, &rs[n++]));
    int gvout[3 * MAXP];
    OK(MPI_Igatherv(vin, vc[rank], MPI_INT, gvout, vc, vd, MPI_INT, root, w, &rs[n++]));
    int svin[3 * MAXP], svout[2] = {-1, -1};
    for (int i = 0; i < 3 * MAXP; i++) svin[i] = 1000 + i;
    OK(MPI_Iscatterv(svin, vc, vd, MPI_INT, svout, vc[rank], MPI_INT, root, w, &rs[n++]));
    int avc[MAXP], avd[MAXP], avs[MAXP], avr[MAXP];
    for (int j = 0; j < size; j++) { avc[j] = 1; avd[j] = size - 1 - j; avs[size - 1 - j] = rank * 100 + j; }
    OK(MPI_Ialltoallv(avs, avc, avd, MPI_INT, avr, avc, avd, MPI_INT, w, &rs[n++]));
    int one[MAXP], wd[MAXP], ws[MAXP], wr[MAXP];
    MPI_Datatype wt[MAXP];
    for (int j = 0; j < size; j++) { one[j] = 1; wd[j] = j * (int)sizeof(int); wt[j] = MPI_INT; ws[j] = rank + 10 * j; }
    OK(MPI_Ialltoallw(ws, one, wd, wt, wr, one, wd, wt, w, &rs[n++]));
    int d3[6], red[2] = {-1, -1}, ared[6], sc[6], ex[6] = {-9, -9, -9, -9, -9, -9};
    for (int k = 0; k < 3; k++) { d3[2 * k] = rank + 1; d3[2 * k + 1] = 10; }
    OK(MPI_Ireduce(d3, red, 1, dg, cat, root, w, &rs[n++]));
    OK(MPI_Iallreduce(d3, ared, 3, dg, cat, w, &rs[n++]));
    OK(MPI_Iscan(d3, sc, 3, dg, cat, w, &rs[n++]));
    OK(MPI_Iexscan(d3, ex, 3, dg, cat, w, &rs[n++]));
    int rsin[2 * MAXP], rsout[2] = {-1, -1}, rbin[MAXP], rbout = -1;
    for (int j = 0; j < size; j++) { rsin[2 * j] = rbin[j] = rank + 1; rsin[2 * j + 1] = 10; }
    int ones[MAXP];
    for (int j = 0; j < size; j++) ones[j] = 1;
    OK(MPI_Ireduce_scatter(rsin, rsout, ones, dg, cat, w, &rs[n++]));
    OK(MPI_Ireduce_scatter_block(rbin, &rbout, 1, MPI_INT, MPI_SUM, w, &rs[n++]));
    OK(MPI_Waitall(n, rs, MPI_STATUSES_IGNORE));
    for (int i = 0; i < n; i++) CHECK(rs[i] == MPI_REQUEST_NULL, "request %d not reset", i);

    CHECK(bc[0] == 5 && bc[1] == -1 && bc[2] == 6, "ibcast %d %d %d", bc[0], bc[1], bc[2]);
    if (rank == root)
        for (int i = 0; i < size; i++) CHECK(gout[2 * i] == i && gout[2 * i + 1] == -i, "igather [%d]", i);
    CHECK(sone == 100 + rank, "iscatter %d", sone);
    for (int i = 0; i < size; i++) CHECK(agout[i] == i, "iallgather [%d]", i);
    for (int i = 0; i < size; i++) CHECK(a2r[i] == i * 10 + rank, "ialltoall [%d]", i);
    for (int i = 0; i < size; i++)
        for (int k = 0; k < vc[i]; k++) {
            CHECK(vout[vd[i] + k] == i * 7 + k, "iallgatherv [%d][%d]", i, k);
            if (rank == root) CHECK(gvout[vd[i] + k] == i * 7 + k, "igatherv [%d][%d]", i, k);
        }
    for (int k = 0; k < vc[rank]; k++) CHECK(svout[k] == 1000 + vd[rank] + k, "iscatterv [%d]", k);
    for (int i = 0; i < size; i++) CHECK(avr[size - 1 - i] == i * 100 + rank, "ialltoallv [%d]", i);
    for (int i = 0; i < size; i++) CHECK(wr[i] == i + 10 * rank, "ialltoallw [%d]", i);
    if (rank == root) CHECK(red[0] == number(0, size - 1), "ireduce %d", red[0]);
    for (int k = 0; k < 6; k += 2) {
        CHECK(ared[k] == number(0, size - 1), "iallreduce cat %d", ared[k]);
        CHECK(sc[k] == number(0, rank), "iscan %d", sc[k]);
        if (rank > 0) CHECK(ex[k] == number(0, rank - 1), "iexscan %d", ex[k]);
    }
    CHECK(rsout[0] == number(0, size - 1), "ireduce_scatter %d", rsout[0]);
    CHECK(rbout == size * (size + 1) / 2, "ireduce_scatter_block %d", rbout);

    /* in place */
    int ip[MAXP];
    for (int i = 0; i < size; i++) ip[i] = (i == rank) ? rank * 3 : -1;
    OK(MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ip, 1, MPI_INT, w, &r));
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    for (int i = 0; i < size; i++) CHECK(ip[i] == i * 3, "iallgather in place [%d]", i);
    int ipr[2] = {rank + 1, 10};
    OK(MPI_Iallreduce(MPI_IN_PLACE, ipr, 1, dg, cat, w, &r));
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    CHECK(ipr[0] == number(0, size - 1), "iallreduce in place %d", ipr[0]);

    /* 3. Persistent: started three times with new data each time */
    int pv = 0, ps = 0, pb[3] = {0, 0, 0};
    MPI_Request pr[3];
    OK(MPI_Allreduce_init(&pv, &ps, 1, MPI_INT, MPI_SUM, w, MPI_INFO_NULL, &pr[0]));
    OK(MPI_Bcast_init(pb, 1, pair, 0, w, MPI_INFO_NULL, &pr[1]));
    OK(MPI_Barrier_init(w, MPI_INFO_NULL, &pr[2]));
    for (int round = 0; round < 3; round++) {
        pv = rank * round;
        if (rank == 0) { pb[0] = round; pb[2] = -round; }
        if (round == 1) { OK(MPI_Start(&pr[0])); OK(MPI_Start(&pr[1])); OK(MPI_Start(&pr[2])); }
        else OK(MPI_Startall(3, pr));
        OK(MPI_Waitall(3, pr, MPI_STATUSES_IGNORE));
        CHECK(pr[0] != MPI_REQUEST_NULL, "a persistent request stays");
        CHECK(ps == round * size * (size - 1) / 2, "allreduce_init round %d: %d", round, ps);
        CHECK(pb[0] == round && pb[2] == -round, "bcast_init round %d", round);
    }
    /* waiting on an inactive persistent request returns at once */
    OK(MPI_Wait(&pr[2], MPI_STATUS_IGNORE));
    for (int i = 0; i < 3; i++) OK(MPI_Request_free(&pr[i]));

    /* 3b. Persistent vector collectives: the count, displacement and type arrays are copied at
     * init (a program may release them then, as mpi4py does): they are overwritten and freed
     * before the first start. */
    {
        int *gc = malloc(size * sizeof(int)), *gd = malloc(size * sizeof(int));
        int *rc = malloc(size * sizeof(int)), *ac = malloc(size * sizeof(int));
        int *ad = malloc(size * sizeof(int));
        MPI_Datatype *at = malloc(size * sizeof(MPI_Datatype));
        for (int i = 0; i < size; i++) {
            gc[i] = i + 1;
            gd[i] = i * (i + 1) / 2;
            rc[i] = 1;
            ac[i] = 1;
            ad[i] = i * (int)sizeof(int);
            at[i] = MPI_INT;
        }
        int total = size * (size + 1) / 2;
        int mine[MAXP + 1], all[MAXP * (MAXP + 1) / 2], rsin[MAXP], rsout1 = -1;
        int wout[MAXP], win_[MAXP];
        MPI_Request q[3];
        OK(MPI_Allgatherv_init(mine, rank + 1, MPI_INT, all, gc, gd, MPI_INT, w, MPI_INFO_NULL,
                               &q[0]));
        OK(MPI_Reduce_scatter_init(MPI_IN_PLACE, rsin, rc, MPI_INT, MPI_SUM, w, MPI_INFO_NULL,
                                   &q[1]));
        OK(MPI_Alltoallw_init(win_, ac, ad, at, wout, ac, ad, at, w, MPI_INFO_NULL, &q[2]));
        for (int i = 0; i < size; i++) {
            gc[i] = gd[i] = rc[i] = ac[i] = ad[i] = 0x7fffffff;
            at[i] = MPI_DATATYPE_NULL;
        }
        free(gc); free(gd); free(rc); free(ac); free(ad); free(at);
        for (int round = 1; round <= 2; round++) {
            for (int i = 0; i <= rank; i++) mine[i] = rank * 100 + i + round;
            for (int i = 0; i < total; i++) all[i] = -1;
            for (int i = 0; i < size; i++) {
                rsin[i] = round * (i + 1);
                win_[i] = rank * 10 + i + round;
                wout[i] = -1;
            }
            OK(MPI_Startall(3, q));
            OK(MPI_Waitall(3, q, MPI_STATUSES_IGNORE));
            for (int r_ = 0, k = 0; r_ < size; r_++)
                for (int i = 0; i <= r_; i++, k++)
                    CHECK(all[k] == r_ * 100 + i + round, "allgatherv_init round %d [%d] = %d",
                          round, k, all[k]);
            rsout1 = rsin[0];
            CHECK(rsout1 == round * (rank + 1) * size, "reduce_scatter_init in place round %d: %d",
                  round, rsout1);
            for (int i = 0; i < size; i++)
                CHECK(wout[i] == i * 10 + rank + round, "alltoallw_init round %d [%d] = %d", round,
                      i, wout[i]);
        }
        for (int i = 0; i < 3; i++) OK(MPI_Request_free(&q[i]));
    }

    /* 4. Large-count forms */
    long long big = rank, bigs = 0;
    OK(MPI_Iallreduce_c(&big, &bigs, (MPI_Count)1, MPI_LONG_LONG, MPI_SUM, w, &r));
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    CHECK(bigs == (long long)size * (size - 1) / 2, "iallreduce_c");
    OK(MPI_Bcast_init_c(&big, (MPI_Count)1, MPI_LONG_LONG, root, w, MPI_INFO_NULL, &r));
    OK(MPI_Start(&r));
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    CHECK(big == root, "bcast_init_c %lld", big);
    OK(MPI_Request_free(&r));

    OK(MPI_Op_free(&cat));
    OK(MPI_Type_free(&pair));
    OK(MPI_Type_free(&dg));
    pass("coll_nb");
    OK(MPI_Finalize());
    return 0;
}
