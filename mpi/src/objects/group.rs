//! Group objects: ordered lists of distinct world ranks (every group of this library comes
//! from the one init, so a world rank names a process). `MPI_GROUP_EMPTY` is predefined.

use crate::entry::MpiError;
use crate::gen::abi::*;
use crate::handles::Table;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupObj {
    /// The world rank of each group rank.
    pub members: Vec<usize>,
}

impl GroupObj {
    /// This process's rank in the group.
    pub fn rank_of(&self, world_rank: usize) -> Option<usize> {
        self.members.iter().position(|&m| m == world_rank)
    }
}

pub static GROUPS: Table<GroupObj> = Table::new("group");

pub fn get(h: MPI_Group) -> Result<Arc<GroupObj>, MpiError> {
    if h == MPI_GROUP_EMPTY {
        return Ok(Arc::new(GroupObj {
            members: Vec::new(),
        }));
    }
    GROUPS.get(h.0).ok_or_else(|| {
        MpiError::new(
            MPI_ERR_GROUP,
            if h == MPI_GROUP_NULL {
                "the group is MPI_GROUP_NULL".to_string()
            } else {
                format!("{:#x} is not a live group", h.0)
            },
        )
    })
}

/// A handle for a group of `members` (MPI_GROUP_EMPTY when empty).
pub fn new(members: Vec<usize>) -> MPI_Group {
    if members.is_empty() {
        return MPI_GROUP_EMPTY;
    }
    MPI_Group(GROUPS.insert(GroupObj { members }))
}
