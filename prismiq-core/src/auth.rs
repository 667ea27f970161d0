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

/// The tenant a store operation is confined to.
///
/// Stores receive a `Scope`, never an [`AuthContext`]: they persist, the engine authorizes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    tenant_id: String,
}

impl Scope {
    /// The scope of one tenant.
    pub fn new(tenant_id: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
        }
    }

    /// The tenant id.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The scope of the caller's tenant.
    pub fn of(auth: &dyn AuthContext) -> Self {
        Self::new(auth.tenant_id())
    }
}
