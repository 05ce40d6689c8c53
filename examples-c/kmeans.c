/* kmeans: distributed K-means (Lloyd's algorithm), the case study of the FMI paper.
 *
 * Every peer generates its own deterministic shard of synthetic data (Gaussian blobs, seeded by
 * rank), all peers start from the same centroids, and each iteration allreduces the per-cluster
 * coordinate sums, point counts and the inertia (FMI_DOUBLE, FMI_OP_SUM). Rank 0 prints the
 * progress. At the end every peer regenerates all shards locally, reruns the same number of
 * iterations in a single process and checks that the centroids and the inertia agree within
 * 1e-9 (relative); a mismatch exits non-zero.
 *
 * usage: kmeans [points_per_peer=4000] [dim=6] [clusters=5] [max_iters=50]
 */
#include "common.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define GLOBAL_SEED 0x5eed2024ULL
#define BLOB_SPREAD 10.0 /* blob centres are uniform in [-BLOB_SPREAD, BLOB_SPREAD]^dim */
#define BLOB_SIGMA 1.5   /* standard deviation of every blob */
#define CONVERGED_SHIFT 1e-12
#define REL_TOL 1e-9

struct params {
    size_t points; /* per peer */
    size_t dim;
    size_t k;
    int max_iters;
};

/* --- deterministic random numbers (splitmix64) ---------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *state) /* in (0, 1] */
{
    return ((double)(splitmix64(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

static double gaussian(uint64_t *state) /* Box-Muller, one value per call */
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = uniform01(state), u2 = uniform01(state);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

/* --- data ------------------------------------------------------------------------------------- */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        EXAMPLE_FAIL("kmeans: out of memory (%zu x %zu bytes)", n, size);
    return p;
}

/* The blob centres: the same on every peer (seeded by GLOBAL_SEED only). */
static void blob_centres(const struct params *p, double *centres)
{
    uint64_t state = GLOBAL_SEED;
    for (size_t i = 0; i < p->k * p->dim; i++)
        centres[i] = (2.0 * uniform01(&state) - 1.0) * BLOB_SPREAD;
}

/* Shard of `rank`: p->points points of p->dim coordinates, row-major. */
static void generate_shard(const struct params *p, const double *centres, uint32_t rank, double *out)
{
    uint64_t state = GLOBAL_SEED ^ (0x100000001b3ULL * ((uint64_t)rank + 1));
    for (size_t i = 0; i < p->points; i++) {
        size_t blob = (size_t)(splitmix64(&state) % p->k);
        for (size_t d = 0; d < p->dim; d++)
            out[i * p->dim + d] = centres[blob * p->dim + d] + BLOB_SIGMA * gaussian(&state);
    }
}

/* Identical initial centroids on every peer: evenly spaced points of shard 0. */
static void initial_centroids(const struct params *p, const double *shard0, double *centroids)
{
    for (size_t c = 0; c < p->k; c++)
        memcpy(&centroids[c * p->dim], &shard0[(c * (p->points / p->k)) * p->dim], p->dim * sizeof(double));
}

/* --- Lloyd steps -------------------------------------------------------------------------------- */

static size_t nearest(const struct params *p, const double *x, const double *centroids, double *dist2)
{
    size_t best = 0;
    double best_d = INFINITY;
    for (size_t c = 0; c < p->k; c++) {
        double d2 = 0.0;
        for (size_t d = 0; d < p->dim; d++) {
            double t = x[d] - centroids[c * p->dim + d];
            d2 += t * t;
        }
        if (d2 < best_d) {
            best_d = d2;
            best = c;
        }
    }
    *dist2 = best_d;
    return best;
}

/* Adds the points' contribution to acc = [k*dim sums | k counts | inertia]. */
static void accumulate(const struct params *p, const double *points, size_t n, const double *centroids,
                       double *acc)
{
    double *sums = acc, *counts = acc + p->k * p->dim, *inertia = counts + p->k;
    for (size_t i = 0; i < n; i++) {
        double d2;
        size_t c = nearest(p, &points[i * p->dim], centroids, &d2);
        for (size_t d = 0; d < p->dim; d++)
            sums[c * p->dim + d] += points[i * p->dim + d];
        counts[c] += 1.0;
        *inertia += d2;
    }
}

/* New centroids from the accumulated sums; returns the total centroid movement (L2). */
static double update_centroids(const struct params *p, const double *acc, double *centroids)
{
    const double *sums = acc, *counts = acc + p->k * p->dim;
    double shift2 = 0.0;
    for (size_t c = 0; c < p->k; c++) {
        if (counts[c] == 0.0)
            continue; /* an empty cluster keeps its centroid */
        for (size_t d = 0; d < p->dim; d++) {
            double v = sums[c * p->dim + d] / counts[c];
            double t = v - centroids[c * p->dim + d];
            shift2 += t * t;
            centroids[c * p->dim + d] = v;
        }
    }
    return sqrt(shift2);
}

static double inertia_of(const struct params *p, const double *points, size_t n, const double *centroids)
{
    double total = 0.0, d2;
    for (size_t i = 0; i < n; i++) {
        nearest(p, &points[i * p->dim], centroids, &d2);
        total += d2;
    }
    return total;
}

/* --- the check --------------------------------------------------------------------------------- */

static int close_enough(double a, double b)
{
    double scale = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= REL_TOL * scale;
}

/* Single-process K-means over all shards; returns 0 when it matches the distributed result. */
static int check_against_single_process(const struct params *p, uint32_t size, const double *centres,
                                        int iterations, const double *dist_centroids, double dist_inertia,
                                        uint32_t rank)
{
    size_t total = p->points * size, acc_len = p->k * p->dim + p->k + 1;
    double *all = xcalloc(total * p->dim, sizeof(double));
    double *centroids = xcalloc(p->k * p->dim, sizeof(double));
    double *acc = xcalloc(acc_len, sizeof(double));
    int failed = 0;

    for (uint32_t r = 0; r < size; r++)
        generate_shard(p, centres, r, &all[(size_t)r * p->points * p->dim]);
    initial_centroids(p, all, centroids);
    for (int it = 0; it < iterations; it++) {
        memset(acc, 0, acc_len * sizeof(double));
        accumulate(p, all, total, centroids, acc);
        update_centroids(p, acc, centroids);
    }
    double inertia = inertia_of(p, all, total, centroids);

    for (size_t i = 0; i < p->k * p->dim; i++) {
        if (!close_enough(centroids[i], dist_centroids[i])) {
            fprintf(stderr, "kmeans: rank %u: centroid %zu coordinate %zu: distributed %.17g, single-process %.17g\n",
                    (unsigned)rank, i / p->dim, i % p->dim, dist_centroids[i], centroids[i]);
            failed = 1;
        }
    }
    if (!close_enough(inertia, dist_inertia)) {
        fprintf(stderr, "kmeans: rank %u: inertia: distributed %.17g, single-process %.17g\n", (unsigned)rank,
                dist_inertia, inertia);
        failed = 1;
    }
    free(all);
    free(centroids);
    free(acc);
    return failed;
}

/* --- main ------------------------------------------------------------------------------------- */

static long parse_arg(int argc, char **argv, int i, long def, long lo, long hi, const char *name)
{
    if (i >= argc)
        return def;
    char *end = NULL;
    errno = 0;
    long v = strtol(argv[i], &end, 10);
    if (errno != 0 || end == argv[i] || *end != '\0' || v < lo || v > hi)
        EXAMPLE_FAIL("kmeans: %s must be an integer in [%ld, %ld], got '%s'\n"
                     "usage: kmeans [points_per_peer=4000] [dim=6] [clusters=5] [max_iters=50]",
                     name, lo, hi, argv[i]);
    return v;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    struct params p;
    p.points = (size_t)parse_arg(argc, argv, 1, 4000, 1, 10000000, "points_per_peer");
    p.dim = (size_t)parse_arg(argc, argv, 2, 6, 1, 64, "dim");
    p.k = (size_t)parse_arg(argc, argv, 3, 5, 1, 256, "clusters");
    p.max_iters = (int)parse_arg(argc, argv, 4, 50, 1, 100000, "max_iters");
    if (p.k > p.points)
        EXAMPLE_FAIL("kmeans: clusters (%zu) must not exceed points_per_peer (%zu)", p.k, p.points);

    fmi_comm *comm = NULL;
    uint32_t rank = 0, size = 0;
    FMI_CHECK(fmi_init_from_env(&comm));
    FMI_CHECK(fmi_comm_rank(comm, &rank));
    FMI_CHECK(fmi_comm_size(comm, &size));

    size_t acc_len = p.k * p.dim + p.k + 1;
    double *centres = xcalloc(p.k * p.dim, sizeof(double));
    double *shard = xcalloc(p.points * p.dim, sizeof(double));
    double *centroids = xcalloc(p.k * p.dim, sizeof(double));
    double *local = xcalloc(acc_len, sizeof(double));
    double *global = xcalloc(acc_len, sizeof(double));

    blob_centres(&p, centres);
    generate_shard(&p, centres, 0, shard); /* every peer derives the initial centroids from shard 0 */
    initial_centroids(&p, shard, centroids);
    generate_shard(&p, centres, rank, shard);

    if (rank == 0) {
        printf("kmeans: %u peers x %zu points, dim %zu, %zu clusters, at most %d iterations\n",
               (unsigned)size, p.points, p.dim, p.k, p.max_iters);
        fflush(stdout);
    }

    FMI_CHECK(fmi_barrier(comm));
    double t0 = now_seconds();
    int iterations = 0;
    for (int it = 1; it <= p.max_iters; it++) {
        memset(local, 0, acc_len * sizeof(double));
        accumulate(&p, shard, p.points, centroids, local);
        FMI_CHECK(fmi_allreduce(comm, local, global, acc_len, FMI_DOUBLE, FMI_OP_SUM));
        double shift = update_centroids(&p, global, centroids);
        iterations = it;
        if (rank == 0) {
            printf("iter %3d  inertia %.6f  shift %.3e\n", it, global[acc_len - 1], shift);
            fflush(stdout);
        }
        if (shift < CONVERGED_SHIFT)
            break;
    }
    double local_inertia = inertia_of(&p, shard, p.points, centroids), inertia = 0.0;
    FMI_CHECK(fmi_allreduce(comm, &local_inertia, &inertia, 1, FMI_DOUBLE, FMI_OP_SUM));
    double elapsed = now_seconds() - t0;

    if (rank == 0) {
        printf("kmeans: %d iterations, final inertia %.6f (%.6f per point), %.1f ms (%.3f ms per iteration)\n",
               iterations, inertia, inertia / (double)(p.points * size), elapsed * 1e3,
               elapsed * 1e3 / iterations);
        for (size_t c = 0; c < p.k; c++) {
            printf("  centroid %zu:", c);
            for (size_t d = 0; d < p.dim; d++)
                printf(" %9.4f", centroids[c * p.dim + d]);
            printf("\n");
        }
        fflush(stdout);
    }

    int failed = check_against_single_process(&p, size, centres, iterations, centroids, inertia, rank);
    if (rank == 0 && !failed)
        printf("kmeans: OK, matches a single-process run over all %zu points (rel. tol %.0e)\n",
               p.points * size, REL_TOL);

    FMI_CHECK(fmi_finalize(comm));
    free(centres);
    free(shard);
    free(centroids);
    free(local);
    free(global);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
