//! Which functions custom SQL may call.
//!
//! Names are compared in lower case, without their schema or quotes. The deny list is about
//! effects outside the result (sleeping, files, settings, sequences, locks, other sessions,
//! other databases) and about functions that run SQL given as text, which would bypass every
//! other check. The statement also runs in a read-only transaction with a timeout; the list
//! is the first line, not the only one.

/// Denied when the name starts with one of these.
const DENIED_PREFIXES: &[&str] = &[
    // Delays.
    "pg_sleep",
    // Server files and large objects.
    "pg_read_",
    "pg_ls_",
    "pg_stat_file",
    "pg_file_",
    "pg_logdir_",
    "lo_",
    // Advisory locks.
    "pg_advisory_",
    "pg_try_advisory_",
    // Other databases.
    "dblink",
    // Arbitrary SQL given as text.
    "query_to_xml",
    "table_to_xml",
    "cursor_to_xml",
    "schema_to_xml",
    "database_to_xml",
    // Server administration and replication.
    "pg_terminate_",
    "pg_cancel_",
    "pg_reload_",
    "pg_rotate_",
    "pg_switch_",
    "pg_create_",
    "pg_drop_",
    "pg_replication_",
    "pg_logical_",
    "pg_backup_",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_wal_replay_",
    "pg_promote",
    "pg_stat_reset",
    "pg_import_",
    "pg_export_",
    "pg_log_backend",
    "pg_stat_get_backend_",
];

/// Denied by exact name.
const DENIED_NAMES: &[&str] = &[
    // Settings: writing them, or reading them (the tenant setting lives there).
    "set_config",
    "current_setting",
    // Sequences.
    "nextval",
    "setval",
    // Notifications to other sessions.
    "pg_notify",
    // Other sessions' activity and the server log.
    "pg_stat_get_activity",
    "pg_current_logfile",
];

/// Set-returning functions allowed in `FROM` (unqualified or in `pg_catalog`).
const FROM_FUNCTIONS: &[&str] = &[
    "generate_series",
    "generate_subscripts",
    "unnest",
    "json_each",
    "json_each_text",
    "jsonb_each",
    "jsonb_each_text",
    "json_array_elements",
    "json_array_elements_text",
    "jsonb_array_elements",
    "jsonb_array_elements_text",
    "json_object_keys",
    "jsonb_object_keys",
    "json_to_record",
    "json_to_recordset",
    "jsonb_to_record",
    "jsonb_to_recordset",
    "json_populate_record",
    "json_populate_recordset",
    "jsonb_populate_record",
    "jsonb_populate_recordset",
    "jsonb_path_query",
    "regexp_matches",
    "regexp_split_to_table",
    "string_to_table",
];

/// Whether a function (its unqualified name) may not be called at all.
pub(super) fn is_denied(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    DENIED_NAMES.contains(&name.as_str())
        || DENIED_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// Whether a function (its unqualified name) may be used as a table in `FROM`.
pub(super) fn is_allowed_in_from(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    FROM_FUNCTIONS.contains(&name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_names_ignore_case_and_cover_families() {
        for name in [
            "pg_sleep",
            "PG_SLEEP_FOR",
            "pg_read_binary_file",
            "lo_import",
            "LO_EXPORT",
            "pg_advisory_xact_lock",
            "pg_try_advisory_lock_shared",
            "dblink_exec",
            "query_to_xml_and_xmlschema",
            "set_config",
            "Current_Setting",
            "nextval",
            "pg_terminate_backend",
        ] {
            assert!(is_denied(name), "{name}");
        }
        for name in ["lower", "log", "count", "sum", "version", "now", "currval"] {
            assert!(!is_denied(name), "{name}");
        }
    }

    #[test]
    fn from_functions_are_a_fixed_set() {
        assert!(is_allowed_in_from("GENERATE_SERIES"));
        assert!(is_allowed_in_from("jsonb_each"));
        assert!(!is_allowed_in_from("pg_ls_dir"));
        assert!(!is_allowed_in_from("my_function"));
    }
}
