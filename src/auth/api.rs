//! Login, logout and account endpoints (tag `auth`), and the bearer-token security scheme
//! every other endpoint uses.
use chrono::{DateTime, Utc};
use poem::Request;
use poem_openapi::{Object, OpenApi, SecurityScheme, auth::Bearer, param::Path, payload::Json};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use super::{Actor, NewAccount, Permission, Role, tenancy};
use crate::{
    AppState,
    error::{ApiError, Error},
    http::{Area as Tag, JsonBody},
};
use entity::{compound, owner, user, user_compound};

/// A bearer token from `POST /auth/login`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_token")]
pub struct BearerAuth(pub Actor);

/// A token already checked for this request (by the staff action log, which needs the caller
/// first), so that it is checked once per request.
#[derive(Clone)]
pub struct CheckedToken {
    pub token: String,
    pub actor: Actor,
}

/// The bearer token of a request, read by the API's own rules (the scheme in any case).
pub fn bearer_token(request: &Request) -> Option<String> {
    use poem_openapi::auth::BearerAuthorization;
    Bearer::from_request(request).ok().map(|bearer| bearer.token)
}

/// The caller of a request served outside the OpenAPI operations (the web checkout), by the
/// same rules as [`BearerAuth`].
pub async fn caller(request: &Request) -> poem::Result<Actor> {
    let token = bearer_token(request).ok_or_else(|| ApiError::from(Error::Unauthenticated("log in first")))?;
    check_token(request, Bearer { token }).await
}

async fn check_token(request: &Request, bearer: Bearer) -> poem::Result<Actor> {
    if let Some(checked) = request.extensions().get::<CheckedToken>()
        && checked.token == bearer.token
    {
        return Ok(checked.actor.clone());
    }
    let state = request.data::<AppState>().ok_or_else(|| poem::Error::from_string("no state", poem::http::StatusCode::INTERNAL_SERVER_ERROR))?;
    super::authenticate(&state.db, &bearer.token).await.map_err(|e| ApiError::from(e).into())
}

pub struct AuthApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object, Deserialize)]
pub struct LoginRequest {
    /// Email address or phone number.
    pub login: String,
    pub password: String,
}

#[derive(Object)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub me: Me,
}

#[derive(Object)]
pub struct Me {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub company_id: Option<i64>,
    /// The compounds the account is limited to; absent when it reaches all of its company's.
    pub compound_ids: Option<Vec<i64>>,
}

impl From<&Actor> for Me {
    fn from(a: &Actor) -> Self {
        Me { user_id: a.user_id, name: a.name.clone(), role: a.role, company_id: a.company_id, compound_ids: a.compounds.clone() }
    }
}

#[derive(Object, Deserialize)]
pub struct CreateAccount {
    pub role: Role,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// At least 8 characters.
    pub password: String,
    /// Platform administrators name the company; company administrators create in their own.
    pub company_id: Option<i64>,
    /// Staff: the compounds they are limited to (none: all). Committee: their one compound.
    #[oai(default)]
    #[serde(default)]
    pub compound_ids: Vec<i64>,
    /// Owner accounts: the owner records this login speaks for.
    #[oai(default)]
    #[serde(default)]
    pub owner_ids: Vec<i64>,
}

