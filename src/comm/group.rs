//! Groups: ordered sets of processes, as in MPI. A group is made from a communicator
//! ([`super::Communicator::group`]) and narrowed with [`Group::incl`] and [`Group::excl`]; its
//! members call [`super::Communicator::create_group`] to make a communicator of it. Group
//! operations are local (no messages).

use crate::error::{Error, Result};
use std::collections::HashSet;

/// An ordered set of processes of one init: rank i of the group is process `members[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The init these processes belong to (groups of different inits never mix).
    pub(super) family: u64,
    /// The init ranks of the members, in group rank order (distinct).
    pub(super) members: Vec<usize>,
    /// This process's init rank.
    pub(super) me: usize,
}

impl Group {
    /// The number of members.
    pub fn size(&self) -> usize {
        self.members.len()
    }

    /// This process's rank in the group, or None when it is not a member.
    pub fn rank(&self) -> Option<usize> {
        self.members.iter().position(|&m| m == self.me)
    }

    fn check(&self, ranks: &[usize], what: &str) -> Result<()> {
        let mut seen = HashSet::with_capacity(ranks.len());
        for (i, &r) in ranks.iter().enumerate() {
            if r >= self.size() {
                return Err(Error::invalid(format!(
                    "{what}[{i}] = {r} out of range for a group of {} (valid: 0..{})",
                    self.size(),
                    self.size()
                )));
            }
            if !seen.insert(r) {
                return Err(Error::invalid(format!(
                    "{what}[{i}] = {r} appears twice (ranks must be distinct)"
                )));
            }
        }
        Ok(())
    }

    /// The group of members `ranks` of this one, in that order (distinct ranks of this group).
    pub fn incl(&self, ranks: &[usize]) -> Result<Group> {
        self.check(ranks, "ranks")?;
        Ok(Group {
            members: ranks.iter().map(|&r| self.members[r]).collect(),
            ..self.clone()
        })
    }

    /// This group without members `ranks` (distinct ranks of this group), in the same order.
    pub fn excl(&self, ranks: &[usize]) -> Result<Group> {
        self.check(ranks, "ranks")?;
        let out: HashSet<usize> = ranks.iter().copied().collect();
        Ok(Group {
            members: (0..self.size())
                .filter(|r| !out.contains(r))
                .map(|r| self.members[r])
                .collect(),
            ..self.clone()
        })
    }

    /// For each of `ranks` (ranks of this group), the rank of the same process in `other`, or
    /// None when it is not a member of `other`.
    pub fn translate_ranks(&self, ranks: &[usize], other: &Group) -> Result<Vec<Option<usize>>> {
        if other.family != self.family {
            return Err(Error::invalid(
                "the groups come from communicators of different inits",
            ));
        }
        ranks
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                let p = *self.members.get(r).ok_or_else(|| {
                    Error::invalid(format!(
                        "ranks[{i}] = {r} out of range for a group of {}",
                        self.size()
                    ))
                })?;
                Ok(other.members.iter().position(|&m| m == p))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(members: Vec<usize>, me: usize) -> Group {
        Group {
            family: 7,
            members,
            me,
        }
    }

    #[test]
    fn incl_excl_translate() {
        let all = g(vec![0, 1, 2, 3, 4, 5], 3);
        let a = all.incl(&[5, 3, 1]).unwrap();
        assert_eq!(a.members, vec![5, 3, 1]);
        assert_eq!(a.rank(), Some(1));
        let b = all.excl(&[0, 3]).unwrap();
        assert_eq!(b.members, vec![1, 2, 4, 5]);
        assert_eq!(b.rank(), None);
        assert_eq!(
            a.translate_ranks(&[0, 1, 2], &b).unwrap(),
            vec![Some(3), None, Some(0)]
        );
        assert!(all.incl(&[6]).is_err());
        assert!(all.incl(&[1, 1]).is_err());
        assert!(all.excl(&[2, 2]).is_err());
        assert!(a.translate_ranks(&[3], &b).is_err());
        let other = Group { family: 8, ..b };
        assert!(a.translate_ranks(&[0], &other).is_err());
        assert_eq!(all.incl(&[]).unwrap().size(), 0);
    }
}
