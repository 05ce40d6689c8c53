/* The default error handler, MPI_ERRORS_ARE_FATAL: an error ends the job with a non-zero exit
 * code and a message naming the procedure. Must NOT print "survived". */
#include "check.h"

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    int size = 0;
    MPI_Comm_size(MPI_COMM_NULL, &size);
    printf("survived\n");
    MPI_Finalize();
    return 0;
}
