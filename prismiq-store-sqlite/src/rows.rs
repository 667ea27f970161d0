//! How values are stored: ids and timestamps as text, JSON values as text, and the decoding of
//! dashboard, widget, saved-query, template and share rows.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use prismiq_core::permissions::Viewer;
use prismiq_core::{
    AnyConfig, Dashboard, DashboardId, DashboardTemplate, NewTemplate, SavedQuery, SavedQueryId,
    Share, ShareId, StoreResult, StoredShare, TemplateContent, TemplateId, Timestamp, Widget,
    WidgetId, WidgetType,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::{db, invalid, json};

/// A timestamp as stored: UTC with exactly six fractional digits and a `Z`, so that text order
/// is time order and every [`Timestamp`] (microsecond precision) round-trips.
pub(crate) fn time_text(at: Timestamp) -> String {
    at.as_datetime()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub(crate) fn parse_time(text: &str) -> StoreResult<Timestamp> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| Timestamp::from_datetime(at.with_timezone(&Utc)))
        .map_err(|_| invalid(format!("timestamp {text:?}")))
}

fn parse_id<T: FromStr>(text: &str) -> StoreResult<T> {
    text.parse().map_err(|_| invalid(format!("id {text:?}")))
}

/// A value as the JSON text of its serde form.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(json)
}

fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(json)
}

/// The viewer as the binds of the listings' view rules: its kind (`admin`, `user`,
/// `anonymous`) and, for a user, the user id.
pub(crate) fn viewer_binds(viewer: &Viewer) -> (&'static str, Option<&str>) {
    match viewer {
        Viewer::Admin => ("admin", None),
        Viewer::User(user) => ("user", Some(user.as_str())),
        Viewer::Anonymous => ("anonymous", None),
    }
}

fn text(row: &SqliteRow, column: &str) -> StoreResult<String> {
    row.try_get(column).map_err(db)
}

fn optional_text(row: &SqliteRow, column: &str) -> StoreResult<Option<String>> {
    row.try_get(column).map_err(db)
}

fn flag(row: &SqliteRow, column: &str) -> StoreResult<bool> {
    row.try_get(column).map_err(db)
}

/// The columns [`dashboard`] reads, for `select` lists over `dashboards d`.
macro_rules! dashboard_columns {
    () => {
        "d.id, d.name, d.description, d.layout, d.filters, d.owner_id, d.is_public, \
         d.allowed_viewers, d.created_at, d.updated_at, d.refresh_interval, d.version"
    };
}
pub(crate) use dashboard_columns;

/// The columns [`widget`] reads, for `select` lists over `widgets w`.
macro_rules! widget_columns {
    () => {
        "w.id, w.dashboard_id, w.widget_type, w.title, w.query, w.position, w.config, \
         w.created_at, w.updated_at"
    };
}
pub(crate) use widget_columns;

/// A dashboard row, without its widgets.
pub(crate) fn dashboard(row: &SqliteRow) -> StoreResult<Dashboard> {
    let refresh_interval = row
        .try_get::<Option<i64>, _>("refresh_interval")
        .map_err(db)?
        .map(|seconds| u32::try_from(seconds).map_err(|_| invalid("refresh interval")))
        .transpose()?;
    Ok(Dashboard {
        id: parse_id(&text(row, "id")?)?,
        name: text(row, "name")?,
        description: optional_text(row, "description")?,
        layout: from_json(&text(row, "layout")?)?,
        widgets: Vec::new(),
        filters: from_json(&text(row, "filters")?)?,
        owner_id: optional_text(row, "owner_id")?,
        created_at: parse_time(&text(row, "created_at")?)?,
        updated_at: parse_time(&text(row, "updated_at")?)?,
        is_public: flag(row, "is_public")?,
        allowed_viewers: from_json(&text(row, "allowed_viewers")?)?,
        refresh_interval,
        version: u64::try_from(row.try_get::<i64, _>("version").map_err(db)?)
            .map_err(|_| invalid("version"))?,
    })
}

/// A widget row, with the id of its dashboard.
pub(crate) fn widget(row: &SqliteRow) -> StoreResult<(DashboardId, Widget)> {
    let query = optional_text(row, "query")?
        .map(|query| from_json(&query))
        .transpose()?;
    let widget_type: WidgetType = from_json(&text(row, "widget_type")?)?;
    let config = from_json::<AnyConfig>(&text(row, "config")?)?
        .for_type(&widget_type)
        .map_err(json)?;
    let widget = Widget {
        id: parse_id::<WidgetId>(&text(row, "id")?)?,
        widget_type,
        title: text(row, "title")?,
        query,
        position: from_json(&text(row, "position")?)?,
        config,
        created_at: parse_time(&text(row, "created_at")?)?,
        updated_at: parse_time(&text(row, "updated_at")?)?,
    };
    Ok((parse_id(&text(row, "dashboard_id")?)?, widget))
}

