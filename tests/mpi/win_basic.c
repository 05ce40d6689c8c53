/* MPI windows (one-sided communication), every result checked: create/allocate/dynamic
 * windows and their attributes; fence epochs with put, get and accumulate, with derived
 * datatypes (a strided vector at the target); passive target: a counter at rank 0 that every
 * rank increments with MPI_Fetch_and_op under shared locks (each value handed out once), a
 * mutex made of MPI_Compare_and_swap under lock_all guarding a non-atomic read-modify-write,
 * flushes; post/start/complete/wait; request forms; dynamic windows; a shared window on the
 * processes of one host; errors returned as classes. */
#include "check.h"
#include <stdint.h>

#define N 8

static int rank, size;

static void attributes(MPI_Win win, void *base, MPI_Aint bytes, int disp, int flavor) {
    void *v = NULL;
    int flag = 0;
    OK(MPI_Win_get_attr(win, MPI_WIN_BASE, &v, &flag));
    CHECK(flag && v == base, "WIN_BASE %p, expected %p", v, base);
    OK(MPI_Win_get_attr(win, MPI_WIN_SIZE, &v, &flag));
    CHECK(flag && *(MPI_Aint *)v == bytes, "WIN_SIZE %ld", (long)*(MPI_Aint *)v);
    OK(MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &v, &flag));
    CHECK(flag && *(int *)v == disp, "WIN_DISP_UNIT %d", *(int *)v);
    OK(MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &v, &flag));
    CHECK(flag && *(int *)v == flavor, "WIN_CREATE_FLAVOR %d", *(int *)v);
    OK(MPI_Win_get_attr(win, MPI_WIN_MODEL, &v, &flag));
    CHECK(flag && *(int *)v == MPI_WIN_UNIFIED, "WIN_MODEL %d", *(int *)v);
}

/* Fence epochs on a window made by MPI_Win_create: each rank puts into its right neighbour,
 * gets from its left one, accumulates into rank 0; a vector type places data with a stride. */
static void fence_epochs(void) {
    int mem[2 * N];
    for (int i = 0; i < 2 * N; i++) mem[i] = -1;
    MPI_Win win;
    OK(MPI_Win_create(mem, sizeof mem, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    attributes(win, mem, sizeof mem, sizeof(int), MPI_WIN_FLAVOR_CREATE);
    MPI_Group g, wg;
    int cmp;
    OK(MPI_Win_get_group(win, &g));
    OK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    OK(MPI_Group_compare(g, wg, &cmp));
    CHECK(cmp == MPI_IDENT, "window group %d", cmp);
    OK(MPI_Group_free(&g));
    OK(MPI_Group_free(&wg));

    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int src[N];
    for (int i = 0; i < N; i++) src[i] = 100 * rank + i;
    /* Every other int at the target: a vector of N blocks of 1 with stride 2. */
    MPI_Datatype strided;
    OK(MPI_Type_vector(N, 1, 2, MPI_INT, &strided));
    OK(MPI_Type_commit(&strided));

    OK(MPI_Win_fence(0, win));
    OK(MPI_Put(src, N, MPI_INT, right, 0, 1, strided, win));
    OK(MPI_Win_fence(0, win));
    for (int i = 0; i < N; i++) {
        CHECK(mem[2 * i] == 100 * left + i, "put: mem[%d] = %d", 2 * i, mem[2 * i]);
        CHECK(mem[2 * i + 1] == -1, "put wrote the gap mem[%d] = %d", 2 * i + 1, mem[2 * i + 1]);
    }
    /* Get the strided data back from the left neighbour into a contiguous buffer. */
    int got[N];
    OK(MPI_Get(got, N, MPI_INT, left, 0, 1, strided, win));
    OK(MPI_Win_fence(0, win));
    int ll = (left + size - 1) % size;
    for (int i = 0; i < N; i++) CHECK(got[i] == 100 * ll + i, "get: got[%d] = %d", i, got[i]);

    /* Every rank adds (rank + 1) to the gaps at rank 0; then MPI_MAX of the ranks. */
    int one[N];
    for (int i = 0; i < N; i++) one[i] = rank + 1;
    OK(MPI_Win_fence(0, win));
    if (rank == 0)
        for (int i = 0; i < N; i++) mem[2 * i + 1] = 0;
    OK(MPI_Win_fence(0, win));
    MPI_Datatype gaps;
    OK(MPI_Type_create_resized(strided, 0, 2 * N * sizeof(int), &gaps));
    OK(MPI_Type_commit(&gaps));
    OK(MPI_Accumulate(one, N, MPI_INT, 0, 1, 1, gaps, MPI_SUM, win));
    OK(MPI_Win_fence(0, win));
    if (rank == 0)
        for (int i = 0; i < N; i++)
            CHECK(mem[2 * i + 1] == size * (size + 1) / 2, "accumulate: %d", mem[2 * i + 1]);
    if (rank == 0) mem[1] = -100;
    OK(MPI_Win_fence(0, win));
    OK(MPI_Accumulate(&rank, 1, MPI_INT, 0, 1, 1, MPI_INT, MPI_MAX, win));
    OK(MPI_Win_fence(0, win));
    if (rank == 0) CHECK(mem[1] == size - 1, "MPI_MAX accumulate: %d", mem[1]);

    /* Errors come back as classes (the window's handler set to return). An access outside
     * the target's window is erroneous; MPICH does not check it, libfmi does. */
    OK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN));
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len, rc;
    OK(MPI_Get_library_version(lib, &len));
    if (strstr(lib, "libfmi") != NULL) {
        rc = MPI_Put(src, N, MPI_INT, right, 2 * N - 1, N, MPI_INT, win);
        CHECK(class_of(rc) == MPI_ERR_RMA_RANGE, "put past the end: class %d", class_of(rc));
        /* MPICH reports a bad assert or lock type as another class (13). */
        rc = MPI_Win_fence(1 << 20, win);
        CHECK(class_of(rc) == MPI_ERR_ASSERT, "fence with a bad assert: class %d", class_of(rc));
        rc = MPI_Win_lock(MPI_LOCK_SHARED + MPI_LOCK_EXCLUSIVE, right, 0, win);
        CHECK(class_of(rc) == MPI_ERR_LOCKTYPE, "bad lock type: class %d", class_of(rc));
    }
    rc = MPI_Put(src, 1, MPI_INT, size, 0, 1, MPI_INT, win);
    CHECK(class_of(rc) == MPI_ERR_RANK, "put to rank %d: class %d", size, class_of(rc));
    rc = MPI_Win_unlock(right, win);
    CHECK(class_of(rc) == MPI_ERR_RMA_SYNC, "unlock without lock: class %d", class_of(rc));
    OK(MPI_Win_fence(MPI_MODE_NOSUCCEED, win));
    OK(MPI_Type_free(&strided));
    OK(MPI_Type_free(&gaps));
    OK(MPI_Win_free(&win));
    CHECK(win == MPI_WIN_NULL, "MPI_Win_free did not set MPI_WIN_NULL");
}

