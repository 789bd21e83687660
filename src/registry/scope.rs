//! The part of a compound something covers: a fee item, a fund project, a vote. One rule for
//! what "in scope" means, used by all of them.
use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::error::{Error, Result};
use entity::{building, stairwell, unit};

#[derive(Clone, Copy, Debug, PartialEq, Eq, poem_openapi::Enum, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Compound,
    Buildings,
    Stairwells,
    Units,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Compound => "compound",
            ScopeKind::Buildings => "buildings",
            ScopeKind::Stairwells => "stairwells",
            ScopeKind::Units => "units",
        }
    }

    pub fn compound() -> ScopeKind {
        ScopeKind::Compound
    }

    pub fn parse(text: &str) -> Option<ScopeKind> {
        [ScopeKind::Compound, ScopeKind::Buildings, ScopeKind::Stairwells, ScopeKind::Units].into_iter().find(|k| k.as_str() == text)
    }
}

/// A scope: the whole compound, or the buildings, stairwells or units named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub kind: ScopeKind,
    pub ids: HashSet<i64>,
}

impl Scope {
    pub fn new(kind: ScopeKind, ids: &[i64]) -> Scope {
        Scope { kind, ids: ids.iter().copied().collect() }
    }

    /// A scope as stored beside its record (`scope_kind`, `scope_ids` as a JSON array).
    pub fn stored(kind: &str, ids: &str) -> Result<Scope> {
        let kind = ScopeKind::parse(kind).ok_or_else(|| anyhow::anyhow!("a stored scope kind {kind:?} is unknown"))?;
        let ids: Vec<i64> = serde_json::from_str(ids).map_err(|e| anyhow::anyhow!("stored scope ids {ids:?}: {e}"))?;
        Ok(Scope::new(kind, &ids))
    }

    /// The ids as stored: a JSON array, ascending.
    pub fn ids_json(&self) -> String {
        let mut ids: Vec<i64> = self.ids.iter().copied().collect();
        ids.sort_unstable();
        serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
    }

    pub fn contains(&self, unit: &unit::Model) -> bool {
        match self.kind {
            ScopeKind::Compound => true,
            ScopeKind::Buildings => self.ids.contains(&unit.building_id),
            ScopeKind::Stairwells => self.ids.contains(&unit.stairwell_id),
            ScopeKind::Units => self.ids.contains(&unit.id),
        }
    }

    /// Refuses a scope that names nothing, or names a building, stairwell or unit that is not
    /// the compound's (400 on `scope_ids`).
    pub async fn check(&self, db: &impl ConnectionTrait, compound_id: i64) -> Result<()> {
        if self.kind == ScopeKind::Compound {
            if !self.ids.is_empty() {
                return Err(Error::invalid("scope_ids", "the whole compound takes no scope_ids; name buildings, stairwells or units with their scope"));
            }
            return Ok(());
        }
        if self.ids.is_empty() {
            return Err(Error::invalid("scope_ids", "name the buildings, stairwells or units of the scope"));
        }
        let ids = self.ids.iter().copied();
        let found = match self.kind {
            ScopeKind::Compound => 0,
            ScopeKind::Buildings => {
                building::Entity::find().filter(building::Column::CompoundId.eq(compound_id)).filter(building::Column::Id.is_in(ids)).count(db).await?
            }
            ScopeKind::Stairwells => {
                stairwell::Entity::find().filter(stairwell::Column::CompoundId.eq(compound_id)).filter(stairwell::Column::Id.is_in(ids)).count(db).await?
            }
            ScopeKind::Units => unit::Entity::find().filter(unit::Column::CompoundId.eq(compound_id)).filter(unit::Column::Id.is_in(ids)).count(db).await?,
        };
        if found != self.ids.len() as u64 {
            return Err(Error::invalid("scope_ids", "every scope id must be a building, stairwell or unit (as the scope says) of this compound"));
        }
        Ok(())
    }

    /// The compound's units in scope, ordered by id (the order leftover fen follow).
    pub async fn units(&self, db: &impl ConnectionTrait, compound_id: i64) -> Result<Vec<unit::Model>> {
        let mut select = unit::Entity::find().filter(unit::Column::CompoundId.eq(compound_id));
        let ids = self.ids.iter().copied();
        select = match self.kind {
            ScopeKind::Compound => select,
            ScopeKind::Buildings => select.filter(unit::Column::BuildingId.is_in(ids)),
            ScopeKind::Stairwells => select.filter(unit::Column::StairwellId.is_in(ids)),
            ScopeKind::Units => select.filter(unit::Column::Id.is_in(ids)),
        };
        Ok(select.order_by_asc(unit::Column::Id).all(db).await?)
    }
}
