//! Who may do what: pure functions over the caller and the object, with no I/O.
//!
//! | Action | Allowed when |
//! |---|---|
//! | view a dashboard | it is public, or the caller is an admin, its owner, or a listed viewer |
//! | list dashboards | exactly the dashboards the caller may view |
//! | edit or delete a dashboard (and its widgets, layout) | the caller is an admin or its owner |
//! | read a saved query | it is shared or ownerless, or the caller is an admin or its owner |
//! | change or delete a saved query | the caller is an admin or its owner |
//!
//! A caller without a user id (anonymous) owns nothing and is listed nowhere, so it sees only
//! public dashboards and shared or ownerless saved queries, unless it is an admin. An empty user
//! id counts as no user.

use crate::auth::AuthContext;
use crate::model::{Dashboard, DashboardJson, SavedQuery};

/// What a caller may see, as stores need it to filter listings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Viewer {
    /// An admin: sees everything in the tenant.
    Admin,
    /// A known user.
    User(String),
    /// No user: sees public dashboards and shared or ownerless saved queries only.
    Anonymous,
}

impl Viewer {
    /// The viewer the caller is.
    pub fn of(auth: &dyn AuthContext) -> Self {
        if auth.is_admin() {
            Self::Admin
        } else {
            match user(auth) {
                Some(user) => Self::User(user.to_owned()),
                None => Self::Anonymous,
            }
        }
    }

    /// Whether this viewer may view `dashboard`.
    pub fn can_view_dashboard(&self, dashboard: &Dashboard) -> bool {
        self.can_view(
            dashboard.is_public,
            dashboard.owner_id.as_deref(),
            &dashboard.allowed_viewers,
        )
    }

    /// Whether this viewer may view the dashboard `document` holds.
    pub fn can_view_dashboard_json(&self, document: &DashboardJson) -> bool {
        self.can_view(
            document.is_public,
            document.owner_id.as_deref(),
            &document.allowed_viewers,
        )
    }

    /// Whether this viewer may view a dashboard with this `access`.
    pub fn can_view_access(&self, access: &DashboardAccess) -> bool {
        self.can_view(
            access.is_public,
            access.owner_id.as_deref(),
            &access.allowed_viewers,
        )
    }

    /// Whether this viewer may edit a dashboard with this `access`.
    pub fn can_edit_access(&self, access: &DashboardAccess) -> bool {
        match self {
            Self::Admin => true,
            Self::User(user) => access.owner_id.as_deref() == Some(user),
            Self::Anonymous => false,
        }
    }

    pub(crate) fn can_view(
        &self,
        is_public: bool,
        owner_id: Option<&str>,
        viewers: &[String],
    ) -> bool {
        match self {
            Self::Admin => true,
            Self::User(user) => {
                is_public || owner_id == Some(user) || viewers.iter().any(|v| v == user)
            }
            Self::Anonymous => is_public,
        }
    }

    /// Whether this viewer may read `query`.
    pub fn can_read_saved_query(&self, query: &SavedQuery) -> bool {
        self.can_read_saved_query_of(query.owner_id.as_deref(), query.is_shared)
    }

    /// Whether this viewer may read a saved query with this owner and sharing.
    pub fn can_read_saved_query_of(&self, owner_id: Option<&str>, is_shared: bool) -> bool {
        match self {
            Self::Admin => true,
            Self::User(user) => is_shared || owner_id.is_none() || owner_id == Some(user),
            Self::Anonymous => is_shared || owner_id.is_none(),
        }
    }
}

/// The fields of a dashboard that decide who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DashboardAccess {
    /// Its owner.
    pub owner_id: Option<String>,
    /// Whether every user of the tenant may view it.
    pub is_public: bool,
    /// The users it is shared with.
    pub allowed_viewers: Vec<String>,
    /// Its version (what a conditional read compares).
    pub version: u64,
}

impl DashboardAccess {
    /// The access fields of `dashboard`, and its version.
    pub fn of(dashboard: &Dashboard) -> Self {
        Self {
            owner_id: dashboard.owner_id.clone(),
            is_public: dashboard.is_public,
            allowed_viewers: dashboard.allowed_viewers.clone(),
            version: dashboard.version,
        }
    }
}

/// The caller's user id, treating an empty one as none.
pub fn user(auth: &dyn AuthContext) -> Option<&str> {
    auth.user_id().filter(|user| !user.is_empty())
}

fn owns(auth: &dyn AuthContext, owner_id: Option<&str>) -> bool {
    matches!((user(auth), owner_id), (Some(user), Some(owner)) if user == owner)
}

/// Whether the caller may view `dashboard` (and export it, run its widgets, pin it).
pub fn can_view_dashboard(auth: &dyn AuthContext, dashboard: &Dashboard) -> bool {
    Viewer::of(auth).can_view_dashboard(dashboard)
}

/// Whether the caller may change `dashboard`: its fields, layout and widgets.
pub fn can_edit_dashboard(auth: &dyn AuthContext, dashboard: &Dashboard) -> bool {
    auth.is_admin() || owns(auth, dashboard.owner_id.as_deref())
}

/// Whether the caller may delete `dashboard`.
pub fn can_delete_dashboard(auth: &dyn AuthContext, dashboard: &Dashboard) -> bool {
    can_edit_dashboard(auth, dashboard)
}