/* Passive target on a window from MPI_Win_allocate: a shared counter and a mutex. */
static void passive_target(void) {
    long long *mem;
    MPI_Win win;
    OK(MPI_Win_allocate(4 * sizeof(long long), sizeof(long long), MPI_INFO_NULL, MPI_COMM_WORLD,
                        &mem, &win));
    attributes(win, mem, 4 * sizeof(long long), sizeof(long long), MPI_WIN_FLAVOR_ALLOCATE);
    OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, win));
    for (int i = 0; i < 4; i++) mem[i] = 0;
    OK(MPI_Win_unlock(rank, win));
    OK(MPI_Barrier(MPI_COMM_WORLD));

    /* Counter: rank 0's mem[0]; each rank takes 20 values; all values are distinct. */
    enum { TAKES = 20 };
    long long mine[TAKES], incr = 1;
    for (int i = 0; i < TAKES; i++) {
        OK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
        OK(MPI_Fetch_and_op(&incr, &mine[i], MPI_LONG_LONG, 0, 0, MPI_SUM, win));
        OK(MPI_Win_unlock(0, win));
    }
    long long *all = malloc(sizeof(long long) * TAKES * size);
    OK(MPI_Allgather(mine, TAKES, MPI_LONG_LONG, all, TAKES, MPI_LONG_LONG, MPI_COMM_WORLD));
    char *seen = calloc(TAKES * size, 1);
    for (int i = 0; i < TAKES * size; i++) {
        CHECK(all[i] >= 0 && all[i] < TAKES * size && !seen[all[i]], "counter value %lld twice",
              all[i]);
        seen[all[i]] = 1;
    }
    free(seen);
    free(all);

    /* Mutex: mem[1] at rank 0 is 0 (free) or owner + 1; the guarded mem[2] is read, then
     * written back plus one (not atomic: only the mutex keeps increments from being lost). */
    OK(MPI_Win_lock_all(0, win));
    long long zero = 0, me = rank + 1, prev = -1, v;
    for (int i = 0; i < 10; i++) {
        do {
            OK(MPI_Compare_and_swap(&me, &zero, &prev, MPI_LONG_LONG, 0, 1, win));
            OK(MPI_Win_flush(0, win));
        } while (prev != 0);
        OK(MPI_Get(&v, 1, MPI_LONG_LONG, 0, 2, 1, MPI_LONG_LONG, win));
        OK(MPI_Win_flush(0, win));
        v += 1;
        OK(MPI_Put(&v, 1, MPI_LONG_LONG, 0, 2, 1, MPI_LONG_LONG, win));
        OK(MPI_Win_flush_all(win));
        OK(MPI_Compare_and_swap(&zero, &me, &prev, MPI_LONG_LONG, 0, 1, win));
        OK(MPI_Win_flush(0, win));
        CHECK(prev == me, "mutex released by %lld, held by %lld", me, prev);
    }
    OK(MPI_Win_unlock_all(win));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    OK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
    OK(MPI_Get(&v, 1, MPI_LONG_LONG, 0, 2, 1, MPI_LONG_LONG, win));
    OK(MPI_Win_unlock(0, win));
    CHECK(v == 10 * size, "mutex-guarded count %lld, expected %d", v, 10 * size);

    /* Get_accumulate and request forms. */
    OK(MPI_Barrier(MPI_COMM_WORLD));
    long long add = 2, old = -1;
    MPI_Request rq;
    OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win));
    OK(MPI_Rget_accumulate(&add, 1, MPI_LONG_LONG, &old, 1, MPI_LONG_LONG, 0, 3, 1, MPI_LONG_LONG,
                           MPI_SUM, win, &rq));
    OK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    OK(MPI_Win_unlock(0, win));
    CHECK(old >= 0 && old % 2 == 0 && old < 2 * size, "get_accumulate old %lld", old);
    OK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) CHECK(mem[3] == 2 * size, "get_accumulate total %lld", mem[3]);
    OK(MPI_Win_free(&win));
}

