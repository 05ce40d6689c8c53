/* Datatypes mpi4py decodes and packs: subarray and darray (type maps checked element by element
 * against a direct computation of which array elements they select, extents, contents incl.
 * the large-count forms), the Fortran 90 parameterized types, MPI_Type_match_size,
 * MPI_Type_get_value_index, external32 bytes (MPI_Pack_external, ..._size, Unpack_external),
 * datatype attributes with copy/delete callbacks on dup/free, handle conversion and the MPI-1
 * names removed in MPI-3.0. */
#include "check.h"
#include <stdint.h>

/* Removed in MPI-3.0: not declared by the standard ABI header, still exported by MPICH's and
 * libfmi's libraries. */
int MPI_Type_lb(MPI_Datatype datatype, MPI_Aint *displacement);
int MPI_Type_ub(MPI_Datatype datatype, MPI_Aint *displacement);
int MPI_Type_extent(MPI_Datatype datatype, MPI_Aint *extent);
int MPI_Type_hvector(int count, int blocklength, MPI_Aint stride, MPI_Datatype oldtype,
                     MPI_Datatype *newtype);
int MPI_Address(void *location, MPI_Aint *address);

#define N 4096
static int src[N];

/* Packs one element of t (over src = 0, 1, 2, ...) and checks it selects want[0..n). */
static void selects(MPI_Datatype t, const int *want, int n, const char *what) {
    int size = -1;
    OK(MPI_Type_size(t, &size));
    CHECK(size == n * (int)sizeof(int), "%s: size %d, want %d ints", what, size, n);
    int *out = malloc(sizeof(int) * (n + 1));
    int pos = 0;
    OK(MPI_Pack(src, 1, t, out, sizeof(int) * (n + 1), &pos, MPI_COMM_SELF));
    CHECK(pos == size, "%s: packed %d", what, pos);
    for (int i = 0; i < n; i++)
        CHECK(out[i] == want[i], "%s: element %d is %d, want %d", what, i, out[i], want[i]);
    free(out);
}

static void extent_is(MPI_Datatype t, MPI_Aint lb, MPI_Aint ext, const char *what) {
    MPI_Aint l, e;
    OK(MPI_Type_get_extent(t, &l, &e));
    CHECK(l == lb && e == ext, "%s: lb %ld extent %ld, want %ld %ld", what, (long)l, (long)e,
          (long)lb, (long)ext);
}

/* The combiner and integer contents of t. */
static void contents_are(MPI_Datatype t, int combiner, const int *ints, int ni, const char *what) {
    int n_i, n_a, n_d, comb;
    OK(MPI_Type_get_envelope(t, &n_i, &n_a, &n_d, &comb));
    CHECK(comb == combiner && n_i == ni && n_a == 0, "%s: combiner %d ni %d na %d nd %d", what,
          comb, n_i, n_a, n_d);
    int got[64];
    MPI_Aint a[1];
    MPI_Datatype d[1];
    OK(MPI_Type_get_contents(t, 64, 1, 1, got, a, d));
    for (int i = 0; i < ni; i++)
        CHECK(got[i] == ints[i], "%s: integer %d is %d, want %d", what, i, got[i], ints[i]);
    if (n_d == 1) {
        int c2, x1, x2, x3;
        OK(MPI_Type_get_envelope(d[0], &x1, &x2, &x3, &c2));
        CHECK(c2 == MPI_COMBINER_NAMED && d[0] == MPI_INT, "%s: old type", what);
    }
}

/* Row-major linear offset of a multi-index in an array of sizes (dimension 0 slowest). */
static int offset_c(int nd, const int *idx, const int *sizes) {
    int off = 0;
    for (int i = 0; i < nd; i++) off = off * sizes[i] + idx[i];
    return off;
}

/* Every multi-index of the array in storage order (C: last fastest; Fortran: first fastest),
 * calling keep(idx) and collecting the storage offsets of the kept ones. */
