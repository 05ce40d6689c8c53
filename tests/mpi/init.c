/* Init and the world: MPI_Init_thread, Initialized/Finalized, the thread level, versions,
 * clocks, the processor name, the ABI queries, MPI_COMM_WORLD/SELF. Argument: the number of
 * processes the launcher started. */
#include "check.h"

static const char *info_get(MPI_Info info, const char *key, char *buf, int cap) {
    int flag = 0, len = cap - 1;
    OK(MPI_Info_get_string(info, key, &len, buf, &flag));
    return flag ? buf : NULL;
}

int main(int argc, char **argv) {
    int flag = -1, major = -1, minor = -1;
    CHECK(argc == 2, "usage: init NPROCS");
    int expected = atoi(argv[1]);
    OK(MPI_Initialized(&flag));
    CHECK(flag == 0, "Initialized before MPI_Init: %d", flag);
    OK(MPI_Abi_get_version(&major, &minor));
    CHECK(major == MPI_ABI_VERSION && minor == MPI_ABI_SUBVERSION, "ABI %d.%d", major, minor);

    int provided = -1;
    OK(MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided));
    CHECK(provided == MPI_THREAD_SINGLE || provided == MPI_THREAD_FUNNELED ||
              provided == MPI_THREAD_SERIALIZED || provided == MPI_THREAD_MULTIPLE,
          "provided %d", provided);
    int q = -1;
    OK(MPI_Query_thread(&q));
    CHECK(q == provided, "Query_thread %d, Init_thread gave %d", q, provided);
    OK(MPI_Is_thread_main(&flag));
    CHECK(flag == 1, "Is_thread_main %d", flag);
    OK(MPI_Initialized(&flag));
    CHECK(flag == 1, "Initialized %d", flag);
    OK(MPI_Finalized(&flag));
    CHECK(flag == 0, "Finalized %d", flag);

    int size = -1, rank = -1;
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    CHECK(size == expected, "world size %d, expected %d", size, expected);
    CHECK(rank >= 0 && rank < size, "rank %d of %d", rank, size);
    OK(MPI_Comm_size(MPI_COMM_SELF, &size));
    OK(MPI_Comm_rank(MPI_COMM_SELF, &rank));
    CHECK(size == 1 && rank == 0, "self: rank %d of %d", rank, size);

    OK(MPI_Get_version(&major, &minor));
    CHECK(major == MPI_VERSION && minor == MPI_SUBVERSION, "version %d.%d", major, minor);
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = -1;
    OK(MPI_Get_library_version(lib, &len));
    CHECK(len > 0 && (int)strlen(lib) == len, "library version length %d", len);
    char host[MPI_MAX_PROCESSOR_NAME];
    OK(MPI_Get_processor_name(host, &len));
    CHECK(len > 0 && (int)strlen(host) == len, "processor name length %d", len);

    double t0 = MPI_Wtime(), tick = MPI_Wtick();
    CHECK(tick > 0 && tick < 1, "Wtick %g", tick);
    double t1 = MPI_Wtime();
    while (t1 - t0 < 0.01) t1 = MPI_Wtime();
    CHECK(t1 - t0 >= 0.01 && t1 - t0 < 5, "Wtime went from %f to %f", t0, t1);

    MPI_Info info = MPI_INFO_NULL;
    char v[64];
    OK(MPI_Abi_get_info(&info));
    CHECK(info != MPI_INFO_NULL, "Abi_get_info gave MPI_INFO_NULL");
    CHECK(info_get(info, "mpi_aint_size", v, sizeof v) && atoi(v) == (int)sizeof(MPI_Aint),
          "mpi_aint_size");
    CHECK(info_get(info, "mpi_count_size", v, sizeof v) && atoi(v) == (int)sizeof(MPI_Count),
          "mpi_count_size");
    CHECK(info_get(info, "mpi_offset_size", v, sizeof v) && atoi(v) == (int)sizeof(MPI_Offset),
          "mpi_offset_size");
    OK(MPI_Info_free(&info));
    CHECK(info == MPI_INFO_NULL, "Info_free did not reset the handle");

    char name[MPI_MAX_OBJECT_NAME];
    OK(MPI_Comm_get_name(MPI_COMM_WORLD, name, &len));
    CHECK(strcmp(name, "MPI_COMM_WORLD") == 0, "world's name %s", name);
    OK(MPI_Comm_get_name(MPI_COMM_SELF, name, &len));
    CHECK(strcmp(name, "MPI_COMM_SELF") == 0, "self's name %s", name);

    int *tag_ub = NULL;
    OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tag_ub, &flag));
    CHECK(flag && *tag_ub >= 32767, "MPI_TAG_UB flag %d", flag);
    int *global = NULL;
    OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_WTIME_IS_GLOBAL, &global, &flag));
    CHECK(!flag || *global == 0 || *global == 1, "MPI_WTIME_IS_GLOBAL");

    pass("init");
    OK(MPI_Finalize());
    OK(MPI_Finalized(&flag));
    CHECK(flag == 1, "Finalized after MPI_Finalize: %d", flag);
    return 0;
}
