//! Tenancy in one place: which rows an actor may see. Every registry read and write goes
//! through [`visible`] or [`find_visible`], so a handler cannot forget the company filter.
//! Another company's id answers 404, exactly like an id that does not exist.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select};

use super::Actor;
use crate::error::{Error, Result};

/// A table whose rows belong to a company and, below that, to a compound.
pub trait TenantOwned: EntityTrait {
    /// Name used in "… not found".
    const WHAT: &'static str;
    fn id_column() -> Self::Column;
    fn company_column() -> Self::Column;
    /// None for rows above the compound level (companies).
    fn compound_column() -> Option<Self::Column>;
}

macro_rules! tenant_owned {
    ($entity:path, $what:literal, $company:ident, $compound:expr) => {
        impl TenantOwned for $entity {
            const WHAT: &'static str = $what;
            fn id_column() -> Self::Column {
                <$entity as EntityTrait>::Column::Id
            }
            fn company_column() -> Self::Column {
                <$entity as EntityTrait>::Column::$company
            }
            fn compound_column() -> Option<Self::Column> {
                $compound
            }
        }
    };
}

use entity::{
    bill, building, common_income, company, compound, elevator_plan, fee_item, fund_project, notice, outbox_message, owner, ownership, payment, payment_order,
    stairwell, ticket, unit, user, vote,
};
tenant_owned!(company::Entity, "company", Id, None);
tenant_owned!(compound::Entity, "compound", CompanyId, Some(compound::Column::Id));
tenant_owned!(building::Entity, "building", CompanyId, Some(building::Column::CompoundId));
tenant_owned!(stairwell::Entity, "stairwell", CompanyId, Some(stairwell::Column::CompoundId));
tenant_owned!(unit::Entity, "unit", CompanyId, Some(unit::Column::CompoundId));
tenant_owned!(owner::Entity, "owner", CompanyId, Some(owner::Column::CompoundId));
tenant_owned!(ownership::Entity, "ownership", CompanyId, Some(ownership::Column::CompoundId));
tenant_owned!(user::Entity, "user", CompanyId, None);
tenant_owned!(fee_item::Entity, "fee item", CompanyId, Some(fee_item::Column::CompoundId));
tenant_owned!(bill::Entity, "bill", CompanyId, Some(bill::Column::CompoundId));
tenant_owned!(payment::Entity, "payment", CompanyId, Some(payment::Column::CompoundId));
tenant_owned!(payment_order::Entity, "payment order", CompanyId, Some(payment_order::Column::CompoundId));
tenant_owned!(common_income::Entity, "common-area income", CompanyId, Some(common_income::Column::CompoundId));
tenant_owned!(outbox_message::Entity, "message", CompanyId, Some(outbox_message::Column::CompoundId));
tenant_owned!(ticket::Entity, "ticket", CompanyId, Some(ticket::Column::CompoundId));
tenant_owned!(fund_project::Entity, "fund project", CompanyId, Some(fund_project::Column::CompoundId));
tenant_owned!(vote::Entity, "vote", CompanyId, Some(vote::Column::CompoundId));
tenant_owned!(elevator_plan::Entity, "elevator plan", CompanyId, Some(elevator_plan::Column::CompoundId));
tenant_owned!(notice::Entity, "notice", CompanyId, Some(notice::Column::CompoundId));


/// All rows of `E` the actor may see.
pub fn visible<E: TenantOwned>(actor: &Actor) -> Select<E> {
    let mut select = E::find();
    if let Some(company_id) = actor.company_id {
        select = select.filter(E::company_column().eq(company_id));
    }
    if let (Some(compounds), Some(column)) = (&actor.compounds, E::compound_column()) {
        select = select.filter(column.is_in(compounds.iter().copied()));
    }
    select
}

/// [`find_visible`], locked for a change until the caller's transaction ends.
pub async fn lock_visible<E: TenantOwned>(txn: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<E::Model> {
    visible::<E>(actor)
        .filter(E::id_column().eq(id))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(Error::NotFound(E::WHAT))
}

/// One row by id, if the actor may see it; otherwise `NotFound`, whether it exists or not.
pub async fn find_visible<E: TenantOwned>(db: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<E::Model> {
    visible::<E>(actor)
        .filter(E::id_column().eq(id))
        .one(db)
        .await?
        .ok_or(Error::NotFound(E::WHAT))
}
