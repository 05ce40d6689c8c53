/* Datatypes and operators without communication: predefined sizes and extents (pair types with
 * their C padding), constructors checked against the C layout, commit/free, envelope and
 * contents, names, Pack/Unpack/Pack_size, addresses, and Reduce_local with predefined operators
 * (MAXLOC tie rule, complex, LXOR on bool, BAND on float refused) and user operators (order,
 * the large-count form, non-contiguous datatypes). */
#include "check.h"
#include <complex.h>
#include <stddef.h>
#include <stdbool.h>

struct S { char c; double d; int i; };
struct DI { double v; int i; };
struct SI { short v; int i; };
struct LDI { long double v; int i; };

static void extent_is(MPI_Datatype t, MPI_Aint lb, MPI_Aint ext, int size, const char *what) {
    MPI_Aint l = -1, e = -1;
    int s = -1;
    OK(MPI_Type_get_extent(t, &l, &e));
    OK(MPI_Type_size(t, &s));
    CHECK(l == lb && e == ext && s == size, "%s: lb %ld extent %ld size %d (want %ld %ld %d)", what,
          (long)l, (long)e, s, (long)lb, (long)ext, size);
}

/* inout[i] = 10 * in[i] + inout[i]: not commutative. */
static void ten_x(void *in, void *inout, int *len, MPI_Datatype *t) {
    MPI_Aint lb, ext;
    MPI_Type_get_extent(*t, &lb, &ext);
    for (int k = 0; k < *len; k++) {
        int *a = (int *)((char *)in + k * ext), *b = (int *)((char *)inout + k * ext);
        *b = 10 * *a + *b;
    }
}

