//! What a migration did: counts per kind of record, and every problem met.

use std::fmt;

use serde::Serialize;

/// The kinds of records the original server kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A row of `prismiq_dashboards` (or an export file's dashboard).
    Dashboard,
    /// A row of `prismiq_widgets` (or a widget of an export file).
    Widget,
    /// A row of `prismiq_saved_queries`.
    SavedQuery,
    /// A row of `prismiq_pinned_dashboards`.
    Pin,
}

impl RecordKind {
    /// The name stored in the mapping and shown in reports: `dashboard`, `widget`,
    /// `saved_query` or `pin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dashboard => "dashboard",
            Self::Widget => "widget",
            Self::SavedQuery => "saved_query",
            Self::Pin => "pin",
        }
    }

    /// The kind named `name` (see [`as_str`](Self::as_str)).
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Dashboard, Self::Widget, Self::SavedQuery, Self::Pin]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many records of one kind a run migrated, skipped, or found migrated by an earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Written by this run (or, in a dry run, that would be written).
    pub migrated: u64,
    /// Not written, each with a [`Problem`] saying why.
    pub skipped: u64,
    /// Found in the mapping: an earlier run wrote them, so this one left them alone.
    pub already_migrated: u64,
}

/// One record that could not be migrated as it was, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What kind of record.
    pub kind: RecordKind,
    /// Its id in the original, as the original served it (`"12"`); for an export file, the
    /// widget's index in the file (`"widgets[3]"`), or `None` for the file's dashboard.
    pub old_id: Option<String>,
    /// Its tenant.
    pub tenant_id: String,
    /// What is wrong, and what to fix.
    pub reason: String,
    /// Whether the record was left out (`true`), or migrated with the change `reason`
    /// describes, which the original applied as well when it served the record (`false`).
    pub skipped: bool,
}

/// What a migration or an import did. Serializes to JSON; [`Display`](fmt::Display) gives
/// the text form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MigrationReport {
    /// Whether nothing was written (the counts say what a real run would do).
    pub dry_run: bool,
    /// Dashboards.
    pub dashboards: Counts,
    /// Widgets.
    pub widgets: Counts,
    /// Saved queries.
    pub saved_queries: Counts,
    /// Pins.
    pub pins: Counts,
    /// Every problem, in the order met.
    pub problems: Vec<Problem>,
}

impl MigrationReport {
    /// The counts of `kind`.
    pub fn counts(&self, kind: RecordKind) -> &Counts {
        match kind {
            RecordKind::Dashboard => &self.dashboards,
            RecordKind::Widget => &self.widgets,
            RecordKind::SavedQuery => &self.saved_queries,
            RecordKind::Pin => &self.pins,
        }
    }

    pub(super) fn counts_mut(&mut self, kind: RecordKind) -> &mut Counts {
        match kind {
            RecordKind::Dashboard => &mut self.dashboards,
            RecordKind::Widget => &mut self.widgets,
            RecordKind::SavedQuery => &mut self.saved_queries,
            RecordKind::Pin => &mut self.pins,
        }
    }

    /// Whether any record was skipped.
    pub fn has_skipped(&self) -> bool {
        self.problems.iter().any(|p| p.skipped)
    }

    pub(super) fn skip(
        &mut self,
        kind: RecordKind,
        old_id: Option<&str>,
        tenant_id: &str,
        reason: impl Into<String>,
    ) {
        self.counts_mut(kind).skipped += 1;
        self.problem(kind, old_id, tenant_id, reason, true);
    }

    pub(super) fn problem(
        &mut self,
        kind: RecordKind,
        old_id: Option<&str>,
        tenant_id: &str,
        reason: impl Into<String>,
        skipped: bool,
    ) {
        self.problems.push(Problem {
            kind,
            old_id: old_id.map(str::to_owned),
            tenant_id: tenant_id.to_owned(),
            reason: reason.into(),
            skipped,
        });
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serializes to JSON")
    }
}

impl fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(f, "Dry run: nothing was written.")?;
        }
        writeln!(
            f,
            "{:<14} {:>9} {:>9} {:>17}",
            "", "migrated", "skipped", "already migrated"
        )?;
        for (kind, label) in [
            (RecordKind::Dashboard, "dashboards"),
            (RecordKind::Widget, "widgets"),
            (RecordKind::SavedQuery, "saved queries"),
            (RecordKind::Pin, "pins"),
        ] {
            let c = self.counts(kind);
            writeln!(
                f,
                "{:<14} {:>9} {:>9} {:>17}",
                label, c.migrated, c.skipped, c.already_migrated
            )?;
        }
        if self.problems.is_empty() {
            return writeln!(f, "No problems.");
        }
        writeln!(f, "Problems ({}):", self.problems.len())?;
        for p in &self.problems {
            writeln!(
                f,
                "  {} {} {} (tenant {:?}): {}",
                if p.skipped { "skipped" } else { "note   " },
                p.kind,
                p.old_id.as_deref().unwrap_or("-"),
                p.tenant_id,
                p.reason
            )?;
        }
        Ok(())
    }
}
