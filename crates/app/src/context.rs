use crate::{AppError, Result};
use shouhou_domain::auth::{Permission, Role, Scope, permissions_of};
use shouhou_domain::ids::{StationId, UserId};
use shouhou_domain::locale::Locale;
use shouhou_store::users::User;

/// The signed-in user of a request, with what they may do and see.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub stations: Vec<StationId>,
    pub permissions: Vec<Permission>,
    pub scope: Scope,
    pub locale: Locale,
    pub version: i64,
}

impl Actor {
    pub fn from_user(u: &User) -> Self {
        Self {
            id: UserId(u.id),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            stations: u.stations.clone(),
            permissions: permissions_of(&u.roles),
            scope: Scope::for_user(&u.roles, &u.stations),
            locale: Locale::parse(&u.locale).unwrap_or_default(),
            version: u.version,
        }
    }
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }
    pub fn has_role(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
}

/// Who asks, from where, under which request id: what every use case receives.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Option<Actor>,
    pub source: String,
    pub request_id: String,
}

impl Ctx {
    pub fn anonymous(source: impl Into<String>, request_id: impl Into<String>) -> Self {
        Self { actor: None, source: source.into(), request_id: request_id.into() }
    }
    pub fn system() -> Self {
        Self { actor: None, source: "cli".into(), request_id: String::new() }
    }
    /// The actor, or 401.
    pub fn actor(&self) -> Result<&Actor> {
        self.actor.as_ref().ok_or(AppError::Unauthenticated)
    }
    /// The actor if they hold `p`; 403 otherwise.
    pub fn require(&self, p: Permission) -> Result<&Actor> {
        let a = self.actor()?;
        if a.can(p) { Ok(a) } else { Err(AppError::Forbidden) }
    }
    /// For reads: the actor if they hold `p`, else 404, so a read reveals nothing about what exists.
    pub fn require_read(&self, p: Permission) -> Result<&Actor> {
        let a = self.actor()?;
        if a.can(p) { Ok(a) } else { Err(AppError::NotFound) }
    }
    pub fn actor_id(&self) -> Option<i64> {
        self.actor.as_ref().map(|a| a.id.0)
    }
    pub fn actor_name(&self) -> String {
        self.actor
            .as_ref()
            .map(|a| a.username.clone())
            .unwrap_or_else(|| if self.source == "cli" { "system".into() } else { "anonymous".into() })
    }
}