static int enumerate(int nd, const int *sizes, int c_order, int (*keep)(const int *, void *),
                     void *ctx, int *out) {
    int idx[8] = {0}, total = 1, n = 0;
    for (int i = 0; i < nd; i++) total *= sizes[i];
    for (int k = 0; k < total; k++) {
        /* k -> multi-index in storage order */
        int r = k;
        if (c_order) {
            for (int i = nd - 1; i >= 0; i--) { idx[i] = r % sizes[i]; r /= sizes[i]; }
        } else {
            for (int i = 0; i < nd; i++) { idx[i] = r % sizes[i]; r /= sizes[i]; }
        }
        if (keep(idx, ctx)) {
            if (c_order) out[n++] = offset_c(nd, idx, sizes);
            else {
                int off = 0;
                for (int i = nd - 1; i >= 0; i--) off = off * sizes[i] + idx[i];
                out[n++] = off;
            }
        }
    }
    return n;
}

struct sub { int nd; const int *subsizes, *starts; };
static int in_sub(const int *idx, void *p) {
    struct sub *s = p;
    for (int i = 0; i < s->nd; i++)
        if (idx[i] < s->starts[i] || idx[i] >= s->starts[i] + s->subsizes[i]) return 0;
    return 1;
}

struct dar { int nd; const int *gsizes, *distribs, *dargs, *psizes; int coords[8]; };
static int owns(const int *idx, void *p) {
    struct dar *d = p;
    for (int i = 0; i < d->nd; i++) {
        int g = d->gsizes[i], q = d->psizes[i], c = d->coords[i], k = d->dargs[i];
        if (d->distribs[i] == MPI_DISTRIBUTE_NONE) continue;
        if (d->distribs[i] == MPI_DISTRIBUTE_BLOCK) {
            int b = k == MPI_DISTRIBUTE_DFLT_DARG ? (g + q - 1) / q : k;
            if (idx[i] / b != c) return 0;
        } else {
            int b = k == MPI_DISTRIBUTE_DFLT_DARG ? 1 : k;
            if ((idx[i] / b) % q != c) return 0;
        }
    }
    return 1;
}

static void subarray_case(int nd, const int *sizes, const int *subsizes, const int *starts,
                          int order) {
    MPI_Datatype t;
    OK(MPI_Type_create_subarray(nd, sizes, subsizes, starts, order, MPI_INT, &t));
    OK(MPI_Type_commit(&t));
    int want[N];
    struct sub s = {nd, subsizes, starts};
    int n = enumerate(nd, sizes, order == MPI_ORDER_C, in_sub, &s, want);
    char what[64];
    snprintf(what, sizeof what, "subarray nd=%d order=%d", nd, order);
    selects(t, want, n, what);
    int total = 1;
    for (int i = 0; i < nd; i++) total *= sizes[i];
    extent_is(t, 0, total * (MPI_Aint)sizeof(int), what);
    int ints[32], k = 0;
    ints[k++] = nd;
    for (int i = 0; i < nd; i++) ints[k++] = sizes[i];
    for (int i = 0; i < nd; i++) ints[k++] = subsizes[i];
    for (int i = 0; i < nd; i++) ints[k++] = starts[i];
    ints[k++] = order;
    contents_are(t, MPI_COMBINER_SUBARRAY, ints, k, what);
    OK(MPI_Type_free(&t));
}

