//! How peers find each other: the rendezvous protocol and the client used by the direct channel
//! (the server is in the tools crate, `fmi_tools::server`).

pub mod auth;
pub mod client;
pub mod protocol;
pub mod tls;
