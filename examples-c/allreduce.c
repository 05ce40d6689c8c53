/* allreduce: built-in sums checked against their closed forms, and a non-commutative user op
 * (2x2 integer matrix product, 4 FMI_INT64 elements per matrix) checked against the sequential
 * left-to-right product P_0 * P_1 * ... * P_{N-1}. */
#include "common.h"

#include <inttypes.h>
#include <string.h>

#define VEC_LEN 4096
#define NUM_MATRICES 16
#define MAT_ELEMS 4 /* row-major 2x2: a b / c d */

/* --- built-in ops ---------------------------------------------------------------------------- */

static void check_builtin_sums(fmi_comm *comm, uint32_t rank, uint32_t size)
{
    static int64_t ivec[VEC_LEN], isum[VEC_LEN];
    static double dvec[VEC_LEN], dsum[VEC_LEN];
    static int32_t mvec[VEC_LEN], mmax[VEC_LEN];
    const int64_t n = size;

    for (size_t i = 0; i < VEC_LEN; i++) {
        ivec[i] = (int64_t)rank * 1000 + (int64_t)i;      /* sum: 1000 * n(n-1)/2 + n * i */
        dvec[i] = 0.5 * (double)(rank + 1) + (double)i;  /* sum: n(n+1)/4 + n * i (exact) */
        mvec[i] = (int32_t)((rank + i) % size);           /* max over ranks: size - 1 */
    }

    FMI_CHECK(fmi_allreduce(comm, ivec, isum, VEC_LEN, FMI_INT64, FMI_OP_SUM));
    FMI_CHECK(fmi_allreduce(comm, dvec, dsum, VEC_LEN, FMI_DOUBLE, FMI_OP_SUM));
    FMI_CHECK(fmi_allreduce(comm, mvec, mmax, VEC_LEN, FMI_INT32, FMI_OP_MAX));

    for (size_t i = 0; i < VEC_LEN; i++) {
        int64_t want_i = 1000 * n * (n - 1) / 2 + n * (int64_t)i;
        double want_d = (double)(n * (n + 1)) / 4.0 + (double)n * (double)i;
        if (isum[i] != want_i)
            EXAMPLE_FAIL("allreduce: rank %u: INT64 SUM [%zu] = %" PRId64 ", expected %" PRId64,
                         (unsigned)rank, i, isum[i], want_i);
        if (dsum[i] != want_d)
            EXAMPLE_FAIL("allreduce: rank %u: DOUBLE SUM [%zu] = %.17g, expected %.17g",
                         (unsigned)rank, i, dsum[i], want_d);
        if (mmax[i] != (int32_t)(size - 1))
            EXAMPLE_FAIL("allreduce: rank %u: INT32 MAX [%zu] = %" PRId32 ", expected %u",
                         (unsigned)rank, i, mmax[i], (unsigned)(size - 1));
        if (ivec[i] != (int64_t)rank * 1000 + (int64_t)i)
            EXAMPLE_FAIL("allreduce: rank %u: the send buffer was modified", (unsigned)rank);
    }

    /* In place: the send buffer is also the receive buffer. */
    FMI_CHECK(fmi_allreduce(comm, ivec, ivec, VEC_LEN, FMI_INT64, FMI_OP_SUM));
    for (size_t i = 0; i < VEC_LEN; i++)
        if (ivec[i] != isum[i])
            EXAMPLE_FAIL("allreduce: rank %u: in-place INT64 SUM [%zu] = %" PRId64 ", expected %" PRId64,
                         (unsigned)rank, i, ivec[i], isum[i]);

    if (rank == 0)
        printf("allreduce: built-in INT64/DOUBLE SUM, INT32 MAX and in-place SUM over %d elements: OK\n",
               VEC_LEN);
}

/* --- user op: 2x2 matrix product ------------------------------------------------------------ */

struct matmul_state {
    int bad_call; /* set when the library calls the op with a count or datatype it cannot handle */
    size_t bad_count;
    fmi_datatype bad_dtype;
};

static void mat_mul(const int64_t *x, const int64_t *y, int64_t *out)
{
    int64_t r[MAT_ELEMS] = {
        x[0] * y[0] + x[1] * y[2], x[0] * y[1] + x[1] * y[3],
        x[2] * y[0] + x[3] * y[2], x[2] * y[1] + x[3] * y[3],
    };
    memcpy(out, r, sizeof r);
}