static void darray_case(int size, int rank, int nd, const int *gsizes, const int *distribs,
                        const int *dargs, const int *psizes, int order) {
    MPI_Datatype t;
    OK(MPI_Type_create_darray(size, rank, nd, gsizes, distribs, dargs, psizes, order, MPI_INT,
                              &t));
    OK(MPI_Type_commit(&t));
    struct dar d = {nd, gsizes, distribs, dargs, psizes, {0}};
    int r = rank;
    for (int i = nd - 1; i >= 0; i--) { d.coords[i] = r % psizes[i]; r /= psizes[i]; }
    int want[N];
    int n = enumerate(nd, gsizes, order == MPI_ORDER_C, owns, &d, want);
    char what[96];
    snprintf(what, sizeof what, "darray rank %d/%d nd=%d distrib0=%d order=%d", rank, size, nd,
             distribs[0], order);
    selects(t, want, n, what);
    int total = 1;
    for (int i = 0; i < nd; i++) total *= gsizes[i];
    extent_is(t, 0, total * (MPI_Aint)sizeof(int), what);
    int ints[40], k = 0;
    ints[k++] = size;
    ints[k++] = rank;
    ints[k++] = nd;
    for (int i = 0; i < nd; i++) ints[k++] = gsizes[i];
    for (int i = 0; i < nd; i++) ints[k++] = distribs[i];
    for (int i = 0; i < nd; i++) ints[k++] = dargs[i];
    for (int i = 0; i < nd; i++) ints[k++] = psizes[i];
    ints[k++] = order;
    contents_are(t, MPI_COMBINER_DARRAY, ints, k, what);
    OK(MPI_Type_free(&t));
}

