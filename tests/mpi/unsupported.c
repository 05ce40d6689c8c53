/* A procedure the library does not implement (MPI_Comm_join: a serverless function has no
 * socket to a peer to join over): its error class and string (with
 * MPI_ERRORS_RETURN), printed for the test to compare. */
#include "check.h"

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_Comm joined = MPI_COMM_NULL;
    int rc = MPI_Comm_join(-1, &joined);
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, s, &len);
    printf("rc=%s class=%d string=%s\n", rc == MPI_SUCCESS ? "success" : "error", class_of(rc), s);
    OK(MPI_Finalize());
    return 0;
}
