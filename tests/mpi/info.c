/* Info objects: create, set (replacing), get_string (incl. the length query), get_valuelen,
 * get_nkeys, get_nthkey (order of insertion), delete, dup, free; MPI_INFO_ENV. */
#include "check.h"

int main(int argc, char **argv) {
    OK(MPI_Init(&argc, &argv));
    MPI_Info info, copy;
    OK(MPI_Info_create(&info));
    int n = -1, flag = -1, len;
    OK(MPI_Info_get_nkeys(info, &n));
    CHECK(n == 0, "new info has %d keys", n);
    OK(MPI_Info_set(info, "alpha", "1"));
    OK(MPI_Info_set(info, "beta", "two"));
    OK(MPI_Info_set(info, "gamma", "three3"));
    OK(MPI_Info_set(info, "beta", "TWO!"));
    OK(MPI_Info_get_nkeys(info, &n));
    CHECK(n == 3, "nkeys %d", n);
    char key[MPI_MAX_INFO_KEY], val[64];
    const char *order[] = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 3; i++) {
        OK(MPI_Info_get_nthkey(info, i, key));
        CHECK(strcmp(key, order[i]) == 0, "key %d is %s", i, key);
    }
    len = sizeof val;
    OK(MPI_Info_get_string(info, "beta", &len, val, &flag));
    CHECK(flag && strcmp(val, "TWO!") == 0 && len == 5, "beta = %s (len %d)", val, len);
    len = 0;
    OK(MPI_Info_get_string(info, "gamma", &len, val, &flag));
    CHECK(flag && len == 7, "length query gave %d", len);
    len = 3;
    OK(MPI_Info_get_string(info, "gamma", &len, val, &flag));
    CHECK(flag && strcmp(val, "th") == 0 && len == 7, "truncated value %s len %d", val, len);
    OK(MPI_Info_get_valuelen(info, "alpha", &len, &flag));
    CHECK(flag && len == 1, "valuelen %d", len);
    len = sizeof val;
    OK(MPI_Info_get_string(info, "delta", &len, val, &flag));
    CHECK(!flag, "an unset key was found");

    OK(MPI_Info_dup(info, &copy));
    OK(MPI_Info_delete(info, "alpha"));
    OK(MPI_Info_get_nkeys(info, &n));
    CHECK(n == 2, "after delete: %d keys", n);
    OK(MPI_Info_get_nkeys(copy, &n));
    CHECK(n == 3, "the dup changed with the original: %d keys", n);
    OK(MPI_Info_get_nthkey(info, 0, key));
    CHECK(strcmp(key, "beta") == 0, "first key after delete %s", key);

    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int rc = MPI_Info_delete(info, "alpha");
    CHECK(rc != MPI_SUCCESS && class_of(rc) == MPI_ERR_INFO_NOKEY, "delete of a missing key: class %d", class_of(rc));

    OK(MPI_Info_free(&info));
    OK(MPI_Info_free(&copy));
    CHECK(info == MPI_INFO_NULL && copy == MPI_INFO_NULL, "free did not reset");

    OK(MPI_Info_get_nkeys(MPI_INFO_ENV, &n));
    CHECK(n >= 0, "MPI_INFO_ENV");
    pass("info");
    OK(MPI_Finalize());
    return 0;
}