/* Attribute callbacks: count calls, copy doubles the value. */
static int copies, deletes;
static int copy_fn(MPI_Datatype t, int kv, void *extra, void *in, void *out, int *flag) {
    (void)t; (void)kv;
    CHECK(extra == (void *)&copies, "extra_state");
    copies++;
    *(intptr_t *)out = 2 * (intptr_t)in;
    *flag = 1;
    return MPI_SUCCESS;
}
static int delete_fn(MPI_Datatype t, int kv, void *val, void *extra) {
    (void)t; (void)kv; (void)val; (void)extra;
    deletes++;
    return MPI_SUCCESS;
}
static int refuse_delete(MPI_Datatype t, int kv, void *val, void *extra) {
    (void)t; (void)kv; (void)val; (void)extra;
    return MPI_ERR_OTHER;
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    for (int i = 0; i < N; i++) src[i] = i;
    int rc;

    /* ---- subarray ---- */
    {
        int s1[] = {10}, b1[] = {4}, t1[] = {3};
        subarray_case(1, s1, b1, t1, MPI_ORDER_C);
        int s2[] = {5, 7}, b2[] = {2, 3}, t2[] = {1, 4};
        subarray_case(2, s2, b2, t2, MPI_ORDER_C);
        subarray_case(2, s2, b2, t2, MPI_ORDER_FORTRAN);
        int s3[] = {4, 3, 5}, b3[] = {2, 2, 3}, t3[] = {2, 0, 1};
        subarray_case(3, s3, b3, t3, MPI_ORDER_C);
        subarray_case(3, s3, b3, t3, MPI_ORDER_FORTRAN);
        /* A bad order: MPI_ERR_ARG, no type. */
        MPI_Datatype t;
        rc = MPI_Type_create_subarray(1, s1, b1, t1, 99, MPI_INT, &t);
        CHECK(rc != MPI_SUCCESS && class_of(rc) == MPI_ERR_ARG, "bad order: rc %d", rc);
        /* Large-count form: ndims and order are integers, the arrays large counts. */
        MPI_Count cs[] = {5, 7}, cb[] = {2, 3}, ct[] = {1, 4};
        OK(MPI_Type_create_subarray_c(2, cs, cb, ct, MPI_ORDER_C, MPI_INT, &t));
        MPI_Count ni, na, nc, ndt;
        int comb;
        OK(MPI_Type_get_envelope_c(t, &ni, &na, &nc, &ndt, &comb));
        CHECK(comb == MPI_COMBINER_SUBARRAY && ni == 2 && na == 0 && nc == 6 && ndt == 1,
              "subarray_c envelope %lld %lld %lld %lld", (long long)ni, (long long)na,
              (long long)nc, (long long)ndt);
        int ci[2];
        MPI_Aint ca[1];
        MPI_Count cc[6];
        MPI_Datatype cd[1];
        OK(MPI_Type_get_contents_c(t, 2, 0, 6, 1, ci, ca, cc, cd));
        CHECK(ci[0] == 2 && ci[1] == MPI_ORDER_C && cc[0] == 5 && cc[3] == 3 && cc[5] == 4,
              "subarray_c contents");
        OK(MPI_Type_free(&t));
    }

    /* ---- darray: block, cyclic, cyclic(2), none, both orders, every rank of the grid ---- */
    {
        int g2[] = {9, 7}, p2[] = {3, 2};
        int blk[] = {MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_BLOCK};
        int cyc[] = {MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_CYCLIC};
        int mix[] = {MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_BLOCK};
        int dflt[] = {MPI_DISTRIBUTE_DFLT_DARG, MPI_DISTRIBUTE_DFLT_DARG};
        int two[] = {2, MPI_DISTRIBUTE_DFLT_DARG};
        for (int r = 0; r < 6; r++)
            for (int o = 0; o < 2; o++) {
                int order = o ? MPI_ORDER_FORTRAN : MPI_ORDER_C;
                darray_case(6, r, 2, g2, blk, dflt, p2, order);
                darray_case(6, r, 2, g2, cyc, dflt, p2, order);
                darray_case(6, r, 2, g2, mix, two, p2, order);
            }
        int g3[] = {4, 5, 6}, p3[] = {2, 1, 2};
        int d3[] = {MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_NONE, MPI_DISTRIBUTE_CYCLIC};
        int a3[] = {MPI_DISTRIBUTE_DFLT_DARG, MPI_DISTRIBUTE_DFLT_DARG, 3};
        for (int r = 0; r < 4; r++) {
            darray_case(4, r, 3, g3, d3, a3, p3, MPI_ORDER_C);
            darray_case(4, r, 3, g3, d3, a3, p3, MPI_ORDER_FORTRAN);
        }
    }

    /* ---- Fortran 90 types: the same handle for the same parameters, the right size ---- */
    {
        MPI_Datatype a, b;
        OK(MPI_Type_create_f90_real(6, 30, &a));
        OK(MPI_Type_create_f90_real(6, 30, &b));
        CHECK(a == b, "f90 real: two handles for (6, 30)");
        int sz, ni, na, nd, comb, iv[2];
        OK(MPI_Type_size(a, &sz));
        CHECK(sz == 4, "f90 real(6,30) size %d", sz);
        OK(MPI_Type_get_envelope(a, &ni, &na, &nd, &comb));
        CHECK(comb == MPI_COMBINER_F90_REAL && ni == 2 && na == 0 && nd == 0, "f90 envelope");
        OK(MPI_Type_get_contents(a, 2, 0, 0, iv, NULL, NULL));
        CHECK(iv[0] == 6 && iv[1] == 30, "f90 contents %d %d", iv[0], iv[1]);
        OK(MPI_Type_create_f90_real(15, 300, &a));
        OK(MPI_Type_size(a, &sz));
        CHECK(sz == 8, "f90 real(15,300) size %d", sz);
        OK(MPI_Type_create_f90_complex(15, 300, &a));
        OK(MPI_Type_size(a, &sz));
        CHECK(sz == 16, "f90 complex(15,300) size %d", sz);
        OK(MPI_Type_get_envelope(a, &ni, &na, &nd, &comb));
        CHECK(comb == MPI_COMBINER_F90_COMPLEX, "f90 complex combiner");
        int ranges[] = {2, 4, 9, 18}, sizes[] = {1, 2, 4, 8};
        for (int i = 0; i < 4; i++) {
            OK(MPI_Type_create_f90_integer(ranges[i], &a));
            OK(MPI_Type_size(a, &sz));
            CHECK(sz == sizes[i], "f90 integer(%d) size %d", ranges[i], sz);
            OK(MPI_Type_get_envelope(a, &ni, &na, &nd, &comb));
            CHECK(comb == MPI_COMBINER_F90_INTEGER && ni == 1, "f90 integer envelope");
        }
        /* Usable as it is: reduced as the integer it is. */
        OK(MPI_Type_create_f90_integer(9, &a));
        int v = 41, w = 1;
        OK(MPI_Reduce_local(&v, &w, 1, a, MPI_SUM));
        CHECK(w == 42, "reduce_local on an f90 integer type: %d", w);
    }

    /* ---- Type_match_size ---- */
    {
        MPI_Datatype t;
        OK(MPI_Type_match_size(MPI_TYPECLASS_INTEGER, 4, &t));
        CHECK(t == MPI_INTEGER4, "match integer 4");
        OK(MPI_Type_match_size(MPI_TYPECLASS_REAL, 8, &t));
        CHECK(t == MPI_REAL8, "match real 8");
        OK(MPI_Type_match_size(MPI_TYPECLASS_COMPLEX, 16, &t));
        CHECK(t == MPI_COMPLEX16, "match complex 16");
        rc = MPI_Type_match_size(MPI_TYPECLASS_REAL, 3, &t);
        CHECK(rc != MPI_SUCCESS, "match real 3 accepted");
    }

    /* ---- Type_get_value_index ---- */
    {
        MPI_Datatype v[] = {MPI_SHORT, MPI_INT, MPI_LONG, MPI_FLOAT, MPI_DOUBLE, MPI_LONG_DOUBLE};
        MPI_Datatype p[] = {MPI_SHORT_INT, MPI_2INT, MPI_LONG_INT, MPI_FLOAT_INT,
                            MPI_DOUBLE_INT, MPI_LONG_DOUBLE_INT};
        for (int i = 0; i < 6; i++) {
            MPI_Datatype t;
            OK(MPI_Type_get_value_index(v[i], MPI_INT, &t));
            CHECK(t == p[i], "value index %d", i);
            OK(MPI_Type_get_value_index(v[i], MPI_FLOAT, &t));
            CHECK(t == MPI_DATATYPE_NULL, "value index %d with a float index", i);
        }
        MPI_Datatype t;
        rc = MPI_Type_get_value_index(MPI_DATATYPE_NULL, MPI_INT, &t);
        CHECK(class_of(rc) == MPI_ERR_TYPE, "value index of MPI_DATATYPE_NULL: rc %d", rc);
    }

    /* ---- external32: big-endian bytes, fixed sizes ---- */
    {
        struct { int i; short s; double d; long l; } x = {0x01020304, 0x0506, 1.5, -2};
        MPI_Aint size = 0, pos = 0;
        unsigned char buf[64];
        memset(buf, 0xee, sizeof buf);
        /* long is 4 bytes in external32. */
        OK(MPI_Pack_external_size("external32", 3, MPI_LONG, &size));
        CHECK(size == 12, "external32 size of 3 longs: %ld", (long)size);
        OK(MPI_Pack_external("external32", &x.i, 1, MPI_INT, buf, sizeof buf, &pos));
        OK(MPI_Pack_external("external32", &x.s, 1, MPI_SHORT, buf, sizeof buf, &pos));
        OK(MPI_Pack_external("external32", &x.d, 1, MPI_DOUBLE, buf, sizeof buf, &pos));
        OK(MPI_Pack_external("external32", &x.l, 1, MPI_LONG, buf, sizeof buf, &pos));
        CHECK(pos == 18, "external32 packed %ld", (long)pos);
        const unsigned char want[18] = {1, 2, 3, 4, 5, 6, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
                                        0xff, 0xff, 0xff, 0xfe};
        for (int i = 0; i < 18; i++)
            CHECK(buf[i] == want[i], "external32 byte %d is %#x, want %#x", i, buf[i], want[i]);
        memset(&x, 0, sizeof x);
        MPI_Aint upos = 0;
        OK(MPI_Unpack_external("external32", buf, pos, &upos, &x.i, 1, MPI_INT));
        OK(MPI_Unpack_external("external32", buf, pos, &upos, &x.s, 1, MPI_SHORT));
        OK(MPI_Unpack_external("external32", buf, pos, &upos, &x.d, 1, MPI_DOUBLE));
        OK(MPI_Unpack_external("external32", buf, pos, &upos, &x.l, 1, MPI_LONG));
        CHECK(upos == 18 && x.i == 0x01020304 && x.s == 0x0506 && x.d == 1.5 && x.l == -2,
              "unpack external32");
        /* A derived (strided) type: the selected ints, each big-endian. */
        MPI_Datatype vec;
        OK(MPI_Type_vector(3, 1, 2, MPI_INT, &vec));
        OK(MPI_Type_commit(&vec));
        OK(MPI_Pack_external_size("external32", 1, vec, &size));
        CHECK(size == 12, "external32 size of the vector %ld", (long)size);
        pos = 0;
        OK(MPI_Pack_external("external32", &src[256], 1, vec, buf, sizeof buf, &pos));
        const unsigned char wv[12] = {0, 0, 1, 0, 0, 0, 1, 2, 0, 0, 1, 4};
        CHECK(pos == 12 && memcmp(buf, wv, 12) == 0, "external32 of a vector");
        int back[5] = {0, 0, 0, 0, 0};
        upos = 0;
        OK(MPI_Unpack_external("external32", buf, pos, &upos, back, 1, vec));
        CHECK(back[0] == 256 && back[1] == 0 && back[2] == 258 && back[4] == 260, "vector back");
        OK(MPI_Type_free(&vec));
        /* long double is IEEE quadruple precision, big-endian. */
        long double ld[2] = {-1.5L, 0.0L};
        pos = 0;
        OK(MPI_Pack_external("external32", ld, 2, MPI_LONG_DOUBLE, buf, sizeof buf, &pos));
        const unsigned char wld[3] = {0xbf, 0xff, 0x80};
        CHECK(pos == 32 && memcmp(buf, wld, 3) == 0 && buf[3] == 0 && buf[16] == 0,
              "external32 long double: %ld bytes, %02x %02x %02x", (long)pos, buf[0], buf[1],
              buf[2]);
        ld[0] = 0;
        upos = 0;
        OK(MPI_Unpack_external("external32", buf, pos, &upos, ld, 2, MPI_LONG_DOUBLE));
        CHECK(ld[0] == -1.5L && ld[1] == 0.0L, "long double back from external32");
        MPI_Count csize = 0;
        OK(MPI_Pack_external_size_c("external32", 3, MPI_C_DOUBLE_COMPLEX, &csize));
        CHECK(csize == 48, "external32 size of 3 double complex: %lld", (long long)csize);
    }

    /* ---- attributes on datatypes: copy on dup, delete on free and delete_attr ---- */
    {
        int kv, kv2;
        OK(MPI_Type_create_keyval(copy_fn, delete_fn, &kv, &copies));
        OK(MPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, refuse_delete, &kv2, NULL));
        MPI_Datatype t, d;
        OK(MPI_Type_contiguous(3, MPI_INT, &t));
        OK(MPI_Type_set_attr(t, kv, (void *)(intptr_t)21));
        OK(MPI_Type_set_attr(t, kv2, (void *)(intptr_t)5));
        void *val = NULL;
        int flag = 0;
        OK(MPI_Type_get_attr(t, kv, &val, &flag));
        CHECK(flag && (intptr_t)val == 21, "get_attr");
        OK(MPI_Type_dup(t, &d));
        CHECK(copies == 1, "copy callback ran %d times", copies);
        OK(MPI_Type_get_attr(d, kv, &val, &flag));
        CHECK(flag && (intptr_t)val == 42, "copied value %ld", (long)(intptr_t)val);
        OK(MPI_Type_get_attr(d, kv2, &val, &flag));
        CHECK(!flag, "a NULL_COPY_FN attribute was copied");
        OK(MPI_Type_free(&d));
        CHECK(deletes == 1, "delete callback on free ran %d times", deletes);
        /* A refusing delete callback keeps the attribute (and the type). */
        rc = MPI_Type_delete_attr(t, kv2);
        CHECK(rc != MPI_SUCCESS, "refused delete succeeded");
        OK(MPI_Type_get_attr(t, kv2, &val, &flag));
        CHECK(flag, "attribute gone after a refused delete");
        OK(MPI_Type_free_keyval(&kv2));
        CHECK(kv2 == MPI_KEYVAL_INVALID, "free_keyval resets the keyval");
        OK(MPI_Type_delete_attr(t, kv));
        CHECK(deletes == 2, "delete_attr ran the callback (%d)", deletes);
        OK(MPI_Type_get_attr(t, kv, &val, &flag));
        CHECK(!flag, "attribute still there");
        /* An attribute on a predefined type. */
        OK(MPI_Type_set_attr(MPI_DOUBLE, kv, (void *)(intptr_t)3));
        OK(MPI_Type_get_attr(MPI_DOUBLE, kv, &val, &flag));
        CHECK(flag && (intptr_t)val == 3, "attribute on MPI_DOUBLE");
        OK(MPI_Type_delete_attr(MPI_DOUBLE, kv));
        /* A communicator keyval is not a datatype keyval. */
        int ckv;
        OK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &ckv, NULL));
        rc = MPI_Type_set_attr(t, ckv, NULL);
        CHECK(class_of(rc) == MPI_ERR_KEYVAL, "comm keyval on a datatype: rc %d", rc);
        OK(MPI_Comm_free_keyval(&ckv));
        OK(MPI_Type_free_keyval(&kv));
        /* t keeps kv2's attribute, whose delete callback refuses (MPICH then frees the type
         * anyway, libfmi keeps it and returns the error): t is left as it is. */
    }

    /* ---- handle conversion, the null handle's name, the removed MPI-1 names ---- */
    {
        char nm[MPI_MAX_OBJECT_NAME];
        int nl = 0;
        OK(MPI_Type_get_name(MPI_DATATYPE_NULL, nm, &nl));
        CHECK(strcmp(nm, "MPI_DATATYPE_NULL") == 0 && nl == 17, "name of the null type: %s", nm);
        MPI_Datatype v;
        OK(MPI_Type_vector(2, 1, 3, MPI_INT, &v));
        CHECK(MPI_Type_fromint(MPI_Type_toint(v)) == v, "toint/fromint");
        CHECK(MPI_Type_fromint(MPI_Type_toint(MPI_DOUBLE)) == MPI_DOUBLE, "toint of a named type");
        MPI_Datatype r;
        OK(MPI_Type_create_resized(v, -4, 40, &r));
        MPI_Aint lb, ub, ext;
        OK(MPI_Type_lb(r, &lb));
        OK(MPI_Type_ub(r, &ub));
        OK(MPI_Type_extent(r, &ext));
        CHECK(lb == -4 && ub == 36 && ext == 40, "lb %ld ub %ld extent %ld", (long)lb, (long)ub,
              (long)ext);
        MPI_Datatype h;
        OK(MPI_Type_hvector(2, 1, 12, MPI_INT, &h));
        OK(MPI_Type_commit(&h));
        int want[] = {0, 3};
        selects(h, want, 2, "MPI_Type_hvector");
        MPI_Aint a1, a2;
        OK(MPI_Address(&src[5], &a1));
        OK(MPI_Get_address(&src[5], &a2));
        CHECK(a1 == a2, "MPI_Address");
        OK(MPI_Type_free(&h));
        OK(MPI_Type_free(&r));
        OK(MPI_Type_free(&v));
    }

    pass("types2");
    OK(MPI_Finalize());
    return 0;
}