/* Post/start/complete/wait: rank 0 exposes its window to all others, which put their rank. */
static void pscw(void) {
    int mem[64] = {0};
    MPI_Win win;
    OK(MPI_Win_create(mem, sizeof mem, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_Group wg, others, zero;
    OK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    int z = 0;
    OK(MPI_Group_excl(wg, 1, &z, &others));
    OK(MPI_Group_incl(wg, 1, &z, &zero));
    if (rank == 0) {
        if (size > 1) {
            OK(MPI_Win_post(others, 0, win));
            OK(MPI_Win_wait(win));
        }
        for (int r = 1; r < size; r++) CHECK(mem[r] == r * 7, "pscw mem[%d] = %d", r, mem[r]);
    } else {
        int v = rank * 7;
        OK(MPI_Win_start(zero, 0, win));
        OK(MPI_Put(&v, 1, MPI_INT, 0, rank, 1, MPI_INT, win));
        OK(MPI_Win_complete(win));
    }
    OK(MPI_Group_free(&wg));
    OK(MPI_Group_free(&others));
    OK(MPI_Group_free(&zero));
    OK(MPI_Win_free(&win));
}

/* A dynamic window: rank 0 attaches memory and publishes its address. */
static void dynamic_window(void) {
    MPI_Win win;
    OK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    int flavor_ok = 0, *f = NULL;
    OK(MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &f, &flavor_ok));
    CHECK(flavor_ok && *f == MPI_WIN_FLAVOR_DYNAMIC, "dynamic flavor");
    int region[16] = {0};
    MPI_Aint addr = 0;
    if (rank == 0) {
        OK(MPI_Win_attach(win, region, sizeof region));
        OK(MPI_Get_address(region, &addr));
    }
    OK(MPI_Bcast(&addr, 1, MPI_AINT, 0, MPI_COMM_WORLD));
    OK(MPI_Win_fence(0, win));
    int v = rank + 1;
    OK(MPI_Accumulate(&v, 1, MPI_INT, 0, addr + 4 * sizeof(int), 1, MPI_INT, MPI_SUM, win));
    OK(MPI_Win_fence(0, win));
    if (rank == 0) {
        CHECK(region[4] == size * (size + 1) / 2, "dynamic accumulate %d", region[4]);
        OK(MPI_Win_detach(win, region));
    }
    OK(MPI_Win_fence(0, win));
    OK(MPI_Win_free(&win));
}

/* A shared window on the processes of this host: each writes its part through its own
 * pointer and reads the others' through MPI_Win_shared_query's. */
static void shared_window(void) {
    MPI_Comm node;
    OK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    int nr, ns;
    OK(MPI_Comm_rank(node, &nr));
    OK(MPI_Comm_size(node, &ns));
    int *mine;
    MPI_Win win;
    OK(MPI_Win_allocate_shared((nr + 1) * sizeof(int), sizeof(int), MPI_INFO_NULL, node, &mine,
                               &win));
    attributes(win, mine, (nr + 1) * sizeof(int), sizeof(int), MPI_WIN_FLAVOR_SHARED);
    OK(MPI_Win_lock_all(0, win));
    for (int i = 0; i <= nr; i++) mine[i] = 1000 * nr + i;
    OK(MPI_Win_sync(win));
    OK(MPI_Barrier(node));
    OK(MPI_Win_sync(win));
    for (int r = 0; r < ns; r++) {
        MPI_Aint bytes;
        int du;
        int *p;
        OK(MPI_Win_shared_query(win, r, &bytes, &du, &p));
        CHECK(bytes == (MPI_Aint)((r + 1) * sizeof(int)) && du == (int)sizeof(int),
              "shared_query(%d): %ld bytes, unit %d", r, (long)bytes, du);
        for (int i = 0; i <= r; i++) CHECK(p[i] == 1000 * r + i, "shared p[%d] of %d", i, r);
    }
    OK(MPI_Win_unlock_all(win));
    OK(MPI_Win_free(&win));
    OK(MPI_Comm_free(&node));
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    fence_epochs();
    passive_target();
    pscw();
    dynamic_window();
    shared_window();
    pass("win_basic");
    OK(MPI_Finalize());
    return 0;
}
