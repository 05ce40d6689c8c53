/* Groups: size, rank, incl, excl, range_incl, range_excl, union, intersection, difference,
 * translate_ranks, compare, free; MPI_GROUP_EMPTY. */
#include "check.h"

static void members(MPI_Group g, MPI_Group world, int *out, int *n) {
    OK(MPI_Group_size(g, n));
    int idx[64];
    for (int i = 0; i < *n; i++) idx[i] = i;
    OK(MPI_Group_translate_ranks(g, *n, idx, world, out));
}

static void expect(MPI_Group g, MPI_Group world, const int *want, int n, const char *what) {
    int got[64], m = -1;
    members(g, world, got, &m);
    CHECK(m == n, "%s: size %d, expected %d", what, m, n);
    for (int i = 0; i < n; i++) CHECK(got[i] == want[i], "%s[%d] = %d, expected %d", what, i, got[i], want[i]);
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    MPI_Group world;
    OK(MPI_Comm_group(MPI_COMM_WORLD, &world));
    int s = -1, r = -1, cmp = -1;
    OK(MPI_Group_size(world, &s));
    OK(MPI_Group_rank(world, &r));
    CHECK(s == size && r == rank, "world group: rank %d of %d", r, s);

    int all[64], rev[64];
    for (int i = 0; i < size; i++) { all[i] = i; rev[i] = size - 1 - i; }
    MPI_Group g_rev, g_first, g_rest, g_u, g_i, g_d, g_ri, g_re;
    OK(MPI_Group_incl(world, size, rev, &g_rev));
    expect(g_rev, world, rev, size, "incl reversed");
    OK(MPI_Group_rank(g_rev, &r));
    CHECK(r == size - 1 - rank, "rank in the reversed group %d", r);
    OK(MPI_Group_compare(world, g_rev, &cmp));
    CHECK(cmp == (size == 1 ? MPI_IDENT : MPI_SIMILAR), "compare world/reversed %d", cmp);

    int zero = 0;
    OK(MPI_Group_incl(world, 1, &zero, &g_first));
    OK(MPI_Group_excl(world, 1, &zero, &g_rest));
    expect(g_rest, world, all + 1, size - 1, "excl 0");
    OK(MPI_Group_rank(g_rest, &r));
    CHECK(r == (rank == 0 ? MPI_UNDEFINED : rank - 1), "rank in excl %d", r);
    OK(MPI_Group_union(g_rest, g_first, &g_u));
    int rest_then_first[64];
    for (int i = 0; i < size - 1; i++) rest_then_first[i] = i + 1;
    rest_then_first[size - 1] = 0;
    expect(g_u, world, rest_then_first, size, "union");
    OK(MPI_Group_intersection(g_rev, g_rest, &g_i));
    int rev_rest[64], k = 0;
    for (int i = 0; i < size; i++) if (rev[i] != 0) rev_rest[k++] = rev[i];
    expect(g_i, world, rev_rest, k, "intersection");
    OK(MPI_Group_difference(world, g_rest, &g_d));
    expect(g_d, world, &zero, 1, "difference");

    /* Ranges: every second rank from the last one down, and the rest. */
    int ranges[1][3] = {{size - 1, 0, -2}};
    OK(MPI_Group_range_incl(world, 1, ranges, &g_ri));
    int picked[64], np = 0, rest[64], nr = 0;
    for (int i = size - 1; i >= 0; i -= 2) picked[np++] = i;
    for (int i = 0; i < size; i++) if ((size - 1 - i) % 2 != 0) rest[nr++] = i;
    expect(g_ri, world, picked, np, "range_incl");
    OK(MPI_Group_range_excl(world, 1, ranges, &g_re));
    expect(g_re, world, rest, nr, "range_excl");

    /* translate_ranks of MPI_PROC_NULL, and into a group without the process. */
    int in[2] = {MPI_PROC_NULL, 0}, out[2];
    OK(MPI_Group_translate_ranks(world, 2, in, g_rest, out));
    CHECK(out[0] == MPI_PROC_NULL && out[1] == MPI_UNDEFINED, "translate %d %d", out[0], out[1]);

    MPI_Group empty;
    OK(MPI_Group_difference(world, world, &empty));
    OK(MPI_Group_size(empty, &s));
    CHECK(s == 0, "empty group size %d", s);
    OK(MPI_Group_compare(empty, MPI_GROUP_EMPTY, &cmp));
    CHECK(cmp == MPI_IDENT, "empty vs MPI_GROUP_EMPTY %d", cmp);

    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    int bad = size;
    MPI_Group g_bad = MPI_GROUP_NULL;
    int rc = MPI_Group_incl(world, 1, &bad, &g_bad);
    CHECK(rc != MPI_SUCCESS && class_of(rc) == MPI_ERR_RANK, "incl of rank %d: rc %d class %d", bad, rc, class_of(rc));

    MPI_Group *gs[] = {&g_rev, &g_first, &g_rest, &g_u, &g_i, &g_d, &g_ri, &g_re, &world};
    for (unsigned i = 0; i < sizeof gs / sizeof gs[0]; i++) {
        OK(MPI_Group_free(gs[i]));
        CHECK(*gs[i] == MPI_GROUP_NULL, "free did not reset");
    }
    if (empty != MPI_GROUP_EMPTY) OK(MPI_Group_free(&empty));
    pass("group");
    OK(MPI_Finalize());
    return 0;
}