/* accum[m] = accum[m] * next[m] for every matrix m (accum is the left operand). */
static void matmul_op(void *accum, const void *next, size_t count, fmi_datatype dtype, void *user_data)
{
    struct matmul_state *state = user_data;
    if (dtype != FMI_INT64 || count % MAT_ELEMS != 0) {
        state->bad_call = 1;
        state->bad_count = count;
        state->bad_dtype = dtype;
        return;
    }
    for (size_t m = 0; m < count / MAT_ELEMS; m++) {
        int64_t a[MAT_ELEMS], b[MAT_ELEMS]; /* memcpy: the buffers need not be 8-byte aligned */
        memcpy(a, (const char *)accum + m * sizeof a, sizeof a);
        memcpy(b, (const char *)next + m * sizeof b, sizeof b);
        mat_mul(a, b, a);
        memcpy((char *)accum + m * sizeof a, a, sizeof a);
    }
}

/* The matrix that `rank` contributes at slot m: products of these do not commute. */
static void contribution(uint32_t rank, size_t m, int64_t out[MAT_ELEMS])
{
    static const int64_t basis[4][MAT_ELEMS] = {
        {1, 1, 0, 1},  /* shear right */
        {1, 0, 1, 1},  /* shear down */
        {0, -1, 1, 0}, /* rotation by 90 degrees */
        {2, 1, 1, 1},  /* hyperbolic */
    };
    memcpy(out, basis[(rank * (m + 1) + m) % 4], sizeof basis[0]);
    out[1] += (int64_t)(m % 3); /* vary the slots a little */
}

static void check_matrix_product(fmi_comm *comm, uint32_t rank, uint32_t size)
{
    struct matmul_state state = {0, 0, 0};
    fmi_op op = 0;
    int64_t mine[NUM_MATRICES * MAT_ELEMS], got[NUM_MATRICES * MAT_ELEMS];

    FMI_CHECK(fmi_op_create(matmul_op, &state, /*commutative=*/0, /*associative=*/1, &op));
    for (size_t m = 0; m < NUM_MATRICES; m++)
        contribution(rank, m, &mine[m * MAT_ELEMS]);

    FMI_CHECK(fmi_allreduce(comm, mine, got, NUM_MATRICES * MAT_ELEMS, FMI_INT64, op));
    if (state.bad_call)
        EXAMPLE_FAIL("allreduce: rank %u: user op called with count %zu, datatype %u "
                     "(a matrix is 4 FMI_INT64 elements)",
                     (unsigned)rank, state.bad_count, (unsigned)state.bad_dtype);

    int order_matters = 0;
    for (size_t m = 0; m < NUM_MATRICES; m++) {
        int64_t fwd[MAT_ELEMS], rev[MAT_ELEMS], p[MAT_ELEMS];
        contribution(0, m, fwd);
        contribution(size - 1, m, rev);
        for (uint32_t r = 1; r < size; r++) {
            contribution(r, m, p);
            mat_mul(fwd, p, fwd); /* P_0 * ... * P_r */
            contribution(size - 1 - r, m, p);
            mat_mul(rev, p, rev); /* P_{N-1} * ... * P_{N-1-r} */
        }
        if (memcmp(fwd, rev, sizeof fwd) != 0)
            order_matters = 1;
        if (memcmp(fwd, &got[m * MAT_ELEMS], sizeof fwd) != 0)
            EXAMPLE_FAIL("allreduce: rank %u: matrix %zu = [%" PRId64 " %" PRId64 "; %" PRId64 " %" PRId64
                         "], expected the left-to-right product [%" PRId64 " %" PRId64 "; %" PRId64
                         " %" PRId64 "]",
                         (unsigned)rank, m, got[m * 4], got[m * 4 + 1], got[m * 4 + 2], got[m * 4 + 3],
                         fwd[0], fwd[1], fwd[2], fwd[3]);
    }
    if (size >= 2 && !order_matters)
        EXAMPLE_FAIL("allreduce: internal: the test matrices commute, so order is not checked");

    FMI_CHECK(fmi_op_free(op));
    if (rank == 0)
        printf("allreduce: non-commutative user op (%d 2x2 matrix products over %u peers): OK\n",
               NUM_MATRICES, (unsigned)size);
}

int main(void)
{
    fmi_comm *comm = NULL;
    uint32_t rank = 0, size = 0;

    FMI_CHECK(fmi_init_from_env(&comm));
    FMI_CHECK(fmi_comm_rank(comm, &rank));
    FMI_CHECK(fmi_comm_size(comm, &size));

    check_builtin_sums(comm, rank, size);
    check_matrix_product(comm, rank, size);

    FMI_CHECK(fmi_finalize(comm));
    if (rank == 0)
        printf("allreduce: OK (%u peers)\n", (unsigned)size);
    return EXIT_SUCCESS;
}
