//! The MPI procedures, one Rust function per procedure (`MPI_Comm_split` -> `comm_split`),
//! grouped by area. Each takes the C parameters with the generated types and returns
//! `Result<_, MpiError>`; the generated exports (`crate::gen::exports`) find them by name and
//! call them through the entry guard. They check and translate their arguments and call the
//! objects (`crate::objects`), the engines and the core.

#![allow(clippy::missing_safety_doc)]

pub mod attr;
pub mod bsendbuf;
pub mod coll;
pub mod colldesc;
pub mod comm;
pub mod convert;
pub mod datatype;
pub mod dynproc;
pub mod errhandler;
pub mod external;
pub mod file;
pub mod fileio;
pub mod fileshared;
pub mod filesplit;
pub mod grequest;
pub mod group;
pub mod icoll;
pub mod icollreduce;
pub mod icollv;
pub mod ineighbor;
pub mod info;
pub mod init;
pub mod inter;
pub mod intercoll;
pub mod mem;
pub mod neighbor;
pub mod op;
pub mod p2p;
pub mod partitioned;
pub mod probe;
pub mod request;
pub mod rma;
pub mod sendrecv;
pub mod session;
pub mod status;
pub mod tool;
pub mod topo;
pub mod typearray;
pub mod typeattr;
pub mod typequery;
pub mod win;
pub mod winattr;
pub mod winsync;