#[derive(Object)]
pub struct AccountView {
    pub id: i64,
    pub company_id: Option<i64>,
    pub role: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl From<user::Model> for AccountView {
    fn from(u: user::Model) -> Self {
        AccountView {
            id: u.id,
            company_id: u.company_id,
            role: u.role,
            name: u.name,
            email: u.email,
            phone: u.phone,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }
}

#[OpenApi(tag = "Tag::Auth")]
impl AuthApi {
    /// Log in with email or phone and password. Repeated failures lock the login for a while (429).
    #[oai(path = "/auth/login", method = "post")]
    async fn login(&self, body: JsonBody<LoginRequest>) -> Reply<LoginResponse> {
        let logged_in = super::login(&self.0.db, &self.0.config, &body.0.login, &body.0.password).await?;
        Ok(Json(LoginResponse { token: logged_in.token, expires_at: logged_in.expires_at, me: Me::from(&logged_in.actor) }))
    }

    /// End this session; the token stops working at once.
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(&self, auth: BearerAuth) -> Reply<Me> {
        super::logout(&self.0.db, &auth.0).await?;
        Ok(Json(Me::from(&auth.0)))
    }

    /// Who the token belongs to.
    #[oai(path = "/auth/me", method = "get")]
    async fn me(&self, auth: BearerAuth) -> Reply<Me> {
        Ok(Json(Me::from(&auth.0)))
    }

    /// Create a login: platform administrators create anyone; company administrators create
    /// staff, committee members and owners of their own company.
    #[oai(path = "/users", method = "post")]
    async fn create_account(&self, auth: BearerAuth, body: JsonBody<CreateAccount>) -> Reply<AccountView> {
        let actor = &auth.0;
        actor.require(Permission::ManageAccounts)?;
        let b = body.0;
        let company_id = match (actor.company_id, b.company_id) {
            (None, asked) => asked,
            (Some(own), None) => Some(own),
            (Some(own), Some(asked)) if own == asked => Some(own),
            (Some(_), Some(_)) => return Err(Error::NotFound("company").into()),
        };
        if actor.role != Role::PlatformAdmin && b.role == Role::PlatformAdmin {
            return Err(Error::Forbidden("only a platform administrator creates platform administrators").into());
        }
        // A caller limited to some compounds creates only accounts limited to those: an owner
        // account is limited by its owner records, everyone else needs compound_ids.
        if actor.compounds.is_some() && b.role != Role::Owner && b.compound_ids.is_empty() {
            return Err(Error::invalid("compound_ids", "you are limited to some compounds: name the compounds this account works in").into());
        }
        // Every named company, compound and owner must be within the caller's reach.
        if let Some(id) = company_id {
            tenancy::find_visible::<entity::company::Entity>(&self.0.db, actor, id).await?;
        }
        for &id in &b.compound_ids {
            let c = tenancy::find_visible::<compound::Entity>(&self.0.db, actor, id).await?;
            if Some(c.company_id) != company_id {
                return Err(Error::invalid("compound_ids", "a compound belongs to another company").into());
            }
        }
        for &id in &b.owner_ids {
            let o = tenancy::find_visible::<owner::Entity>(&self.0.db, actor, id).await?;
            if Some(o.company_id) != company_id {
                return Err(Error::invalid("owner_ids", "an owner belongs to another company").into());
            }
            if o.user_id.is_some() {
                return Err(Error::conflict("owner_ids", "an owner record already has a login").into());
            }
        }
        let new = NewAccount {
            company_id,
            role: b.role,
            name: b.name,
            email: b.email,
            phone: b.phone,
            password: b.password,
            compound_ids: b.compound_ids,
            owner_ids: b.owner_ids,
        };
        Ok(Json(super::create_account(&self.0.db, new).await?.into()))
    }

    /// The logins the caller manages.
    #[oai(path = "/users", method = "get")]
    async fn list_accounts(&self, auth: BearerAuth) -> Reply<Vec<AccountView>> {
        auth.0.require(Permission::ManageAccounts)?;
        let accounts = tenancy::visible::<user::Entity>(&auth.0).order_by_asc(user::Column::Id).all(&self.0.db).await.map_err(Error::from)?;
        let mut views = Vec::new();
        for account in accounts {
            if self.manages(&auth.0, &account).await? {
                views.push(account.into());
            }
        }
        Ok(Json(views))
    }

    /// Disable a login: its sessions are revoked at once and it cannot log in again.
    #[oai(path = "/users/:id/disable", method = "post")]
    async fn disable(&self, auth: BearerAuth, id: Path<i64>) -> Reply<AccountView> {
        self.set_disabled(&auth.0, id.0, true).await
    }

    /// Enable a disabled login again.
    #[oai(path = "/users/:id/enable", method = "post")]
    async fn enable(&self, auth: BearerAuth, id: Path<i64>) -> Reply<AccountView> {
        self.set_disabled(&auth.0, id.0, false).await
    }
}

impl AuthApi {
    async fn set_disabled(&self, actor: &Actor, id: i64, disabled: bool) -> Reply<AccountView> {
        actor.require(Permission::ManageAccounts)?;
        let account = tenancy::find_visible::<user::Entity>(&self.0.db, actor, id).await?;
        if account.id == actor.user_id {
            return Err(Error::conflict("id", "you cannot disable your own login").into());
        }
        if !self.manages(actor, &account).await? {
            return Err(Error::NotFound("user").into());
        }
        Ok(Json(super::set_disabled(&self.0.db, account, disabled).await?.into()))
    }

    /// Whether the caller manages this (already tenant-visible) account. Only platform
    /// administrators manage platform administrators; an administrator limited to some
    /// compounds manages only accounts limited to those (staff by their compounds, owners by
    /// their owner records).
    async fn manages(&self, actor: &Actor, account: &user::Model) -> Result<bool, Error> {
        if account.role == Role::PlatformAdmin.as_str() && actor.role != Role::PlatformAdmin {
            return Ok(false);
        }
        let Some(limits) = &actor.compounds else { return Ok(true) };
        let theirs: Vec<i64> = if account.role == Role::Owner.as_str() {
            owner::Entity::find().filter(owner::Column::UserId.eq(account.id)).all(&self.0.db).await?.into_iter().map(|o| o.compound_id).collect()
        } else {
            user_compound::Entity::find()
                .filter(user_compound::Column::UserId.eq(account.id))
                .all(&self.0.db)
                .await?
                .into_iter()
                .map(|uc| uc.compound_id)
                .collect()
        };
        Ok(!theirs.is_empty() && theirs.iter().all(|c| limits.contains(c)))
    }
}
