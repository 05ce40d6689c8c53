//! Collective algorithms, written once per channel family. `p2p` runs on any
//! [`crate::channel::P2pTransport`], `store` on any [`crate::channel::store::StoreTransport`].

pub mod buffer;
pub mod p2p;
pub mod store;