static void ten_x_c(void *in, void *inout, MPI_Count *len, MPI_Datatype *t) {
    int n = (int)*len;
    ten_x(in, inout, &n, t);
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));

    /* Predefined types, pair types with their padding. */
    extent_is(MPI_INT, 0, sizeof(int), sizeof(int), "MPI_INT");
    extent_is(MPI_LONG, 0, sizeof(long), sizeof(long), "MPI_LONG");
    extent_is(MPI_C_DOUBLE_COMPLEX, 0, sizeof(double complex), sizeof(double complex), "complex");
    extent_is(MPI_C_BOOL, 0, sizeof(bool), sizeof(bool), "MPI_C_BOOL");
    extent_is(MPI_DOUBLE_INT, 0, sizeof(struct DI), 12, "MPI_DOUBLE_INT");
    extent_is(MPI_SHORT_INT, 0, sizeof(struct SI), 6, "MPI_SHORT_INT");
    extent_is(MPI_2INT, 0, 2 * sizeof(int), 2 * sizeof(int), "MPI_2INT");
    extent_is(MPI_LONG_DOUBLE_INT, 0, sizeof(struct LDI), sizeof(long double) + sizeof(int), "MPI_LONG_DOUBLE_INT");
    extent_is(MPI_AINT, 0, sizeof(MPI_Aint), sizeof(MPI_Aint), "MPI_AINT");

    /* A struct type from offsetof: size 13, the C struct's extent, packs without holes. */
    int bl[3] = {1, 1, 1};
    MPI_Aint disp[3] = {offsetof(struct S, c), offsetof(struct S, d), offsetof(struct S, i)};
    MPI_Datatype parts[3] = {MPI_CHAR, MPI_DOUBLE, MPI_INT}, st;
    OK(MPI_Type_create_struct(3, bl, disp, parts, &st));
    OK(MPI_Type_commit(&st));
    extent_is(st, 0, sizeof(struct S), 13, "struct");
    MPI_Aint tlb, text;
    OK(MPI_Type_get_true_extent(st, &tlb, &text));
    CHECK(tlb == 0 && text == offsetof(struct S, i) + sizeof(int), "true extent %ld", (long)text);
    struct S in[2] = {{'a', 1.5, 7}, {'b', -2.0, 9}}, out[2];
    memset(out, 0, sizeof out);
    char packed[64];
    int pos = 0, psize = -1;
    OK(MPI_Pack_size(2, st, MPI_COMM_WORLD, &psize));
    CHECK(psize >= 26, "pack size %d", psize);
    OK(MPI_Pack(in, 2, st, packed, sizeof packed, &pos, MPI_COMM_WORLD));
    CHECK(pos == 26, "packed %d bytes", pos);
    int upos = 0;
    OK(MPI_Unpack(packed, pos, &upos, out, 2, st, MPI_COMM_WORLD));
    CHECK(upos == 26 && out[1].c == 'b' && out[1].d == -2.0 && out[0].i == 7, "unpack");
    int rc;

    /* Vector, resized, indexed: packing picks the right ints. */
    int a[16];
    for (int k = 0; k < 16; k++) a[k] = k;
    MPI_Datatype v, r, ix;
    OK(MPI_Type_vector(3, 2, 4, MPI_INT, &v));
    OK(MPI_Type_commit(&v));
    extent_is(v, 0, 10 * sizeof(int), 6 * sizeof(int), "vector");
    int got[12];
    pos = 0;
    OK(MPI_Pack(a, 1, v, got, sizeof got, &pos, MPI_COMM_WORLD));
    CHECK(got[0] == 0 && got[1] == 1 && got[2] == 4 && got[5] == 9, "vector packs %d %d %d %d",
          got[0], got[1], got[2], got[5]);
    OK(MPI_Type_create_resized(MPI_INT, 0, 3 * sizeof(int), &r));
    OK(MPI_Type_commit(&r));
    pos = 0;
    OK(MPI_Pack(a + 1, 4, r, got, sizeof got, &pos, MPI_COMM_WORLD));
    CHECK(pos == 16 && got[0] == 1 && got[3] == 10, "resized packs %d %d", got[0], got[3]);
    int ibl[2] = {2, 1}, idisp[2] = {5, 0};
    OK(MPI_Type_indexed(2, ibl, idisp, MPI_INT, &ix));
    OK(MPI_Type_commit(&ix));
    pos = 0;
    OK(MPI_Pack(a, 1, ix, got, sizeof got, &pos, MPI_COMM_WORLD));
    CHECK(got[0] == 5 && got[1] == 6 && got[2] == 0, "indexed packs");

    /* Envelope and contents. */
    int ni, na, nd, comb;
    OK(MPI_Type_get_envelope(v, &ni, &na, &nd, &comb));
    CHECK(comb == MPI_COMBINER_VECTOR && ni == 3 && na == 0 && nd == 1, "vector envelope");
    int ints[3];
    MPI_Aint addrs[1];
    MPI_Datatype types[1];
    OK(MPI_Type_get_contents(v, 3, 0, 1, ints, addrs, types));
    CHECK(ints[0] == 3 && ints[1] == 2 && ints[2] == 4 && types[0] == MPI_INT, "vector contents");
    OK(MPI_Type_get_envelope(MPI_INT, &ni, &na, &nd, &comb));
    CHECK(comb == MPI_COMBINER_NAMED, "named envelope");
    OK(MPI_Type_get_envelope(st, &ni, &na, &nd, &comb));
    CHECK(comb == MPI_COMBINER_STRUCT && ni == 4 && na == 3 && nd == 3, "struct envelope");

    /* Names. */
    char name[MPI_MAX_OBJECT_NAME];
    int nlen;
    OK(MPI_Type_get_name(MPI_DOUBLE, name, &nlen));
    CHECK(strcmp(name, "MPI_DOUBLE") == 0, "name %s", name);
    OK(MPI_Type_set_name(v, "every other"));
    OK(MPI_Type_get_name(v, name, &nlen));
    CHECK(strcmp(name, "every other") == 0 && nlen == 11, "set name %s", name);

    /* Dup, free, predefined cannot be freed. */
    MPI_Datatype d;
    OK(MPI_Type_dup(v, &d));
    extent_is(d, 0, 10 * sizeof(int), 6 * sizeof(int), "dup");
    OK(MPI_Type_free(&d));
    CHECK(d == MPI_DATATYPE_NULL, "free sets NULL");
    MPI_Datatype pre = MPI_INT;
    rc = MPI_Type_free(&pre);
    CHECK(class_of(rc) == MPI_ERR_TYPE, "freeing MPI_INT: class %d", class_of(rc));

    /* Addresses. */
    MPI_Aint p0, p1;
    OK(MPI_Get_address(&a[0], &p0));
    OK(MPI_Get_address(&a[3], &p1));
    CHECK(MPI_Aint_diff(p1, p0) == 3 * sizeof(int) && MPI_Aint_add(p0, 12) == p1, "addresses");

    /* Reduce_local with predefined operators. */
    int x[3] = {1, 5, -2}, y[3] = {2, 7, 3};
    OK(MPI_Reduce_local(x, y, 3, MPI_INT, MPI_SUM));
    CHECK(y[0] == 3 && y[1] == 12 && y[2] == 1, "sum");
    struct DI p[3] = {{1.0, 5}, {4.0, 1}, {2.0, 9}}, q[3] = {{3.0, 2}, {4.0, 0}, {2.0, 3}};
    OK(MPI_Reduce_local(p, q, 3, MPI_DOUBLE_INT, MPI_MAXLOC));
    CHECK(q[0].v == 3.0 && q[0].i == 2 && q[1].i == 0 && q[2].i == 3, "maxloc ties: %d %d", q[1].i, q[2].i);
    struct DI m[1] = {{2.0, 1}}, n[1] = {{2.0, 8}};
    OK(MPI_Reduce_local(m, n, 1, MPI_DOUBLE_INT, MPI_MINLOC));
    CHECK(n[0].i == 1, "minloc tie takes the lower index: %d", n[0].i);
    double complex c1 = 1.0 + 2.0 * I, c2 = 3.0 - 1.0 * I;
    OK(MPI_Reduce_local(&c1, &c2, 1, MPI_C_DOUBLE_COMPLEX, MPI_PROD));
    CHECK(creal(c2) == 5.0 && cimag(c2) == 5.0, "complex product");
    bool b1[2] = {true, false}, b2[2] = {true, true};
    OK(MPI_Reduce_local(b1, b2, 2, MPI_C_BOOL, MPI_LXOR));
    CHECK(!b2[0] && b2[1], "lxor");
    long double l1 = 1.5L, l2 = 2.25L;
    OK(MPI_Reduce_local(&l1, &l2, 1, MPI_LONG_DOUBLE, MPI_SUM));
    CHECK(l2 == 3.75L, "long double sum");
    float f1 = 1, f2 = 2;
    rc = MPI_Reduce_local(&f1, &f2, 1, MPI_FLOAT, MPI_BAND);
    CHECK(class_of(rc) == MPI_ERR_OP, "BAND on float: class %d", class_of(rc));
    /* User operators: the order (inout = in op inout), commutativity, the large-count form, a
     * non-contiguous datatype (the function sees the datatype's layout). */
    MPI_Op op, opc;
    OK(MPI_Op_create(ten_x, 0, &op));
    int commute = -1;
    OK(MPI_Op_commutative(op, &commute));
    CHECK(commute == 0, "commutative %d", commute);
    int u[2] = {1, 2}, w[2] = {3, 4};
    OK(MPI_Reduce_local(u, w, 2, MPI_INT, op));
    CHECK(w[0] == 13 && w[1] == 24, "user op %d %d", w[0], w[1]);
    int ra[7] = {1, 0, 0, 2, 0, 0, 3}, rb[7] = {5, -1, -1, 6, -1, -1, 7};
    OK(MPI_Reduce_local(ra, rb, 3, r, op));
    CHECK(rb[0] == 15 && rb[1] == -1 && rb[3] == 26 && rb[6] == 37, "user op on resized");
    OK(MPI_Op_create_c(ten_x_c, 1, &opc));
    OK(MPI_Op_commutative(opc, &commute));
    CHECK(commute == 1, "commutative %d", commute);
    OK(MPI_Reduce_local(u, w, 2, MPI_INT, opc));
    CHECK(w[0] == 23 && w[1] == 44, "large-count user op %d %d", w[0], w[1]);
    OK(MPI_Op_free(&op));
    OK(MPI_Op_free(&opc));
    CHECK(op == MPI_OP_NULL, "op free sets NULL");
    MPI_Op sum = MPI_SUM;
    rc = MPI_Op_free(&sum);
    CHECK(class_of(rc) == MPI_ERR_OP, "freeing MPI_SUM: class %d", class_of(rc));

    OK(MPI_Type_free(&st));
    OK(MPI_Type_free(&v));
    OK(MPI_Type_free(&r));
    OK(MPI_Type_free(&ix));
    pass("datatype");
    OK(MPI_Finalize());
    return 0;
}
