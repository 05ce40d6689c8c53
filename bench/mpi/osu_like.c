/*
 * osu_like: the MPI baseline of fmi-bench. The same operations, sizes, iteration sizing and
 * statistics as fmi-bench (src/bench/), through MPI; rank 0 prints one JSON record per test on
 * standard output, in fmi-bench's record format, so `fmi-bench merge` can put libfmi's figures
 * and these side by side.
 *
 * Build: mpicc -O2 -o osu_like bench/mpi/osu_like.c   (scripts/bench.sh does it with mpicc.openmpi)
 * Run:   mpirun -np N ./osu_like [--ops LIST] [--sizes LIST] [--min-size S] [--max-size S]
 *                [--budget-ms MS] [--iter-scale X] [--max-mem S] [--round R]
 *                [--impl NAME] [--channel NAME]
 *
 * Per test: 1 untimed call, 4 probe calls (the slowest rank's median sizes the run), a warm-up of
 * about a fifth of the budget (whose median, the slowest rank's, sizes the run instead when it is
 * lower: the probes may include lazy connection set-up), then budget/estimate timed iterations
 * within size-dependent bounds.
 * Collectives: an untimed MPI_Barrier, then each rank times one call; the sample is the maximum
 * over ranks. pingpong: ranks 0 and 1, sample = round trip / 2. bw: rank 0 Isends a window of
 * messages (64, at most 64 MiB in flight), rank 1 Irecvs them into distinct buffers and answers
 * with 4 bytes; sample = the window. bibw: ranks 0 and 1 each post a window of Irecvs (into
 * distinct buffers) and as many Isends to the other, then one MPI_Waitall; each times its
 * window, sample = the slower one, MB/s counts both directions. iallreduce: MPI_Iallreduce and
 * MPI_Wait right after (its latency; overlap is not measured). Reductions: MPI_SUM on float
 * (int8 when the size is not a multiple of 4), not in place. Percentiles by nearest rank.
 * Each rank reads its process's CPU time and context switches (getrusage) and MPI_Wtime before
 * and after the timed iterations; per timed iteration, "cpu_us" and "ctxsw" are the sums over
 * ranks of the first two and "wall_us" the mean over ranks of the third.
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <ctype.h>
#include <sys/resource.h>

enum op { PINGPONG, BW, BIBW, BCAST, BARRIER, GATHER, SCATTER, REDUCE, ALLREDUCE, IALLREDUCE, SCAN,
          ALLGATHER, ALLTOALL, NOPS };
static const char *op_names[NOPS] = {"pingpong", "bw", "bibw", "bcast", "barrier", "gather",
                                     "scatter", "reduce", "allreduce", "iallreduce", "scan",
                                     "allgather", "alltoall"};

static int rank, nranks;

static void die(const char *msg)
{
    if (rank == 0)
        fprintf(stderr, "osu_like: %s\n", msg);
    MPI_Abort(MPI_COMM_WORLD, 2);
    exit(2);
}

static uint64_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        die("bad size");
    switch (toupper((unsigned char)*end)) {
    case 'K': v <<= 10; break;
    case 'M': v <<= 20; break;
    case 'G': v <<= 30; break;
    case 0: case ',': case 'B': break;
    default: die("bad size suffix");
    }
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *s, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t r = (size_t)ceil(p / 100.0 * (double)n);
    if (r < 1)
        r = 1;
    if (r > n)
        r = n;
    return s[r - 1];
}

static void bounds(uint64_t bytes, double scale, size_t *lo, size_t *hi)
{
    size_t l, h;
    if (bytes <= 65536) { l = 50; h = 20000; }
    else if (bytes <= 1048576) { l = 20; h = 2000; }
    else if (bytes <= 16777216) { l = 10; h = 300; }
    else { l = 10; h = 60; }
    *lo = (size_t)llround(l * scale);
    if (*lo < 1)
        *lo = 1;
    *hi = (size_t)llround(h * scale);
    if (*hi < *lo)
        *hi = *lo;
}

static size_t window_of(uint64_t bytes)
{
    if (bytes == 0)
        return 64;
    uint64_t w = (64ull << 20) / bytes;
    return w < 1 ? 1 : w > 64 ? 64 : (size_t)w;
}

static size_t memory_of(int op, uint64_t b, int n)
{
    switch (op) {
    case BARRIER: return 0;
    case BCAST: return b;
    case PINGPONG: return 2 * b;
    case BW: case BIBW: return b + b * window_of(b);
    case REDUCE: case ALLREDUCE: case IALLREDUCE: case SCAN: return 3 * b;
    case GATHER: case SCATTER: case ALLGATHER: return b * (n + 1);
    default: return 2 * b * n;
    }
}

struct bufs {
    uint64_t bytes;
    char *send, *recv, *win;
    char ack[4];
    MPI_Datatype type;
    int count;
    MPI_Request *reqs;
};

static double iterate(int op, struct bufs *b)
{
    double t;
    int n = (int)b->bytes;
    switch (op) {
    case PINGPONG:
        if (rank == 0) {
            t = MPI_Wtime();
            MPI_Send(b->send, n, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
            MPI_Recv(b->recv, n, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            return (MPI_Wtime() - t) * 1e6 / 2;
        } else if (rank == 1) {
            MPI_Recv(b->recv, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(b->recv, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
        }
        return 0;
    case BW: {
        int w = (int)window_of(b->bytes);
        if (rank == 0) {
            t = MPI_Wtime();
            for (int i = 0; i < w; i++)
                MPI_Isend(b->send, n, MPI_BYTE, 1, 1, MPI_COMM_WORLD, &b->reqs[i]);
            MPI_Waitall(w, b->reqs, MPI_STATUSES_IGNORE);
            MPI_Recv(b->ack, 4, MPI_BYTE, 1, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            return (MPI_Wtime() - t) * 1e6;
        } else if (rank == 1) {
            for (int i = 0; i < w; i++)
                MPI_Irecv(b->win + (size_t)i * b->bytes, n, MPI_BYTE, 0, 1, MPI_COMM_WORLD, &b->reqs[i]);
            MPI_Waitall(w, b->reqs, MPI_STATUSES_IGNORE);
            MPI_Send(b->ack, 4, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
        }
        return 0;
    }
    case BIBW: {
        int w = (int)window_of(b->bytes), peer = 1 - rank;
        if (rank > 1)
            return 0;
        t = MPI_Wtime();
        for (int i = 0; i < w; i++)
            MPI_Irecv(b->win + (size_t)i * b->bytes, n, MPI_BYTE, peer, 3, MPI_COMM_WORLD,
                      &b->reqs[i]);
        for (int i = 0; i < w; i++)
            MPI_Isend(b->send, n, MPI_BYTE, peer, 3, MPI_COMM_WORLD, &b->reqs[w + i]);
        MPI_Waitall(2 * w, b->reqs, MPI_STATUSES_IGNORE);
        return (MPI_Wtime() - t) * 1e6;
    }
    default:
        break;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    t = MPI_Wtime();
    switch (op) {
    case BCAST: MPI_Bcast(b->send, n, MPI_BYTE, 0, MPI_COMM_WORLD); break;
    case BARRIER: MPI_Barrier(MPI_COMM_WORLD); break;
    case GATHER: MPI_Gather(b->send, n, MPI_BYTE, b->recv, n, MPI_BYTE, 0, MPI_COMM_WORLD); break;
    case SCATTER: MPI_Scatter(b->send, n, MPI_BYTE, b->recv, n, MPI_BYTE, 0, MPI_COMM_WORLD); break;
    case REDUCE: MPI_Reduce(b->send, b->recv, b->count, b->type, MPI_SUM, 0, MPI_COMM_WORLD); break;
    case ALLREDUCE: MPI_Allreduce(b->send, b->recv, b->count, b->type, MPI_SUM, MPI_COMM_WORLD); break;
    case IALLREDUCE: {
        MPI_Request r;
        MPI_Iallreduce(b->send, b->recv, b->count, b->type, MPI_SUM, MPI_COMM_WORLD, &r);
        MPI_Wait(&r, MPI_STATUS_IGNORE);
        break;
    }
    case SCAN: MPI_Scan(b->send, b->recv, b->count, b->type, MPI_SUM, MPI_COMM_WORLD); break;
    case ALLGATHER: MPI_Allgather(b->send, n, MPI_BYTE, b->recv, n, MPI_BYTE, MPI_COMM_WORLD); break;
    case ALLTOALL: MPI_Alltoall(b->send, n, MPI_BYTE, b->recv, n, MPI_BYTE, MPI_COMM_WORLD); break;
    }
    return (MPI_Wtime() - t) * 1e6;
}

static void max_over_ranks(double *v, size_t n)
{
    MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}

/* This process's CPU time (user and system, every thread; µs), its context switches so far, and
 * the clock (µs). */