/// Whether the caller may read `query`.
pub fn can_read_saved_query(auth: &dyn AuthContext, query: &SavedQuery) -> bool {
    Viewer::of(auth).can_read_saved_query(query)
}

/// Whether the caller may change or delete `query`.
pub fn can_write_saved_query(auth: &dyn AuthContext, query: &SavedQuery) -> bool {
    auth.is_admin() || owns(auth, query.owner_id.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::SimpleAuthContext;
    use crate::ids::{DashboardId, SavedQueryId};
    use crate::model::{DashboardLayout, QueryDefinition, Timestamp};

    fn dashboard(owner: Option<&str>, public: bool, viewers: &[&str]) -> Dashboard {
        Dashboard {
            id: DashboardId::new(),
            name: "d".to_owned(),
            description: None,
            layout: DashboardLayout::default(),
            widgets: Vec::new(),
            filters: Vec::new(),
            owner_id: owner.map(str::to_owned),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            is_public: public,
            allowed_viewers: viewers.iter().map(|v| (*v).to_owned()).collect(),
            refresh_interval: None,
            version: 1,
        }
    }

    fn saved(owner: Option<&str>, shared: bool) -> SavedQuery {
        SavedQuery {
            id: SavedQueryId::new(),
            name: "q".to_owned(),
            description: None,
            query: QueryDefinition::from_value(
                serde_json::json!({"tables":[{"id":"t1","name":"x"}],"columns":[{"table_id":"t1","column":"a"}]}),
            )
            .unwrap(),
            tenant_id: "t".to_owned(),
            owner_id: owner.map(str::to_owned),
            is_shared: shared,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    fn caller(user: Option<&str>, admin: bool) -> SimpleAuthContext {
        let auth = SimpleAuthContext::new("t").with_admin(admin);
        match user {
            Some(user) => auth.with_user(user),
            None => auth,
        }
    }

    #[test]
    fn dashboard_rules() {
        // (caller user, admin, owner, public, viewers, can view, can edit)
        type Case<'a> = (
            Option<&'a str>,
            bool,
            Option<&'a str>,
            bool,
            &'a [&'a str],
            bool,
            bool,
        );
        let cases: &[Case<'_>] = &[
            (Some("alice"), false, Some("alice"), false, &[], true, true),
            (Some("bob"), false, Some("alice"), false, &[], false, false),
            (Some("bob"), false, Some("alice"), true, &[], true, false),
            (
                Some("bob"),
                false,
                Some("alice"),
                false,
                &["bob"],
                true,
                false,
            ),
            (
                Some("carol"),
                false,
                Some("alice"),
                false,
                &["bob"],
                false,
                false,
            ),
            (Some("bob"), true, Some("alice"), false, &[], true, true),
            (None, true, Some("alice"), false, &[], true, true),
            (None, false, Some("alice"), false, &[], false, false),
            (None, false, Some("alice"), true, &[], true, false),
            (None, false, None, false, &[], false, false),
            (Some("alice"), false, None, false, &[], false, false),
            (Some("alice"), false, None, true, &[], true, false),
            (Some(""), false, Some(""), false, &[""], false, false),
            (Some("alice"), true, None, false, &[], true, true),
        ];
        for (i, &(user, admin, owner, public, viewers, view, edit)) in cases.iter().enumerate() {
            let auth = caller(user, admin);
            let d = dashboard(owner, public, viewers);
            assert_eq!(can_view_dashboard(&auth, &d), view, "view, case {i}");
            assert_eq!(can_edit_dashboard(&auth, &d), edit, "edit, case {i}");
            assert_eq!(can_delete_dashboard(&auth, &d), edit, "delete, case {i}");
        }
    }

    #[test]
    fn saved_query_rules() {
        // (caller user, admin, owner, shared, can read, can write)
        type Case<'a> = (Option<&'a str>, bool, Option<&'a str>, bool, bool, bool);
        let cases: &[Case<'_>] = &[
            (Some("alice"), false, Some("alice"), false, true, true),
            (Some("bob"), false, Some("alice"), false, false, false),
            (Some("bob"), false, Some("alice"), true, true, false),
            (Some("bob"), true, Some("alice"), false, true, true),
            (None, false, Some("alice"), false, false, false),
            (None, false, Some("alice"), true, true, false),
            (None, false, None, false, true, false),
            (Some("bob"), false, None, false, true, false),
            (None, true, None, false, true, true),
        ];
        for (i, &(user, admin, owner, shared, read, write)) in cases.iter().enumerate() {
            let auth = caller(user, admin);
            let q = saved(owner, shared);
            assert_eq!(can_read_saved_query(&auth, &q), read, "read, case {i}");
            assert_eq!(can_write_saved_query(&auth, &q), write, "write, case {i}");
        }
    }

    #[test]
    fn viewer_of_caller() {
        assert_eq!(Viewer::of(&caller(Some("a"), true)), Viewer::Admin);
        assert_eq!(
            Viewer::of(&caller(Some("a"), false)),
            Viewer::User("a".to_owned())
        );
        assert_eq!(Viewer::of(&caller(Some(""), false)), Viewer::Anonymous);
        assert_eq!(Viewer::of(&caller(None, false)), Viewer::Anonymous);
    }
}
