/* Error handlers, classes, codes and strings: MPI_ERRORS_RETURN, user handlers (create, set,
 * get, call, free), Error_class/Error_string, added classes, codes and strings. */
#include "check.h"

static int calls = 0;
static int last_code = 0;
static MPI_Comm last_comm = MPI_COMM_NULL;

static void handler(MPI_Comm *comm, int *code, ...) {
    calls++;
    last_code = *code;
    last_comm = *comm;
}

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    MPI_Errhandler eh = MPI_ERRHANDLER_NULL;
    OK(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "get_errhandler gave %p", (void *)eh);

    /* An invalid communicator: an error code of class MPI_ERR_COMM, returned. */
    int size = -1;
    int rc = MPI_Comm_size(MPI_COMM_NULL, &size);
    CHECK(rc != MPI_SUCCESS && class_of(rc) == MPI_ERR_COMM, "rc %d class %d", rc, class_of(rc));
    char s[MPI_MAX_ERROR_STRING];
    int len = -1;
    OK(MPI_Error_string(rc, s, &len));
    CHECK(len > 0 && (int)strlen(s) == len, "error string length %d", len);
    int cls = -1;
    OK(MPI_Error_class(MPI_ERR_TRUNCATE, &cls));
    CHECK(cls == MPI_ERR_TRUNCATE, "class of a class %d", cls);
    OK(MPI_Error_string(MPI_ERR_TRUNCATE, s, &len));
    CHECK(len > 0, "string of a class");

    /* A user handler on MPI_COMM_WORLD, called by MPI_Comm_call_errhandler and by an error. */
    MPI_Errhandler mine;
    OK(MPI_Comm_create_errhandler(handler, &mine));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, mine));
    OK(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &eh));
    CHECK(eh == mine, "get_errhandler did not give the user handler");
    OK(MPI_Errhandler_free(&eh));
    OK(MPI_Comm_call_errhandler(MPI_COMM_WORLD, MPI_ERR_OTHER));
    CHECK(calls == 1 && last_code == MPI_ERR_OTHER && last_comm == MPI_COMM_WORLD,
          "call_errhandler: calls %d code %d", calls, last_code);
    int flag = 0;
    /* An error of a call on MPI_COMM_WORLD (a root out of range): the handler sees its code. */
    int x = 0;
    OK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    rc = MPI_Bcast(&x, 1, MPI_INT, size + 5, MPI_COMM_WORLD);
    CHECK(calls == 2 && class_of(last_code) == MPI_ERR_ROOT && last_comm == MPI_COMM_WORLD,
          "the handler saw calls %d code %d", calls, last_code);
    /* The call returns the code (MPICH 5.0.2 returns MPI_SUCCESS after a user handler). */
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    OK(MPI_Get_library_version(lib, &len));
    if (strstr(lib, "libfmi")) CHECK(rc == last_code, "returned %d, handler saw %d", rc, last_code);
    /* The handler stays attached after the program freed its handle. */
    OK(MPI_Errhandler_free(&mine));
    CHECK(mine == MPI_ERRHANDLER_NULL, "Errhandler_free did not reset the handle");
    OK(MPI_Comm_call_errhandler(MPI_COMM_WORLD, MPI_ERR_ARG));
    CHECK(calls == 3 && last_code == MPI_ERR_ARG, "after free: calls %d", calls);
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

    /* A duplicate inherits the handler. */
    MPI_Comm dup;
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    OK(MPI_Comm_get_errhandler(dup, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "dup's handler");
    OK(MPI_Comm_free(&dup));

    /* Added classes, codes and strings. */
    int myclass, mycode;
    OK(MPI_Add_error_class(&myclass));
    OK(MPI_Add_error_code(myclass, &mycode));
    OK(MPI_Add_error_string(mycode, "my own error"));
    OK(MPI_Error_class(mycode, &cls));
    CHECK(cls == myclass, "class of the added code %d, expected %d", cls, myclass);
    OK(MPI_Error_string(mycode, s, &len));
    CHECK(strcmp(s, "my own error") == 0, "added string %s", s);
    int *last = NULL;
    OK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_LASTUSEDCODE, &last, &flag));
    CHECK(flag && *last >= myclass, "MPI_LASTUSEDCODE %d < %d", flag ? *last : -1, myclass);

    pass("errhandler");
    OK(MPI_Finalize());
    return 0;
}
