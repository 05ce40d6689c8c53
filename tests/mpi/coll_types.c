/* Collectives on every kind of datatype and operator: derived datatypes (vector, indexed,
 * struct, resized) in bcast/gather/scatter/allgather/alltoall and their v-forms with odd
 * counts and displacements, alltoallw, pair types with MPI_MAXLOC/MPI_MINLOC, long double,
 * complex and bool, a user operator that does not commute (applied in rank order) in every
 * reduction (reduce, allreduce, scan, exscan, reduce_scatter(_block)), in place where MPI
 * allows it, and the large-count _c forms. Every result is checked exactly. */
#include "check.h"
#include <complex.h>
#include <stdbool.h>
#include <stddef.h>

#define MAXP 16

/* Digits in rank order, modulo the prime DMOD (so that 16 ranks' digits fit an int):
 * (value, 10^digits). a op b = a's digits then b's: associative, not commutative. */
#define DMOD 32749
typedef struct { int v, p; } digits;
static void concat(void *in, void *inout, int *len, MPI_Datatype *dt) {
    /* elements are the datatype's extent apart (a pair, or a pair with a hole after it) */
    MPI_Aint lb, ext;
    MPI_Type_get_extent(*dt, &lb, &ext);
    for (int i = 0; i < *len; i++) {
        digits *a = (digits *)((char *)in + i * ext), *b = (digits *)((char *)inout + i * ext);
        b->v = (int)(((long long)a->v * b->p + b->v) % DMOD);
        b->p = (int)((long long)a->p * b->p % DMOD);
    }
}
/* The digits of ranks lo..hi (inclusive), each digit (rank % 9) + 1, shifted by k. */
static digits expect(int lo, int hi, int k) {
    digits d = {0, 1};
    for (int r = lo; r <= hi; r++) { d.v = (d.v * 10 + ((r + k) % 9) + 1) % DMOD; d.p = d.p * 10 % DMOD; }
    return d;
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    CHECK(size <= MAXP, "at most %d processes", MAXP);
    MPI_Comm w = MPI_COMM_WORLD;
    int root = size > 1 ? 1 : 0;

    /* A vector: 3 ints, every other one (stride 2); resized to extent 6 ints. */
    MPI_Datatype vec, vecr;
    OK(MPI_Type_vector(3, 1, 2, MPI_INT, &vec));
    OK(MPI_Type_create_resized(vec, 0, 6 * sizeof(int), &vecr));
    OK(MPI_Type_commit(&vec));
    OK(MPI_Type_commit(&vecr));

    /* bcast of 2 vecr: ints 0,2,4 and 6,8,10; the gaps stay as they were */
    int b[12];
    for (int i = 0; i < 12; i++) b[i] = (rank == root || i % 2) ? 100 + i : -1;
    OK(MPI_Bcast(b, 2, vecr, root, w));
    for (int i = 0; i < 12; i++) CHECK(b[i] == 100 + i, "bcast vector [%d] %d", i, b[i]);

    /* gather: each rank sends 3 contiguous ints, the root receives them as a vecr each */
    int three[3] = {rank, rank * 10, rank * 100}, g[6 * MAXP];
    for (int i = 0; i < 6 * MAXP; i++) g[i] = -7;
    OK(MPI_Gather(three, 3, MPI_INT, g, 1, vecr, root, w));
    if (rank == root)
        for (int r = 0; r < size; r++)
            for (int j = 0; j < 6; j++)
                CHECK(g[6 * r + j] == (j % 2 ? -7 : (j == 0 ? r : j == 2 ? r * 10 : r * 100)),
                      "gather vector rank %d [%d] %d", r, j, g[6 * r + j]);

    /* scatter back from the vector layout, in place at the root */
    int s3[3] = {-1, -1, -1};
    if (rank == root) OK(MPI_Scatter(g, 1, vecr, MPI_IN_PLACE, 3, MPI_INT, root, w));
    else {
        OK(MPI_Scatter(NULL, 0, MPI_DATATYPE_NULL, s3, 3, MPI_INT, root, w));
        CHECK(s3[0] == rank && s3[1] == rank * 10 && s3[2] == rank * 100, "scatter vector %d %d %d", s3[0], s3[1], s3[2]);
    }

    /* allgather in place into vecr blocks */
    int ag[6 * MAXP];
    for (int i = 0; i < 6 * size; i++) ag[i] = (i / 6 == rank) ? 1000 * rank + i % 6 : -3;
    OK(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ag, 1, vecr, w));
    for (int i = 0; i < 6 * size; i++) {
        int want = (i % 2 == 0 || i / 6 == rank) ? 1000 * (i / 6) + i % 6 : -3;
        CHECK(ag[i] == want, "allgather in place vector [%d] %d want %d", i, ag[i], want);
    }

    /* a struct {char c; double d;} (padded), alltoall of one each */
    struct cd { char c; double d; } sa[MAXP], ra[MAXP];
    int bl[2] = {1, 1};
    MPI_Aint dp[2] = {offsetof(struct cd, c), offsetof(struct cd, d)};
    MPI_Datatype tys[2] = {MPI_CHAR, MPI_DOUBLE}, cdt;
    OK(MPI_Type_create_struct(2, bl, dp, tys, &cdt));
    OK(MPI_Type_commit(&cdt));
    for (int j = 0; j < size; j++) { sa[j].c = (char)('a' + rank); sa[j].d = rank + j / 8.0; }
    OK(MPI_Alltoall(sa, 1, cdt, ra, 1, cdt, w));
    for (int i = 0; i < size; i++)
        CHECK(ra[i].c == 'a' + i && ra[i].d == i + rank / 8.0, "alltoall struct [%d]", i);

    /* gatherv/allgatherv/scatterv with odd counts and displacements on an indexed type */
    int ibl[2] = {1, 2}, idp[2] = {0, 3};
    MPI_Datatype idx; /* ints 0, 3, 4 of a span of 5 */
    OK(MPI_Type_indexed(2, ibl, idp, MPI_INT, &idx));
    OK(MPI_Type_commit(&idx));
    int rc[MAXP], dsp[MAXP], tot = 0;
    for (int r = 0; r < size; r++) { rc[r] = r % 3; dsp[r] = tot + 1; tot += rc[r] + 1; }
    int mine[2 * 3], gv[5 * 4 * MAXP];
    for (int k = 0; k < rc[rank]; k++) { mine[3 * k] = rank; mine[3 * k + 1] = k; mine[3 * k + 2] = -rank; }
    for (int i = 0; i < 5 * 4 * MAXP; i++) gv[i] = -9;
    OK(MPI_Allgatherv(mine, 3 * rc[rank], MPI_INT, gv, rc, dsp, idx, w));
    for (int r = 0; r < size; r++)
        for (int k = 0; k < rc[r]; k++) {
            int *e = gv + 5 * (dsp[r] + k);
            CHECK(e[0] == r && e[3] == k && e[4] == -r && e[1] == -9 && e[2] == -9, "allgatherv indexed rank %d elem %d", r, k);
        }
    for (int i = 0; i < 6; i++) mine[i] = -1;
    OK(MPI_Scatterv(gv, rc, dsp, idx, mine, 3 * rc[rank], MPI_INT, root, w));
    for (int k = 0; k < rc[rank]; k++)
        CHECK(mine[3 * k] == rank && mine[3 * k + 1] == k && mine[3 * k + 2] == -rank, "scatterv indexed elem %d", k);
    if (rank == root) OK(MPI_Gatherv(MPI_IN_PLACE, 0, MPI_INT, gv, rc, dsp, idx, root, w));
    else OK(MPI_Gatherv(mine, 3 * rc[rank], MPI_INT, NULL, NULL, NULL, MPI_INT, root, w));

    /* negative displacements: rank i's int lands i + 1 ints before the middle of the buffer */
    /* (one spare int below the lowest block, which must stay untouched, even at MAXP ranks) */
    int mid[2 * MAXP + 2], negd[MAXP], onec[MAXP];
    const int m0 = MAXP + 1;
    for (int i = 0; i < 2 * MAXP + 2; i++) mid[i] = -4;
    for (int r = 0; r < size; r++) { negd[r] = -(r + 1); onec[r] = 1; }
    int mine1 = 50 + rank;
    OK(MPI_Allgatherv(&mine1, 1, MPI_INT, mid + m0, onec, negd, MPI_INT, w));
    for (int r = 0; r < size; r++) CHECK(mid[m0 - r - 1] == 50 + r, "allgatherv negative displacement %d", r);
    CHECK(mid[m0] == -4 && mid[m0 - size - 1] == -4, "allgatherv wrote outside its blocks");

    /* alltoallv with odd counts (j + rank) % 2 + 1 and gaps; alltoallw with mixed types */
    int sc[MAXP], sd[MAXP], rcv[MAXP], rd[MAXP], sbuf[4 * MAXP], rbuf[4 * MAXP];
    for (int j = 0, at = 0; j < size; j++) { sc[j] = (j + rank) % 2 + 1; sd[j] = at + 1; at += sc[j] + 1; }
    for (int i = 0, at = 0; i < size; i++) { rcv[i] = (i + rank) % 2 + 1; rd[i] = at; at += rcv[i] + 1; }
    for (int j = 0; j < size; j++) for (int k = 0; k < sc[j]; k++) sbuf[sd[j] + k] = rank * 100 + j * 10 + k;
    for (int i = 0; i < 4 * MAXP; i++) rbuf[i] = -5;
    OK(MPI_Alltoallv(sbuf, sc, sd, MPI_INT, rbuf, rcv, rd, MPI_INT, w));
    for (int i = 0; i < size; i++)
        for (int k = 0; k < rcv[i]; k++) CHECK(rbuf[rd[i] + k] == i * 100 + rank * 10 + k, "alltoallv [%d][%d]", i, k);
    {
        /* rank i sends rank j one int as MPI_INT and receives it as one element of a
           contiguous(1, MPI_INT); byte displacements in reverse order */
        MPI_Datatype c1, st[MAXP], rt[MAXP];
        OK(MPI_Type_contiguous(1, MPI_INT, &c1));
        OK(MPI_Type_commit(&c1));
        int ws[MAXP], wr[MAXP], one[MAXP], wsd[MAXP], wrd[MAXP];
        for (int j = 0; j < size; j++) {
            ws[size - 1 - j] = rank * 10 + j; one[j] = 1; st[j] = MPI_INT; rt[j] = c1;
            wsd[j] = (size - 1 - j) * (int)sizeof(int); wrd[j] = j * (int)sizeof(int); wr[j] = -1;
        }
        OK(MPI_Alltoallw(ws, one, wsd, st, wr, one, wrd, rt, w));
        for (int i = 0; i < size; i++) CHECK(wr[i] == i * 10 + rank, "alltoallw [%d] %d", i, wr[i]);
        OK(MPI_Type_free(&c1));
    }

    /* MAXLOC / MINLOC on MPI_DOUBLE_INT; ties go to the lower index */
    struct { double v; int i; } dl[2] = {{(double)(rank % 2), rank}, {-(double)rank, rank}}, dr[2];
    OK(MPI_Allreduce(dl, dr, 1, MPI_DOUBLE_INT, MPI_MAXLOC, w));
    CHECK(dr[0].v == (size > 1 ? 1 : 0) && dr[0].i == (size > 1 ? 1 : 0), "maxloc %g %d", dr[0].v, dr[0].i);
    OK(MPI_Reduce(&dl[1], &dr[1], 1, MPI_DOUBLE_INT, MPI_MINLOC, root, w));
    if (rank == root) CHECK(dr[1].v == -(size - 1) && dr[1].i == size - 1, "minloc %g %d", dr[1].v, dr[1].i);
    /* 2INT maxloc over a vector of pairs, in place */
    int pr[4] = {rank, rank, -rank, rank};
    OK(MPI_Allreduce(MPI_IN_PLACE, pr, 2, MPI_2INT, MPI_MAXLOC, w));
    CHECK(pr[0] == size - 1 && pr[1] == size - 1 && pr[2] == 0 && pr[3] == 0, "2int maxloc");

    /* long double, complex, bool */
    long double ld = 0.5L + rank, lds = 0;
    OK(MPI_Allreduce(&ld, &lds, 1, MPI_LONG_DOUBLE, MPI_SUM, w));
    CHECK(lds == 0.5L * size + size * (size - 1) / 2.0L, "long double sum %Lg", lds);
    double _Complex z = rank + 1.0 * I, zs = 0;
    OK(MPI_Allreduce(&z, &zs, 1, MPI_C_DOUBLE_COMPLEX, MPI_SUM, w));
    CHECK(creal(zs) == size * (size - 1) / 2.0 && cimag(zs) == size, "complex sum");
    bool bt = rank != 1, band = 0, bor = 0;
    OK(MPI_Allreduce(&bt, &band, 1, MPI_C_BOOL, MPI_LAND, w));
    OK(MPI_Allreduce(&bt, &bor, 1, MPI_C_BOOL, MPI_LOR, w));
    CHECK(band == (size < 2) && bor == 1, "bool land %d lor %d", band, bor);
    int lx = rank % 2, lxr = -1;
    OK(MPI_Allreduce(&lx, &lxr, 1, MPI_INT, MPI_LXOR, w));
    CHECK(lxr == (size / 2) % 2, "lxor %d", lxr);
    /* an operator not defined for the type is MPI_ERR_OP */
    OK(MPI_Comm_set_errhandler(w, MPI_ERRORS_RETURN));
    float f = 1, fr;
    int rcode = MPI_Allreduce(&f, &fr, 1, MPI_FLOAT, MPI_BAND, w);
    CHECK(class_of(rcode) == MPI_ERR_OP, "band on float: class %d", class_of(rcode));
    OK(MPI_Comm_set_errhandler(w, MPI_ERRORS_ARE_FATAL));

    /* the non-commutative user operator in every reduction */
    MPI_Op cat;
    MPI_Datatype dg;
    OK(MPI_Type_contiguous(2, MPI_INT, &dg));
    OK(MPI_Type_commit(&dg));
    OK(MPI_Op_create(concat, 0, &cat));
    int commute = 1;
    OK(MPI_Op_commutative(cat, &commute));
    CHECK(commute == 0, "commutative %d", commute);
    digits mine2[3], out[3 * MAXP];
    for (int k = 0; k < 3; k++) { mine2[k].v = (rank + k) % 9 + 1; mine2[k].p = 10; }
    OK(MPI_Reduce(mine2, out, 3, dg, cat, root, w));
    if (rank == root)
        for (int k = 0; k < 3; k++) {
            digits e = expect(0, size - 1, k);
            CHECK(out[k].v == e.v && out[k].p == e.p, "reduce cat[%d] %d want %d", k, out[k].v, e.v);
        }
    for (int k = 0; k < 3; k++) out[k] = mine2[k];
    OK(MPI_Allreduce(MPI_IN_PLACE, out, 3, dg, cat, w));
    for (int k = 0; k < 3; k++) CHECK(out[k].v == expect(0, size - 1, k).v, "allreduce cat[%d] %d", k, out[k].v);
    OK(MPI_Scan(mine2, out, 3, dg, cat, w));
    for (int k = 0; k < 3; k++) CHECK(out[k].v == expect(0, rank, k).v, "scan cat[%d] %d", k, out[k].v);
    out[0].v = -42;
    OK(MPI_Exscan(mine2, out, 1, dg, cat, w));
    if (rank > 0) CHECK(out[0].v == expect(0, rank - 1, 0).v, "exscan cat %d", out[0].v);
    /* reduce_scatter_block: block j of rank r is digit (r + j) % 9 + 1 */
    digits rsb[MAXP], rso[1];
    for (int j = 0; j < size; j++) { rsb[j].v = (rank + j) % 9 + 1; rsb[j].p = 10; }
    OK(MPI_Reduce_scatter_block(rsb, rso, 1, dg, cat, w));
    CHECK(rso[0].v == expect(0, size - 1, rank).v, "reduce_scatter_block cat %d", rso[0].v);
    /* reduce_scatter in place with counts 1, 2, 1, 2, ... */
    int cnt[MAXP], total = 0;
    for (int j = 0; j < size; j++) { cnt[j] = j % 2 + 1; total += cnt[j]; }
    digits rs[3 * MAXP];
    for (int e = 0; e < total; e++) { rs[e].v = (rank + e) % 9 + 1; rs[e].p = 10; }
    OK(MPI_Reduce_scatter(MPI_IN_PLACE, rs, cnt, dg, cat, w));
    int first = 0;
    for (int j = 0; j < rank; j++) first += cnt[j];
    for (int k = 0; k < cnt[rank]; k++)
        CHECK(rs[k].v == expect(0, size - 1, first + k).v, "reduce_scatter cat [%d] %d", k, rs[k].v);
    /* a user operator on a non-dense datatype: every other int of vec (3 digits pairs apart
       is not a pair layout), so use the resized pair type with a hole */
    MPI_Datatype hole;
    OK(MPI_Type_create_resized(dg, 0, 3 * sizeof(int), &hole));
    OK(MPI_Type_commit(&hole));
    int hs[6] = {rank % 9 + 1, 10, -1, (rank + 1) % 9 + 1, 10, -1}, hr[6] = {0, 0, 77, 0, 0, 77};
    OK(MPI_Allreduce(hs, hr, 2, hole, cat, w));
    CHECK(hr[0] == expect(0, size - 1, 0).v && hr[3] == expect(0, size - 1, 1).v && hr[2] == 77 && hr[5] == 77,
          "allreduce cat holes %d %d %d", hr[0], hr[3], hr[2]);

    /* large-count forms */
    MPI_Count cc = 2;
    long long big[2] = {rank, 1}, bigs[2];
    OK(MPI_Allreduce_c(big, bigs, cc, MPI_LONG_LONG, MPI_SUM, w));
    CHECK(bigs[0] == (long long)size * (size - 1) / 2 && bigs[1] == size, "allreduce_c");
    MPI_Count ccs[MAXP];
    MPI_Aint cds[MAXP];
    int cg[MAXP];
    for (int r = 0; r < size; r++) { ccs[r] = 1; cds[r] = size - 1 - r; }
    OK(MPI_Allgatherv_c(&rank, 1, MPI_INT, cg, ccs, cds, MPI_INT, w));
    for (int r = 0; r < size; r++) CHECK(cg[size - 1 - r] == r, "allgatherv_c [%d]", r);
    OK(MPI_Bcast_c(big, cc, MPI_LONG_LONG, 0, w));
    CHECK(big[0] == 0 && big[1] == 1, "bcast_c");

    OK(MPI_Op_free(&cat));
    OK(MPI_Type_free(&hole));
    OK(MPI_Type_free(&dg));
    OK(MPI_Type_free(&idx));
    OK(MPI_Type_free(&cdt));
    OK(MPI_Type_free(&vec));
    OK(MPI_Type_free(&vecr));
    pass("coll_types");
    OK(MPI_Finalize());
    return 0;
}
