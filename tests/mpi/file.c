/* MPI-IO on local files: open modes and their errors (raised on MPI_FILE_NULL's handler,
 * MPI_ERRORS_RETURN), a file shared by MPI_COMM_WORLD (every rank on the same file system),
 * explicit-offset and individual-pointer reads and writes (blocking, non-blocking, collective,
 * split), views, seek, sizes, sync, the file's error handler, MPI_MODE_DELETE_ON_CLOSE and
 * MPI_File_delete. Runs unchanged on MPICH (ROMIO) and on libfmi. */
#include "check.h"
#include <unistd.h>

#define N 8

static int file_errors = 0;
static void on_file_error(MPI_File *f, int *code, ...) {
    (void)f;
    (void)code;
    file_errors++;
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int rank, size;
    OK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));

    /* a fresh name, the same on every rank */
    char path[512], own[600];
    if (rank == 0) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/fmi-mpi-file-%d", dir && *dir ? dir : "/tmp",
                 (int)getpid());
        unlink(path);
    }
    OK(MPI_Bcast(path, sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD));
    snprintf(own, sizeof own, "%s-rank%d", path, rank);

    /* MPI_FILE_NULL's handler is MPI_ERRORS_RETURN: open errors come back as codes */
    MPI_Errhandler eh;
    OK(MPI_File_get_errhandler(MPI_FILE_NULL, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "MPI_FILE_NULL's handler is not MPI_ERRORS_RETURN");
    OK(MPI_Errhandler_free(&eh));
    MPI_File f = MPI_FILE_NULL;
    int rc = MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDONLY, MPI_INFO_NULL, &f);
    CHECK(class_of(rc) == MPI_ERR_NO_SUCH_FILE, "opening a missing file: class %d",
          class_of(rc));
    rc = MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDONLY | MPI_MODE_CREATE, MPI_INFO_NULL,
                       &f);
    CHECK(class_of(rc) == MPI_ERR_AMODE, "RDONLY|CREATE: class %d", class_of(rc));
    rc = MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDWR | MPI_MODE_WRONLY, MPI_INFO_NULL, &f);
    CHECK(class_of(rc) == MPI_ERR_AMODE, "RDWR|WRONLY: class %d", class_of(rc));

    /* create it together; each rank writes its block at an explicit offset */
    OK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDWR | MPI_MODE_CREATE | MPI_MODE_EXCL,
                     MPI_INFO_NULL, &f));
    int amode = 0, gsize = 0;
    OK(MPI_File_get_amode(f, &amode));
    CHECK(amode == (MPI_MODE_RDWR | MPI_MODE_CREATE | MPI_MODE_EXCL), "amode %#x", amode);
    MPI_Group g;
    OK(MPI_File_get_group(f, &g));
    OK(MPI_Group_size(g, &gsize));
    CHECK(gsize == size, "the file's group has %d processes", gsize);
    OK(MPI_Group_free(&g));
    MPI_Offset fsize = -1;
    OK(MPI_File_get_size(f, &fsize));
    CHECK(fsize == 0, "a new file of %lld bytes", (long long)fsize);
    OK(MPI_Barrier(MPI_COMM_WORLD)); /* every rank saw it empty before any writes */
    int out[N], in[N];
    for (int i = 0; i < N; i++) out[i] = rank * 1000 + i;
    MPI_Status st;
    int count = -1;
    OK(MPI_File_write_at_all(f, (MPI_Offset)rank * N * sizeof(int), out, N, MPI_INT, &st));
    OK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == N, "write_at_all wrote %d ints", count);
    OK(MPI_File_sync(f));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    OK(MPI_File_sync(f));
    OK(MPI_File_get_size(f, &fsize));
    CHECK(fsize == (MPI_Offset)size * N * sizeof(int), "file of %lld bytes", (long long)fsize);

    /* read the next rank's block at an explicit offset */
    int next = (rank + 1) % size;
    OK(MPI_File_read_at(f, (MPI_Offset)next * N * sizeof(int), in, N, MPI_INT, &st));
    OK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == N, "read_at read %d ints", count);
    for (int i = 0; i < N; i++) CHECK(in[i] == next * 1000 + i, "read_at [%d] = %d", i, in[i]);
    /* past the end: nothing */
    OK(MPI_File_read_at(f, fsize, in, N, MPI_INT, &st));
    OK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 0, "read past the end gave %d ints", count);

    /* a view at this rank's block, in ints: the individual pointer moves in ints */
    MPI_Offset disp = (MPI_Offset)rank * N * sizeof(int), pos = -1, byte = -1;
    OK(MPI_File_set_view(f, disp, MPI_INT, MPI_INT, "native", MPI_INFO_NULL));
    OK(MPI_File_get_byte_offset(f, 2, &byte));
    CHECK(byte == disp + 2 * (MPI_Offset)sizeof(int), "byte offset %lld", (long long)byte);
    for (int i = 0; i < N; i++) in[i] = -1;
    OK(MPI_File_read(f, in, N / 2, MPI_INT, &st));
    OK(MPI_File_get_position(f, &pos));
    CHECK(pos == N / 2, "position %lld after reading %d ints", (long long)pos, N / 2);
    OK(MPI_File_read_all(f, in + N / 2, N / 2, MPI_INT, &st));
    for (int i = 0; i < N; i++) CHECK(in[i] == rank * 1000 + i, "view read [%d] = %d", i, in[i]);
    MPI_Offset vd;
    MPI_Datatype et, ft;
    char rep[MPI_MAX_DATAREP_STRING];
    OK(MPI_File_get_view(f, &vd, &et, &ft, rep));
    CHECK(vd == disp && et == MPI_INT && ft == MPI_INT && strcmp(rep, "native") == 0,
          "view %lld %s", (long long)vd, rep);

    /* seek, then overwrite through the pointer; non-blocking and split forms */
    OK(MPI_File_seek(f, 1, MPI_SEEK_SET));
    int nine = 9;
    OK(MPI_File_write(f, &nine, 1, MPI_INT, MPI_STATUS_IGNORE));
    OK(MPI_File_seek(f, -1, MPI_SEEK_CUR));
    OK(MPI_File_get_position(f, &pos));
    CHECK(pos == 1, "seek back: position %lld", (long long)pos);
    int back = -1;
    MPI_Request rq;
    OK(MPI_File_iread(f, &back, 1, MPI_INT, &rq));
    OK(MPI_Wait(&rq, &st));
    OK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(back == 9 && count == 1, "iread after seek: %d (%d)", back, count);
    int ten = 10;
    OK(MPI_File_iwrite_at(f, 3, &ten, 1, MPI_INT, &rq));
    OK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
    OK(MPI_File_read_at_all_begin(f, 3, &back, 1, MPI_INT));
    OK(MPI_File_read_at_all_end(f, &back, &st));
    CHECK(back == 10, "split read_at_all: %d", back);
    OK(MPI_File_seek(f, 0, MPI_SEEK_END));
    OK(MPI_File_get_position(f, &pos));
    CHECK(pos == (fsize - disp) / (MPI_Offset)sizeof(int), "seek to the end: %lld",
          (long long)pos);

    /* sizes: set_size grows and shrinks, preallocate only grows */
    OK(MPI_Barrier(MPI_COMM_WORLD)); /* every rank has seen the old end */
    OK(MPI_File_set_size(f, 2 * fsize));
    OK(MPI_File_get_size(f, &fsize));
    CHECK(fsize == 2 * (MPI_Offset)size * N * sizeof(int), "set_size: %lld", (long long)fsize);
    OK(MPI_File_preallocate(f, 4));
    OK(MPI_File_get_size(f, &fsize));
    CHECK(fsize == 2 * (MPI_Offset)size * N * sizeof(int), "preallocate shrank it: %lld",
          (long long)fsize);
    OK(MPI_File_close(&f));
    CHECK(f == MPI_FILE_NULL, "close did not reset the handle");

    /* MPI_MODE_EXCL on an existing file */
    rc = MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDWR | MPI_MODE_CREATE | MPI_MODE_EXCL,
                       MPI_INFO_NULL, &f);
    CHECK(rc != MPI_SUCCESS, "EXCL opened an existing file");
    if (rank == 0) CHECK(class_of(rc) == MPI_ERR_FILE_EXISTS, "EXCL: class %d", class_of(rc));

    /* read-only: writes fail, with the file's own handler */
    OK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDONLY, MPI_INFO_NULL, &f));
    OK(MPI_File_get_errhandler(f, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "a new file's handler is not MPI_FILE_NULL's");
    OK(MPI_Errhandler_free(&eh));
    rc = MPI_File_write_at(f, 0, out, 1, MPI_INT, MPI_STATUS_IGNORE);
    CHECK(class_of(rc) == MPI_ERR_READ_ONLY, "write to a read-only file: class %d",
          class_of(rc));
    MPI_Errhandler mine;
    OK(MPI_File_create_errhandler(on_file_error, &mine));
    OK(MPI_File_set_errhandler(f, mine));
    MPI_File_write_at(f, 0, out, 1, MPI_INT, MPI_STATUS_IGNORE);
    CHECK(file_errors == 1, "the file's handler ran %d times", file_errors);
    OK(MPI_File_call_errhandler(f, MPI_ERR_OTHER));
    CHECK(file_errors == 2, "MPI_File_call_errhandler: the handler ran %d times", file_errors);
    OK(MPI_File_read_at(f, (MPI_Offset)rank * N * sizeof(int), in, N, MPI_INT, &st));
    CHECK(in[1] == 9 && in[3] == 10 && in[2] == rank * 1000 + 2, "reopened: %d %d %d", in[1],
          in[3], in[2]);
    OK(MPI_File_close(&f));
    OK(MPI_Errhandler_free(&mine));

    /* delete, then it is gone */
    OK(MPI_Barrier(MPI_COMM_WORLD));
    if (rank == 0) OK(MPI_File_delete(path, MPI_INFO_NULL));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    rc = MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDONLY, MPI_INFO_NULL, &f);
    CHECK(class_of(rc) == MPI_ERR_NO_SUCH_FILE, "deleted file opened: class %d", class_of(rc));
    rc = MPI_File_delete(own, MPI_INFO_NULL);
    CHECK(class_of(rc) == MPI_ERR_NO_SUCH_FILE, "deleting a missing file: class %d",
          class_of(rc));

    /* ordered accesses through the shared file pointer: rank r's r+1 ints follow rank r-1's */
    OK(MPI_File_open(MPI_COMM_WORLD, path,
                     MPI_MODE_RDWR | MPI_MODE_CREATE | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL,
                     &f));
    OK(MPI_File_set_view(f, 0, MPI_INT, MPI_INT, "native", MPI_INFO_NULL));
    int ord[N], total = size * (size + 1) / 2, before = rank * (rank + 1) / 2;
    for (int i = 0; i <= rank; i++) ord[i] = rank * 100 + i;
    OK(MPI_File_write_ordered(f, ord, rank + 1, MPI_INT, &st));
    OK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == rank + 1, "write_ordered wrote %d ints", count);
    OK(MPI_File_get_position_shared(f, &pos));
    CHECK(pos == total, "shared pointer at %lld after write_ordered, expected %d", (long long)pos,
          total);
    OK(MPI_File_sync(f));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    OK(MPI_File_sync(f));
    OK(MPI_File_read_at(f, before, in, rank + 1, MPI_INT, &st));
    for (int i = 0; i <= rank; i++)
        CHECK(in[i] == rank * 100 + i, "ordered layout [%d] = %d", before + i, in[i]);
    OK(MPI_File_seek_shared(f, 0, MPI_SEEK_SET));
    for (int i = 0; i < N; i++) in[i] = -1;
    OK(MPI_File_read_ordered_begin(f, in, rank + 1, MPI_INT));
    OK(MPI_File_read_ordered_end(f, in, &st));
    for (int i = 0; i <= rank; i++) CHECK(in[i] == rank * 100 + i, "read_ordered [%d] = %d", i, in[i]);
    OK(MPI_File_get_position_shared(f, &pos));
    CHECK(pos == total, "shared pointer at %lld after read_ordered", (long long)pos);

    /* a filetype with holes: rank r's ints land at every size-th int from int r */
    MPI_Datatype every;
    OK(MPI_Type_create_resized(MPI_INT, 0, (MPI_Aint)(size * sizeof(int)), &every));
    OK(MPI_Type_commit(&every));
    OK(MPI_File_set_view(f, (MPI_Offset)rank * sizeof(int), MPI_INT, every, "native",
                         MPI_INFO_NULL));
    OK(MPI_File_write_at_all(f, 0, out, N, MPI_INT, &st));
    OK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == N, "strided write of %d ints", count);
    OK(MPI_File_get_byte_offset(f, 2, &byte));
    CHECK(byte == (MPI_Offset)(2 * size + rank) * sizeof(int), "strided byte offset %lld",
          (long long)byte);
    OK(MPI_File_sync(f));
    OK(MPI_Barrier(MPI_COMM_WORLD));
    OK(MPI_File_sync(f));
    for (int i = 0; i < N; i++) in[i] = -1;
    OK(MPI_File_read_at_all(f, 0, in, N, MPI_INT, &st));
    for (int i = 0; i < N; i++) CHECK(in[i] == out[i], "strided read [%d] = %d", i, in[i]);
    OK(MPI_File_set_view(f, 0, MPI_INT, MPI_INT, "native", MPI_INFO_NULL));
    int *whole = malloc(N * size * sizeof(int));
    OK(MPI_File_read_at(f, 0, whole, N * size, MPI_INT, &st));
    for (int k = 0; k < N; k++)
        for (int r_ = 0; r_ < size; r_++)
            CHECK(whole[k * size + r_] == r_ * 1000 + k, "interleaved [%d] = %d", k * size + r_,
                  whole[k * size + r_]);
    free(whole);
    OK(MPI_Type_free(&every));
    OK(MPI_File_close(&f));

    /* a file of this rank alone, deleted on close */
    OK(MPI_File_open(MPI_COMM_SELF, own,
                     MPI_MODE_WRONLY | MPI_MODE_CREATE | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL,
                     &f));
    CHECK(access(own, F_OK) == 0, "%s was not created", own);
    OK(MPI_File_write(f, out, N, MPI_INT, MPI_STATUS_IGNORE));
    /* one process: the shared pointer is its own, apart from the individual one */
    OK(MPI_File_write_shared(f, out, 2, MPI_INT, MPI_STATUS_IGNORE));
    OK(MPI_File_get_position_shared(f, &pos));
    CHECK(pos == 2 * (MPI_Offset)sizeof(int), "shared pointer at %lld bytes", (long long)pos);
    OK(MPI_File_get_position(f, &pos));
    CHECK(pos == N * (MPI_Offset)sizeof(int), "individual pointer at %lld bytes", (long long)pos);
    rc = MPI_File_read_at(f, 0, in, 1, MPI_INT, MPI_STATUS_IGNORE);
    CHECK(class_of(rc) == MPI_ERR_ACCESS, "read of a write-only file: class %d", class_of(rc));
    OK(MPI_File_close(&f));
    CHECK(access(own, F_OK) != 0, "%s is still there after close", own);

    OK(MPI_Barrier(MPI_COMM_WORLD));
    pass("file");
    OK(MPI_Finalize());
    return 0;
}