/// A saved-query row.
pub(crate) fn saved_query(row: &SqliteRow) -> StoreResult<SavedQuery> {
    Ok(SavedQuery {
        id: parse_id::<SavedQueryId>(&text(row, "id")?)?,
        name: text(row, "name")?,
        description: optional_text(row, "description")?,
        query: from_json(&text(row, "query")?)?,
        tenant_id: text(row, "tenant_id")?,
        owner_id: optional_text(row, "owner_id")?,
        is_shared: flag(row, "is_shared")?,
        created_at: parse_time(&text(row, "created_at")?)?,
        updated_at: parse_time(&text(row, "updated_at")?)?,
    })
}

/// A template row: its layout, filters, widgets and refresh interval are the one JSON document
/// `content`.
pub(crate) fn template(row: &SqliteRow) -> StoreResult<DashboardTemplate> {
    let mut content: TemplateContent = from_json(&text(row, "content")?)?;
    // Read from JSON, a config has no shape yet: its widget's type settles it, as it does for
    // stored widgets.
    for widget in &mut content.widgets {
        if let Some(config) = widget.config.take() {
            widget.config = Some(config.for_type(&widget.widget_type).map_err(json)?);
        }
    }
    let new = NewTemplate {
        id: parse_id::<TemplateId>(&text(row, "id")?)?,
        name: text(row, "name")?,
        description: optional_text(row, "description")?,
        category: optional_text(row, "category")?,
        created_by: optional_text(row, "created_by")?,
        content,
    };
    Ok(new.into_template(parse_time(&text(row, "created_at")?)?))
}

/// The columns [`share`] reads.
macro_rules! share_columns {
    () => {
        "id, dashboard_id, label, locked_filters, allow_export, expires_at, created_by, \
         created_at"
    };
}
pub(crate) use share_columns;

/// A share row, as its dashboard's owner lists it.
pub(crate) fn share(row: &SqliteRow) -> StoreResult<Share> {
    Ok(Share {
        id: parse_id::<ShareId>(&text(row, "id")?)?,
        dashboard_id: parse_id(&text(row, "dashboard_id")?)?,
        label: optional_text(row, "label")?,
        locked_filters: from_json(&text(row, "locked_filters")?)?,
        allow_export: row.try_get::<bool, _>("allow_export").map_err(db)?,
        expires_at: optional_text(row, "expires_at")?
            .map(|at| parse_time(&at))
            .transpose()?,
        created_by: optional_text(row, "created_by")?,
        created_at: parse_time(&text(row, "created_at")?)?,
    })
}

/// A share row with its tenant, schema and token hash, as found by the token.
pub(crate) fn stored_share(row: &SqliteRow) -> StoreResult<StoredShare> {
    Ok(StoredShare {
        share: share(row)?,
        tenant_id: text(row, "tenant_id")?,
        schema_name: optional_text(row, "schema_name")?,
        token_hash: text(row, "token_hash")?,
    })
}

/// Runs a pair of statements selecting dashboards (in order) and the widgets of those same
/// dashboards, both bound to `binds` in order, and puts each widget on its dashboard in
/// display order.
pub(crate) async fn fetch_dashboards(
    conn: &mut SqliteConnection,
    dashboards_sql: &'static str,
    widgets_sql: &'static str,
    binds: &[Option<&str>],
) -> StoreResult<Vec<Dashboard>> {
    let mut query = sqlx::query(dashboards_sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    let mut dashboards = query
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?
        .iter()
        .map(dashboard)
        .collect::<StoreResult<Vec<_>>>()?;
    if dashboards.is_empty() {
        return Ok(dashboards);
    }
    let mut query = sqlx::query(widgets_sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    let rows = query.fetch_all(&mut *conn).await.map_err(db)?;
    let index: HashMap<DashboardId, usize> = dashboards
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id, i))
        .collect();
    for row in &rows {
        let (dashboard_id, widget) = widget(row)?;
        if let Some(&i) = index.get(&dashboard_id) {
            dashboards[i].widgets.push(widget);
        }
    }
    for dashboard in &mut dashboards {
        dashboard.sort_widgets();
    }
    Ok(dashboards)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_sort_as_text_and_round_trip() {
        let whole = Timestamp::from(Utc.with_ymd_and_hms(2026, 11, 21, 21, 35, 40).unwrap());
        let fine = Timestamp::from(
            Utc.with_ymd_and_hms(2026, 11, 21, 21, 35, 40).unwrap()
                + chrono::Duration::microseconds(181_441),
        );
        assert_eq!(time_text(whole), "2026-11-21T21:35:40.000000Z");
        assert_eq!(time_text(fine), "2026-11-21T21:35:40.181441Z");
        assert!(time_text(whole) < time_text(fine));
        assert_eq!(parse_time(&time_text(fine)).unwrap(), fine);
        assert_eq!(parse_time(&time_text(whole)).unwrap(), whole);
        let now = Timestamp::now();
        assert_eq!(parse_time(&time_text(now)).unwrap(), now);
    }
}
