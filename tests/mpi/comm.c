/* Communicators: size/rank, dup (attributes copied by their callbacks), split (incl.
 * MPI_UNDEFINED), split_type(MPI_COMM_TYPE_SHARED), create, create_group, compare, free (delete
 * callbacks), names, info hints (fmi_hint/fmi_channel on libfmi). */
#include "check.h"

static int copies = 0, deletes = 0;

static int copy_fn(MPI_Comm c, int kv, void *extra, void *in, void *out, int *flag) {
    (void)c; (void)kv;
    CHECK(*(int *)extra == 42, "extra state %d", *(int *)extra);
    copies++;
    *(void **)out = (char *)in + 1;
    *flag = 1;
    return MPI_SUCCESS;
}

static int delete_fn(MPI_Comm c, int kv, void *val, void *extra) {
    (void)c; (void)kv; (void)val; (void)extra;
    deletes++;
    return MPI_SUCCESS;
}

static int sum_all(MPI_Comm c, int v) {
    int out = 0;
    OK(MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_SUM, c));
    return out;
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len;
    OK(MPI_Get_library_version(lib, &len));
    int libfmi = strstr(lib, "libfmi") != NULL;

    /* dup: same group, congruent; an attribute copied by its callback, deleted on free. */
    static int extra = 42;
    static char base[4];
    int kv;
    OK(MPI_Comm_create_keyval(copy_fn, delete_fn, &kv, &extra));
    OK(MPI_Comm_set_attr(MPI_COMM_WORLD, kv, base));
    MPI_Comm dup;
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    int r = -1, s = -1, cmp = -1, flag = 0;
    OK(MPI_Comm_rank(dup, &r));
    OK(MPI_Comm_size(dup, &s));
    CHECK(r == rank && s == size, "dup rank %d size %d", r, s);
    OK(MPI_Comm_compare(MPI_COMM_WORLD, dup, &cmp));
    CHECK(cmp == MPI_CONGRUENT, "compare world/dup %d", cmp);
    OK(MPI_Comm_compare(dup, dup, &cmp));
    CHECK(cmp == MPI_IDENT, "compare dup/dup %d", cmp);
    void *val = NULL;
    OK(MPI_Comm_get_attr(dup, kv, &val, &flag));
    CHECK(flag && val == base + 1 && copies == 1, "copied attribute %p flag %d", val, flag);
    CHECK(sum_all(dup, rank) == size * (size - 1) / 2, "allreduce on dup");

    OK(MPI_Comm_free(&dup));
    CHECK(dup == MPI_COMM_NULL, "free did not reset the handle");
    CHECK(deletes == 1, "delete callback ran %d times", deletes);
    OK(MPI_Comm_delete_attr(MPI_COMM_WORLD, kv));
    CHECK(deletes == 2, "delete_attr ran the callback %d times", deletes);
    OK(MPI_Comm_get_attr(MPI_COMM_WORLD, kv, &val, &flag));
    CHECK(!flag, "attribute still set after delete");
    OK(MPI_Comm_free_keyval(&kv));
    CHECK(kv == MPI_KEYVAL_INVALID, "free_keyval did not reset");

    /* split: evens and odds, ranked by descending world rank; the last rank opts out. */
    MPI_Comm half;
    int color = (size > 1 && rank == size - 1) ? MPI_UNDEFINED : rank % 2;
    OK(MPI_Comm_split(MPI_COMM_WORLD, color, -rank, &half));
    if (color == MPI_UNDEFINED) {
        CHECK(half == MPI_COMM_NULL, "opted-out rank got a communicator");
    } else {
        int members = 0;
        for (int i = 0; i < size; i++)
            if (i % 2 == color && !(size > 1 && i == size - 1)) members++;
        OK(MPI_Comm_size(half, &s));
        OK(MPI_Comm_rank(half, &r));
        CHECK(s == members, "split size %d, expected %d", s, members);
        int above = 0;
        for (int i = rank + 1; i < size; i++)
            if (i % 2 == color && !(size > 1 && i == size - 1)) above++;
        CHECK(r == above, "split rank %d, expected %d", r, above);
        int sum = sum_all(half, rank), want = 0;
        for (int i = 0; i < size; i++)
            if (i % 2 == color && !(size > 1 && i == size - 1)) want += i;
        CHECK(sum == want, "allreduce in the split: %d, expected %d", sum, want);
        OK(MPI_Comm_compare(MPI_COMM_WORLD, half, &cmp));
        CHECK(cmp == (s == size ? MPI_SIMILAR : MPI_UNEQUAL) || (s == size && cmp == MPI_CONGRUENT),
              "compare world/half %d", cmp);
        OK(MPI_Comm_free(&half));
    }

    /* split_type(SHARED): every process of these tests runs on one host. */
    MPI_Comm node;
    OK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
    OK(MPI_Comm_size(node, &s));
    OK(MPI_Comm_rank(node, &r));
    CHECK(s == size && r == rank, "shared: rank %d of %d", r, s);
    OK(MPI_Comm_free(&node));
    OK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_UNDEFINED, rank, MPI_INFO_NULL, &node));
    CHECK(node == MPI_COMM_NULL, "split_type(MPI_UNDEFINED) gave a communicator");

    /* create (collective over the world) and create_group (over the group only): the group of
     * the even ranks in reverse order. */
    MPI_Group world_group, evens;
    OK(MPI_Comm_group(MPI_COMM_WORLD, &world_group));
    int n_even = (size + 1) / 2, ranks[64];
    for (int i = 0; i < n_even; i++) ranks[i] = 2 * (n_even - 1 - i);
    OK(MPI_Group_incl(world_group, n_even, ranks, &evens));
    MPI_Comm created;
    OK(MPI_Comm_create(MPI_COMM_WORLD, evens, &created));
    if (rank % 2 == 0) {
        OK(MPI_Comm_rank(created, &r));
        CHECK(r == n_even - 1 - rank / 2, "create: rank %d", r);
        CHECK(sum_all(created, 1) == n_even, "allreduce in the created communicator");
        MPI_Comm grp;
        OK(MPI_Comm_create_group(MPI_COMM_WORLD, evens, 5, &grp));
        OK(MPI_Comm_rank(grp, &r));
        CHECK(r == n_even - 1 - rank / 2, "create_group: rank %d", r);
        OK(MPI_Comm_compare(created, grp, &cmp));
        CHECK(cmp == MPI_CONGRUENT, "created/grp %d", cmp);
        OK(MPI_Comm_free(&grp));
        OK(MPI_Comm_free(&created));
    } else {
        CHECK(created == MPI_COMM_NULL, "a non-member got a communicator");
    }
    OK(MPI_Group_free(&evens));
    OK(MPI_Group_free(&world_group));

    /* Names. */
    char name[MPI_MAX_OBJECT_NAME];
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    OK(MPI_Comm_set_name(dup, "my dup"));
    OK(MPI_Comm_get_name(dup, name, &len));
    CHECK(strcmp(name, "my dup") == 0 && len == 6, "name %s", name);

    /* Info hints: libfmi reports the ones it uses. */
    MPI_Info info, used;
    OK(MPI_Info_create(&info));
    OK(MPI_Info_set(info, "fmi_hint", "fast"));
    OK(MPI_Comm_set_info(dup, info));
    OK(MPI_Comm_get_info(dup, &used));
    if (libfmi) {
        char v[32];
        int vlen = sizeof v;
        OK(MPI_Info_get_string(used, "fmi_hint", &vlen, v, &flag));
        CHECK(flag && strcmp(v, "fast") == 0, "fmi_hint in use: %s", flag ? v : "(unset)");
        vlen = sizeof v;
        OK(MPI_Info_get_string(used, "fmi_channel", &vlen, v, &flag));
        CHECK(flag && strcmp(v, "auto") == 0, "fmi_channel: %s", flag ? v : "(unset)");
        OK(MPI_Info_set(info, "fmi_channel", "direct"));
        OK(MPI_Comm_set_info(dup, info));
        OK(MPI_Info_free(&used));
        OK(MPI_Comm_get_info(dup, &used));
        vlen = sizeof v;
        OK(MPI_Info_get_string(used, "fmi_channel", &vlen, v, &flag));
        CHECK(flag && strcmp(v, "direct") == 0, "pinned channel: %s", flag ? v : "(unset)");
    }
    CHECK(sum_all(dup, 2) == 2 * size, "allreduce after the hints");
    OK(MPI_Info_free(&used));
    OK(MPI_Info_free(&info));
    OK(MPI_Comm_free(&dup));

    int inter = -1;
    OK(MPI_Comm_test_inter(MPI_COMM_WORLD, &inter));
    CHECK(inter == 0, "world is an inter-communicator?");
    pass("comm");
    OK(MPI_Finalize());
    return 0;
}
