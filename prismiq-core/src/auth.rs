//! Who is calling: the [`AuthContext`] the host implements, and the tenant [`Scope`] stores see.

/// The identity of a caller, as established by the host application.
///
/// Prismiq never authenticates anyone. The host implements this trait on its own auth type
/// (for example the extractor that verifies its session cookie or bearer token), and every
/// [`Engine`](crate::Engine) method takes it to decide what the caller may see and change.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `prismiq_core::AuthContext`",
    note = "implement `AuthContext` on your own auth extractor type so Prismiq knows the caller's tenant and user"
)]
pub trait AuthContext: Send + Sync {
    /// The caller's tenant. Every read and write is confined to it.
    fn tenant_id(&self) -> &str;

    /// The caller's user id, if the caller is a known user.
    fn user_id(&self) -> Option<&str>;

    /// The PostgreSQL schema holding this tenant's analytics data, if not the default one.
    fn schema_name(&self) -> Option<&str> {
        None
    }

    /// Whether the caller administers the tenant: may view, edit and delete every dashboard and
    /// saved query in it.
    fn is_admin(&self) -> bool {
        false
    }
    /// The caller's roles in the host application (`"billing"`, `"ops"`), for notifications
    /// sent to roles ([`Audience::Roles`](crate::events::Audience::Roles)). None by default.
    fn roles(&self) -> &[String] {
        &[]
    }
    /// The share link the caller reads through, when it is a viewer of a link rather than a
    /// user of the host (see `Engine::shared_dashboard`): a row filter may treat them apart.
    fn shared_via(&self) -> Option<crate::ids::ShareId> {
        None
    }
}

impl<T: AuthContext + ?Sized> AuthContext for &T {
    fn tenant_id(&self) -> &str {
        (**self).tenant_id()
    }
    fn user_id(&self) -> Option<&str> {
        (**self).user_id()
    }
    fn schema_name(&self) -> Option<&str> {
        (**self).schema_name()
    }
    fn is_admin(&self) -> bool {
        (**self).is_admin()
    }
    fn roles(&self) -> &[String] {
        (**self).roles()
    }
    fn shared_via(&self) -> Option<crate::ids::ShareId> {
        (**self).shared_via()
    }
}

/// A plain [`AuthContext`] for hosts that resolve the caller themselves, and for tests.
///
/// ```
/// use prismiq_core::{AuthContext, SimpleAuthContext};
///
/// let admin = SimpleAuthContext::new("acme").with_user("alice").with_admin(true);
/// assert_eq!(admin.tenant_id(), "acme");
/// assert_eq!(admin.user_id(), Some("alice"));
/// assert!(admin.is_admin());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleAuthContext {
    tenant_id: String,
    user_id: Option<String>,
    schema_name: Option<String>,
    is_admin: bool,
    roles: Vec<String>,
}

impl SimpleAuthContext {
    /// An anonymous, non-admin caller of `tenant_id`.
    pub fn new(tenant_id: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            user_id: None,
            schema_name: None,
            is_admin: false,
            roles: Vec::new(),
        }
    }

    /// Sets the caller's user id.
    pub fn with_user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Sets the tenant's analytics schema.
    pub fn with_schema(mut self, schema_name: impl Into<String>) -> Self {
        self.schema_name = Some(schema_name.into());
        self
    }

    /// Sets the caller's roles in the host application.
    pub fn with_roles<T: Into<String>>(mut self, roles: impl IntoIterator<Item = T>) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Marks the caller as a tenant administrator (or not).
    pub fn with_admin(mut self, is_admin: bool) -> Self {
        self.is_admin = is_admin;
        self
    }
}

impl AuthContext for SimpleAuthContext {
    fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
    fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
    fn schema_name(&self) -> Option<&str> {
        self.schema_name.as_deref()
    }
    fn is_admin(&self) -> bool {
        self.is_admin
    }
    fn roles(&self) -> &[String] {
        &self.roles
    }
}

/// The tenant a store operation is confined to — and, for a write to a dashboard, the change
/// it makes ([`Change`]: who makes it, its kind, the version it expects, what history to keep).
///
/// Stores receive a `Scope`, never an [`AuthContext`]: they persist, the engine authorizes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    tenant_id: String,
    change: Option<Box<Change>>,
}

impl Scope {
    /// The scope of one tenant.
    pub fn new(tenant_id: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            change: None,
        }
    }

    /// For a write to a dashboard: records `change` in its history.
    pub fn with_change(mut self, change: Change) -> Self {
        self.change = Some(Box::new(change));
        self
    }

    /// The tenant id.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The change a dashboard write records, if the engine described one (a store records a
    /// write without one as [`Change::default_for`] its kind says, by nobody).
    pub fn change(&self) -> Option<&Change> {
        self.change.as_deref()
    }

    /// The version the scope's change expects, as a database integer (`None`: no check).
    pub fn expected_version(&self) -> Option<i64> {
        self.change()
            .and_then(|c| c.expected_version)
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX))
    }

    /// The scope of the caller's tenant.
    pub fn of(auth: &dyn AuthContext) -> Self {
        Self::new(auth.tenant_id())
    }
}

/// A change to a dashboard as its history records it: every committed write to a dashboard or
/// its widgets makes a new version, with the change's author and kind and the whole dashboard
/// after it, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    /// Who makes it.
    pub author: Option<String>,
    /// What kind of change it is.
    pub kind: crate::ChangeKind,
    /// The version the dashboard must be at for the change to go ahead (an `If-Match`); the
    /// store refuses with [`StoreError::Stale`](crate::StoreError::Stale) otherwise.
    pub expected_version: Option<u64>,
    /// How much history to keep.
    pub retention: Retention,
}

impl Change {
    /// A change of `kind` by `author`, expecting no particular version, default retention.
    pub fn new(kind: crate::ChangeKind, author: Option<&str>) -> Self {
        Self {
            author: author.map(str::to_owned),
            kind,
            expected_version: None,
            retention: Retention::default(),
        }
    }

    /// What a store records for a write that came without a change: `kind`, by nobody.
    pub fn default_for(kind: crate::ChangeKind) -> Self {
        Self::new(kind, None)
    }

    /// Only if the dashboard is at `version`.
    pub fn expecting(mut self, version: Option<u64>) -> Self {
        self.expected_version = version;
        self
    }

    /// Keeping `retention`.
    pub fn keeping(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }
}

/// How many versions of a dashboard are kept: at most `keep` (the newest), and none older
/// than `max_age` but the newest. Older ones are deleted by the write that makes a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Retention {
    /// How many versions to keep (at least 1).
    pub keep: u32,
    /// How old a version may get, but the newest.
    pub max_age: Option<std::time::Duration>,
}

impl Default for Retention {
    /// The last 50 versions, up to 90 days old.
    fn default() -> Self {
        Self {
            keep: 50,
            max_age: Some(std::time::Duration::from_secs(90 * 24 * 3600)),
        }
    }
}
