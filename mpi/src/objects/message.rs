//! Matched messages (`MPI_Message`): a message `MPI_Mprobe`/`MPI_Improbe` took out of matching,
//! kept with its communicator until `MPI_Mrecv`/`MPI_Imrecv` receives it (once).
//! `MPI_MESSAGE_NO_PROC` (a matched probe of `MPI_PROC_NULL`) is not in the table.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use crate::p2p;
use parking_lot::Mutex;

/// A matched message and the communicator it came on.
pub struct MessageObj {
    pub msg: Mutex<Option<p2p::Message>>,
    pub comm: MPI_Comm,
}

pub static MESSAGES: Table<MessageObj> = Table::new("message");

pub fn register(msg: p2p::Message, comm: MPI_Comm) -> MPI_Message {
    MPI_Message(MESSAGES.insert(MessageObj {
        msg: Mutex::new(Some(msg)),
        comm,
    }))
}

/// Takes the message behind `h` out of the table (it can be received once).
pub fn take(h: MPI_Message) -> Result<(p2p::Message, MPI_Comm), MpiError> {
    if h == MPI_MESSAGE_NULL {
        return Err(MpiError::new(
            MPI_ERR_REQUEST,
            "the message is MPI_MESSAGE_NULL",
        ));
    }
    let obj = MESSAGES.remove(h.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_REQUEST,
            format!(
                "{:#x} is not a live message (already received, or not a message)",
                h.0
            ),
        )
    })?;
    let msg = obj
        .msg
        .lock()
        .take()
        .ok_or_else(|| MpiError::new(MPI_ERR_REQUEST, "the message was already received"))?;
    Ok((msg, obj.comm))
}