static void usage(double out[3])
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    out[0] = (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
             (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
    out[1] = (double)(u.ru_nvcsw + u.ru_nivcsw);
    out[2] = MPI_Wtime() * 1e6;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    const char *ops = "all", *sizes = NULL, *impl = "mpi", *channel = "tcp";
    uint64_t min_size = 1, max_size = 64ull << 20, max_mem = 512ull << 20;
    double budget_ms = 500, scale = 1;
    int round = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("option without a value");
        if (!strcmp(a, "--ops")) ops = v;
        else if (!strcmp(a, "--sizes")) sizes = v;
        else if (!strcmp(a, "--min-size")) min_size = parse_size(v);
        else if (!strcmp(a, "--max-size")) max_size = parse_size(v);
        else if (!strcmp(a, "--budget-ms")) budget_ms = atof(v);
        else if (!strcmp(a, "--iter-scale")) scale = atof(v);
        else if (!strcmp(a, "--max-mem")) max_mem = parse_size(v);
        else if (!strcmp(a, "--round")) round = atoi(v);
        else if (!strcmp(a, "--impl")) impl = v;
        else if (!strcmp(a, "--channel")) channel = v;
        else die("unknown option");
        i++;
    }
    if (budget_ms <= 0 || scale <= 0 || scale > 1)
        die("--budget-ms must be > 0 and --iter-scale in (0, 1]");

    uint64_t size_list[64];
    int nsizes = 0;
    if (sizes) {
        const char *p = sizes;
        while (*p && nsizes < 64) {
            size_list[nsizes++] = parse_size(p);
            p = strchr(p, ',');
            if (!p)
                break;
            p++;
        }
    } else {
        for (uint64_t s = min_size ? min_size : 1; s <= max_size && nsizes < 64; s *= 2)
            size_list[nsizes++] = s;
    }
    int want[NOPS] = {0};
    if (!strcmp(ops, "all")) {
        for (int o = 0; o < NOPS; o++)
            want[o] = 1;
    } else {
        char *copy = strdup(ops), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int found = 0;
            for (int o = 0; o < NOPS; o++)
                if (!strcmp(t, op_names[o]))
                    want[o] = found = 1;
            if (!found)
                die("unknown operation");
        }
        free(copy);
    }

    for (int op = 0; op < NOPS; op++) {
        if (!want[op])
            continue;
        if ((op == PINGPONG || op == BW || op == BIBW) && nranks < 2) {
            if (rank == 0)
                fprintf(stderr, "osu_like: skipped %s: needs 2 ranks\n", op_names[op]);
            continue;
        }
        int ns = op == BARRIER ? 1 : nsizes;
        for (int si = 0; si < ns; si++) {
            uint64_t bytes = op == BARRIER ? 0 : size_list[si];
            if (memory_of(op, bytes, nranks) > max_mem) {
                if (rank == 0)
                    fprintf(stderr, "osu_like: skipped %s %llu B: buffers exceed --max-mem\n",
                            op_names[op], (unsigned long long)bytes);
                continue;
            }
            struct bufs b = {0};
            b.bytes = bytes;
            size_t big = (size_t)bytes * (size_t)nranks;
            int reduction = op == REDUCE || op == ALLREDUCE || op == IALLREDUCE || op == SCAN;
            b.type = bytes % 4 == 0 ? MPI_FLOAT : MPI_INT8_T;
            b.count = (int)(bytes % 4 == 0 ? bytes / 4 : bytes);
            size_t ssz = (op == SCATTER || op == ALLTOALL) ? big : bytes;
            size_t rsz = (op == GATHER || op == ALLGATHER || op == ALLTOALL) ? big : bytes;
            b.send = calloc(ssz ? ssz : 1, 1);
            b.recv = calloc(rsz ? rsz : 1, 1);
            int windowed = op == BW || op == BIBW;
            if (windowed) {
                b.win = calloc(bytes * window_of(bytes) + 1, 1);
                b.reqs = calloc(2 * window_of(bytes), sizeof(MPI_Request));
            }
            if (!b.send || !b.recv || (windowed && (!b.win || !b.reqs)))
                die("out of memory");
            if (reduction && bytes % 4 == 0)
                for (size_t i = 0; i < bytes / 4; i++)
                    ((float *)b.send)[i] = 1.0f;
            else
                for (size_t i = 0; i < ssz; i++)
                    b.send[i] = (char)((i % 251) % 4);

            iterate(op, &b);
            double probe[4];
            for (int i = 0; i < 4; i++)
                probe[i] = iterate(op, &b);
            max_over_ranks(probe, 4);
            qsort(probe, 4, sizeof(double), cmp_double);
            double est = percentile(probe, 4, 50);
            if (est < 0.05)
                est = 0.05;
            size_t lo, hi;
            bounds(bytes, scale, &lo, &hi);
            double budget_us = budget_ms * 1000;
            size_t iters = (size_t)(budget_us / est);
            iters = iters < lo ? lo : iters > hi ? hi : iters;
            size_t wcap = (iters + 4) / 5;
            if (wcap < 1)
                wcap = 1;
            size_t warm = (size_t)(0.2 * budget_us / est);
            warm = warm < 1 ? 1 : warm > wcap ? wcap : warm;
            /* The probe calls may have paid for lazy connection set-up (Open MPI opens its TCP
             * connections on first use), which overstates the cost of an iteration: the warm-up's
             * median (the slowest rank's) sizes the run when it is lower. */
            double *ws = malloc(warm * sizeof(double));
            if (!ws)
                die("out of memory");
            for (size_t i = 0; i < warm; i++)
                ws[i] = iterate(op, &b);
            qsort(ws, warm, sizeof(double), cmp_double);
            double west = percentile(ws, warm, 50);
            free(ws);
            max_over_ranks(&west, 1);
            if (west >= 0.05 && west < est) {
                iters = (size_t)(budget_us / west);
                iters = iters < lo ? lo : iters > hi ? hi : iters;
            }
            double *s = malloc(iters * sizeof(double));
            double before[3], after[3], spent[3], total[3];
            usage(before);
            for (size_t i = 0; i < iters; i++)
                s[i] = iterate(op, &b);
            usage(after);
            spent[0] = after[0] - before[0];
            spent[1] = after[1] - before[1];
            spent[2] = after[2] - before[2];
            MPI_Reduce(spent, total, 3, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
            max_over_ranks(s, iters);
            qsort(s, iters, sizeof(double), cmp_double);
            double med = percentile(s, iters, 50), p90 = percentile(s, iters, 90);
            size_t w = windowed ? window_of(bytes) : 0;
            double moved = (double)bytes * (double)(w ? w : 1) * (op == BIBW ? 2 : 1);
            int ok = 1;
            if ((op == ALLREDUCE || op == IALLREDUCE) && bytes % 4 == 0)
                for (size_t i = 0; i < bytes / 4; i++)
                    ok &= ((float *)b.recv)[i] == (float)nranks;
            if (op == PINGPONG && rank == 0)
                ok = memcmp(b.send, b.recv, bytes) == 0;
            if (op == BIBW && rank < 2)
                for (size_t i = 0; i < w; i++)
                    ok &= memcmp(b.send, b.win + i * bytes, bytes) == 0;
            if (!ok)
                die("result check failed");
            if (rank == 0) {
                printf("{\"impl\":\"%s\",\"channel\":\"%s\",\"op\":\"%s\",\"algo\":\"\",\"bytes\":%llu,"
                       "\"peers\":%d,\"window\":%zu,\"iters\":%zu,\"median_us\":%.4f,\"p90_us\":%.4f,"
                       "\"min_us\":%.4f,\"mbps\":%.4f,\"round\":%d,\"cpu_us\":%.4f,\"ctxsw\":%.4f,\"wall_us\":%.4f}\n",
                       impl, channel, op_names[op], (unsigned long long)bytes, nranks, w, iters, med,
                       p90, s[0], med > 0 ? moved / med : 0.0, round, total[0] / (double)iters,
                       total[1] / (double)iters, total[2] / (double)iters / nranks);
                fflush(stdout);
            }
            free(s);
            free(b.send);
            free(b.recv);
            free(b.win);
            free(b.reqs);
        }
    }
    MPI_Finalize();
    return 0;
}
