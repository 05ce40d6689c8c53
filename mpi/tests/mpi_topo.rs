//! Process topologies (Cartesian, graph, distributed graph, Dims_create) and the blocking
//! neighbourhood collectives: a C program compiled once with MPICH's mpicc_abi, run at 1-4
//! processes under MPICH's mpiexec and under fmirun with libfmi's library.
mod common;

use common::*;

#[test]
fn topologies_and_neighbourhood_collectives() {
    both("topo", &[1, 2, 3, 4], |_| vec![]);
}
