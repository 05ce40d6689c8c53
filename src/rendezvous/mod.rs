//! How peers find each other: the rendezvous protocol, its server and the client used by the direct channel.

pub mod auth;
pub mod client;
pub mod protocol;
pub mod server;
pub mod tls;
