//! Which functions custom SQL may call: an allow-list.
//!
//! One concern, long because it is a list: every allowed built-in of each dialect, by category,
//! with why the ones left out are left out. The checking itself is in `check.rs`.
//!
//! A call is allowed when its name is on one of the lists below (PostgreSQL built-ins that
//! compute a value from their arguments and nothing else) or among the host's extra names
//! ([`SqlPolicy::allowed_functions`](super::SqlPolicy::allowed_functions)); anything else is
//! refused, naming the function. Names are compared case-insensitively, without their schema
//! or quotes. The schema itself is checked elsewhere: unqualified, `pg_catalog` or the
//! caller's own.
//!
//! An allow-list, because the other way round a new PostgreSQL release or extension adds
//! functions nobody has reviewed. Deliberately absent, whatever their category:
//! - anything that runs SQL given as text (`query_to_xml` and the other `*_to_xml`, `ts_stat`,
//!   `ts_rewrite`), which would bypass every other check;
//! - effects outside the result: sleeping, files and large objects, settings (`set_config`,
//!   `setseed`), sequences, advisory locks, notifications, signalling backends, `dblink`;
//! - server and session state: the version, addresses and ports, backend pids, transaction
//!   ids and snapshots, settings (`current_setting`, where the tenant id lives), role and
//!   database names (`current_user`, `session_user`, `current_role`, `current_catalog`,
//!   `current_database`), the search path (`current_schema`, `current_schemas`), start and
//!   reload times, statistics (`pg_stat_*`), object sizes (`pg_*_size`), privileges
//!   (`has_*_privilege`), catalog lookups (`to_regclass`, `pg_get_*def`, `obj_description`, …).
//!
//! The statement also runs in a read-only transaction with a timeout and a row cap, under a
//! per-tenant concurrency limit; those, not this list, bound what a query may consume. So
//! functions that can build large values (`repeat`, `lpad`, `string_agg`, `generate_series`)
//! stay allowed: refusing one of them would bound nothing while the others remain.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::Dialect;

/// Aggregates: general-purpose, statistical and ordered-set (`WITHIN GROUP`); the
/// hypothetical-set aggregates share their names with the window functions. They fold rows
/// the query already reads.
const AGGREGATES: &[&str] = &[
    "any_value",
    "array_agg",
    "avg",
    "bit_and",
    "bit_or",
    "bit_xor",
    "bool_and",
    "bool_or",
    "count",
    "every",
    "grouping",
    "json_agg",
    "json_agg_strict",
    "json_arrayagg",
    "json_object_agg",
    "json_object_agg_strict",
    "json_object_agg_unique",
    "json_object_agg_unique_strict",
    "json_objectagg",
    "jsonb_agg",
    "jsonb_agg_strict",
    "jsonb_object_agg",
    "jsonb_object_agg_strict",
    "jsonb_object_agg_unique",
    "jsonb_object_agg_unique_strict",
    "max",
    "min",
    "range_agg",
    "range_intersect_agg",
    "string_agg",
    "sum",
    // Statistical.
    "corr",
    "covar_pop",
    "covar_samp",
    "regr_avgx",
    "regr_avgy",
    "regr_count",
    "regr_intercept",
    "regr_r2",
    "regr_slope",
    "regr_sxx",
    "regr_sxy",
    "regr_syy",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "var_pop",
    "var_samp",
    "variance",
    // Ordered-set.
    "mode",
    "percentile_cont",
    "percentile_disc",
];

/// Window functions (and, with `WITHIN GROUP`, the hypothetical-set aggregates): they look at
/// other rows of the same result.
const WINDOW: &[&str] = &[
    "cume_dist",
    "dense_rank",
    "first_value",
    "lag",
    "last_value",
    "lead",
    "nth_value",
    "ntile",
    "percent_rank",
    "rank",
    "row_number",
];

/// Arithmetic and mathematics, including trigonometry. `random` and `random_normal` are
/// allowed (they reveal nothing); `setseed` is not, as it changes the state of a pooled
/// session that other callers reuse.
const MATH: &[&str] = &[
    "abs",
    "bit_count",
    "cbrt",
    "ceil",
    "ceiling",
    "degrees",
    "div",
    "erf",
    "erfc",
    "exp",
    "factorial",
    "floor",
    "gamma",
    "gcd",
    "lcm",
    "lgamma",
    "ln",
    "log",
    "log10",
    "min_scale",
    "mod",
    "pi",
    "pow",
    "power",
    "radians",
    "random",
    "random_normal",
    "round",
    "scale",
    "sign",
    "sqrt",
    "trim_scale",
    "trunc",
    "width_bucket",
    // Trigonometric and hyperbolic.
    "acos",
    "acosd",
    "acosh",
    "asin",
    "asind",
    "asinh",
    "atan",
    "atan2",
    "atan2d",
    "atand",
    "atanh",
    "cos",
    "cosd",
    "cosh",
    "cot",
    "cotd",
    "sin",
    "sind",
    "sinh",
    "tan",
    "tand",
    "tanh",
];

/// Strings and binary strings, including regular expressions, encodings and hashes: pure
/// functions of their arguments.
const STRINGS: &[&str] = &[
    "ascii",
    "bit_length",
    "btrim",
    "casefold",
    "char_length",
    "character_length",
    "chr",
    "concat",
    "concat_ws",
    "convert_from",
    "convert_to",
    "crc32",
    "crc32c",
    "decode",
    "encode",
    "format",
    "initcap",
    "left",
    "length",
    "lower",
    "lpad",
    "ltrim",
    "md5",
    "normalize",
    "octet_length",
    "overlay",
    "position",
    "quote_ident",
    "quote_literal",
    "quote_nullable",
    "regexp_count",
    "regexp_instr",
    "regexp_like",
    "regexp_match",
    "regexp_replace",
    "regexp_split_to_array",
    "regexp_substr",
    "repeat",
    "replace",
    "reverse",
    "right",
    "rpad",
    "rtrim",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "split_part",
    "starts_with",
    "string_to_array",
    "strpos",
    "substr",
    "substring",
    "to_ascii",
    "to_bin",
    "to_hex",
    "to_oct",
    "translate",
    "trim",
    "unistr",
    "upper",
];

/// Dates, times and intervals. The current time is not server state worth hiding (every
/// caller has a clock); `current_date` and friends are SQL keywords the parser reads as calls.
const DATE_TIME: &[&str] = &[
    "age",
    "clock_timestamp",
    "current_date",
    "current_time",
    "current_timestamp",
    "date_add",
    "date_bin",
    "date_part",
    "date_subtract",
    "date_trunc",
    "extract",
    "isfinite",
    "justify_days",
    "justify_hours",
    "justify_interval",
    "localtime",
    "localtimestamp",
    "make_date",
    "make_interval",
    "make_time",
    "make_timestamp",
    "make_timestamptz",
    "now",
    "statement_timestamp",
    "timeofday",
    "timezone",
    "to_date",
    "to_timestamp",
    "transaction_timestamp",
];

/// Conditional expressions written as calls.
const CONDITIONAL: &[&str] = &[
    "coalesce",
    "greatest",
    "least",
    "nullif",
    "num_nonnulls",
    "num_nulls",
];

/// Casts written as calls (`date(ts)`, `text(n)`), formatting and parsing of numbers, and the
/// type of a value. `pg_typeof` and the `pg_size_*` pair only look at or format their
/// arguments, unlike the other `pg_` functions.
const CASTS_AND_FORMATTING: &[&str] = &[
    "date",
    "float4",
    "float8",
    "int2",
    "int4",
    "int8",
    "numeric",
    "pg_size_bytes",
    "pg_size_pretty",
    "pg_typeof",
    "text",
    "to_char",
    "to_number",
];

/// Building JSON and reading into it (accessors, SQL/JSON path queries). The set-returning
/// ones are in [`SET_RETURNING`].
const JSON: &[&str] = &[
    "array_to_json",
    "json_array",
    "json_array_length",
    "json_build_array",
    "json_build_object",
    "json_exists",
    "json_extract_path",
    "json_extract_path_text",
    "json_object",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_strip_nulls",
    "json_typeof",
    "json_value",
    "jsonb_array_length",
    "jsonb_build_array",
    "jsonb_build_object",
    "jsonb_extract_path",
    "jsonb_extract_path_text",
    "jsonb_insert",
    "jsonb_object",
    "jsonb_path_exists",
    "jsonb_path_exists_tz",
    "jsonb_path_match",
    "jsonb_path_match_tz",
    "jsonb_path_query_array",
    "jsonb_path_query_array_tz",
    "jsonb_path_query_first",
    "jsonb_path_query_first_tz",
    "jsonb_path_query_tz",
    "jsonb_pretty",
    "jsonb_set",
    "jsonb_set_lax",
    "jsonb_strip_nulls",
    "jsonb_typeof",
    "row_to_json",
    "to_json",
    "to_jsonb",
];

/// Arrays. `unnest` and `generate_subscripts` are in [`SET_RETURNING`].
const ARRAYS: &[&str] = &[
    "array_append",
    "array_cat",
    "array_dims",
    "array_fill",
    "array_length",
    "array_lower",
    "array_ndims",
    "array_position",
    "array_positions",
    "array_prepend",
    "array_remove",
    "array_replace",
    "array_reverse",
    "array_sample",
    "array_shuffle",
    "array_sort",
    "array_to_string",
    "array_upper",
    "cardinality",
    "trim_array",
];

/// Ranges: constructors and the functions that read their bounds (`lower` and `upper` are in
/// [`STRINGS`]).
const RANGES: &[&str] = &[
    "daterange",
    "int4range",
    "int8range",
    "isempty",
    "lower_inc",
    "lower_inf",
    "numrange",
    "range_merge",
    "tsrange",
    "tstzrange",
    "upper_inc",
    "upper_inf",
];

/// Full-text search over the query's own values. `ts_stat` and `ts_rewrite` are not here:
/// they take SQL as text and run it.
const TEXT_SEARCH: &[&str] = &[
    "array_to_tsvector",
    "numnode",
    "phraseto_tsquery",
    "plainto_tsquery",
    "querytree",
    "setweight",
    "strip",
    "to_tsquery",
    "to_tsvector",
    "ts_delete",
    "ts_filter",
    "ts_headline",
    "ts_rank",
    "ts_rank_cd",
    "tsvector_to_array",
    "websearch_to_tsquery",
];

/// UUID generation and inspection.
const UUIDS: &[&str] = &[
    "gen_random_uuid",
    "uuid_extract_timestamp",
    "uuid_extract_version",
    "uuidv4",
    "uuidv7",
];

/// Syntax the parser reads as a call: `ROW(a, b)` and `ARRAY(SELECT …)`.
const SYNTAX: &[&str] = &["array", "row"];

/// Set-returning functions: allowed anywhere, and the only built-ins allowed in `FROM`.
const SET_RETURNING: &[&str] = &[
    "generate_series",
    "generate_subscripts",
    "json_array_elements",
    "json_array_elements_text",
    "json_each",
    "json_each_text",
    "json_object_keys",
    "json_populate_record",
    "json_populate_recordset",
    "json_to_record",
    "json_to_recordset",
    "jsonb_array_elements",
    "jsonb_array_elements_text",
    "jsonb_each",
    "jsonb_each_text",
    "jsonb_object_keys",
    "jsonb_path_query",
    "jsonb_populate_record",
    "jsonb_populate_recordset",
    "jsonb_to_record",
    "jsonb_to_recordset",
    "regexp_matches",
    "regexp_split_to_table",
    "string_to_table",
    "unnest",
];

/// Every list, by category.
const CATEGORIES: &[&[&str]] = &[
    AGGREGATES,
    WINDOW,
    MATH,
    STRINGS,
    DATE_TIME,
    CONDITIONAL,
    CASTS_AND_FORMATTING,
    JSON,
    ARRAYS,
    RANGES,
    TEXT_SEARCH,
    UUIDS,
    SYNTAX,
    SET_RETURNING,
];

static ALLOWED: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| CATEGORIES.iter().copied().flatten().copied().collect());

/// SQL keywords that PostgreSQL evaluates as functions without parentheses. The parser reads
/// some of them as calls and others (`current_role`, `current_schema`, `system_user`) as
/// column names; an unquoted identifier with one of these names is checked as a call.
const KEYWORD_FUNCTIONS: &[&str] = &[
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "localtime",
    "localtimestamp",
    "session_user",
    "system_user",
    "user",
];

/// Object-identifier types: a cast to one of them (`'other.orders'::regclass`) runs a
/// catalog lookup, which tells whether objects of other schemas exist, and their oids.
const CATALOG_LOOKUP_TYPES: &[&str] = &[
    "regclass",
    "regcollation",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regoper",
    "regoperator",
    "regproc",
    "regprocedure",
    "regrole",
    "regtype",
];

/// SQLite's built-ins that compute a value from their arguments: aggregates, window
/// functions, scalars, dates and times, JSON. The bundled SQLite is built without the
/// mathematical functions (`sqrt`, `pow`, `ceil`, …) and without `generate_series`; a host
/// whose SQLite has them allows them with `Engine::with_allowed_functions`. Deliberately absent: extension
/// loading (`load_extension`), connection state (`changes`, `total_changes`,
/// `last_insert_rowid`), build details (`sqlite_version`, `sqlite_source_id`,
/// `sqlite_compileoption_*`), row locations (`sqlite_offset`), `fts3_tokenizer` (it takes
/// pointers), and the shell's `readfile`, `writefile` and `edit`.
const SQLITE: &[&str] = &[
    // aggregates
    "avg",
    "count",
    "group_concat",
    "string_agg",
    "max",
    "min",
    "sum",
    "total",
    "json_group_array",
    "json_group_object",
    "jsonb_group_array",
    "jsonb_group_object",
    // window functions
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    // scalars
    "abs",
    "char",
    "coalesce",
    "concat",
    "concat_ws",
    "format",
    "glob",
    "hex",
    "if",
    "ifnull",
    "iif",
    "instr",
    "length",
    "like",
    "likelihood",
    "likely",
    "lower",
    "ltrim",
    "nullif",
    "octet_length",
    "printf",
    "quote",
    "random",
    "randomblob",
    "replace",
    "round",
    "rtrim",
    "sign",
    "soundex",
    "substr",
    "substring",
    "trim",
    "typeof",
    "unhex",
    "unicode",
    "unlikely",
    "upper",
    "zeroblob",
    // dates and times
    "date",
    "time",
    "datetime",
    "julianday",
    "unixepoch",
    "strftime",
    "timediff",
    "current_date",
    "current_time",
    "current_timestamp",
    // JSON
    "json",
    "jsonb",
    "json_array",
    "jsonb_array",
    "json_array_length",
    "json_error_position",
    "json_extract",
    "jsonb_extract",
    "json_insert",
    "jsonb_insert",
    "json_object",
    "jsonb_object",
    "json_patch",
    "jsonb_patch",
    "json_pretty",
    "json_quote",
    "json_remove",
    "jsonb_remove",
    "json_replace",
    "jsonb_replace",
    "json_set",
    "jsonb_set",
    "json_type",
    "json_valid",
    // table-valued
    "json_each",
    "json_tree",
    "jsonb_each",
    "jsonb_tree",
];

/// SQLite's table-valued functions allowed in `FROM` (its `pragma_*` functions are not).
const SQLITE_SET_RETURNING: &[&str] = &["json_each", "json_tree", "jsonb_each", "jsonb_tree"];

static SQLITE_ALLOWED: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| SQLITE.iter().copied().collect());

/// Whether a built-in function (its unqualified name) is on `dialect`'s allow-list.
pub(super) fn is_allowed(dialect: Dialect, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    match dialect {
        Dialect::Sqlite => SQLITE_ALLOWED.contains(name.as_str()),
        _ => ALLOWED.contains(name.as_str()),
    }
}

/// Whether a built-in function (its unqualified name) may be used as a table in `FROM`.
pub(super) fn is_allowed_in_from(dialect: Dialect, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    match dialect {
        Dialect::Sqlite => SQLITE_SET_RETURNING.contains(&name.as_str()),
        _ => SET_RETURNING.contains(&name.as_str()),
    }
}

/// Whether an unquoted identifier is in fact a call of a function without parentheses.
pub(super) fn is_keyword_function(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    KEYWORD_FUNCTIONS.contains(&name.as_str())
}

/// Whether a type (its unqualified name, without array brackets) is an object-identifier
/// type that custom SQL may not cast to.
pub(super) fn is_catalog_lookup_type(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CATALOG_LOOKUP_TYPES.contains(&name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_and_listed_once() {
        let mut seen = HashSet::new();
        for name in CATEGORIES.iter().copied().flatten() {
            assert_eq!(*name, name.to_ascii_lowercase(), "{name}");
            assert!(seen.insert(*name), "{name} is listed twice");
        }
        assert!(seen.len() > 250, "{}", seen.len());
    }

    #[test]
    fn the_allow_list_ignores_case() {
        for name in [
            "count",
            "SUM",
            "Date_Trunc",
            "percentile_cont",
            "jsonb_path_exists",
        ] {
            assert!(is_allowed(Dialect::Postgres, name), "{name}");
        }
    }

    #[test]
    fn server_state_and_side_effects_are_not_on_the_list() {
        for name in [
            "version",
            "txid_current",
            "pg_current_xact_id",
            "current_setting",
            "set_config",
            "setseed",
            "pg_sleep",
            "pg_backend_pid",
            "inet_server_addr",
            "current_user",
            "current_schema",
            "current_database",
            "to_regclass",
            "ts_stat",
            "query_to_xml",
            "nextval",
            "my_function",
        ] {
            assert!(!is_allowed(Dialect::Postgres, name), "{name}");
        }
    }

    #[test]
    fn from_functions_are_a_fixed_set() {
        assert!(is_allowed_in_from(Dialect::Postgres, "GENERATE_SERIES"));
        assert!(is_allowed_in_from(Dialect::Postgres, "jsonb_each"));
        assert!(!is_allowed_in_from(Dialect::Postgres, "lower"));
        assert!(!is_allowed_in_from(Dialect::Postgres, "pg_ls_dir"));
        assert!(!is_allowed_in_from(Dialect::Postgres, "my_function"));
    }

    #[test]
    fn sqlite_has_a_list_of_its_own() {
        let mut seen = HashSet::new();
        for name in SQLITE {
            assert_eq!(*name, name.to_ascii_lowercase(), "{name}");
            assert!(seen.insert(*name), "{name} is listed twice");
        }
        for name in ["strftime", "JSON_EXTRACT", "group_concat", "iif"] {
            assert!(is_allowed(Dialect::Sqlite, name), "{name}");
        }
        for name in [
            "load_extension",
            "readfile",
            "writefile",
            "edit",
            "fts3_tokenizer",
            "sqlite_version",
            "sqlite_compileoption_get",
            "sqlite_offset",
            "changes",
            "last_insert_rowid",
            "pg_sleep",
            "date_trunc",
        ] {
            assert!(!is_allowed(Dialect::Sqlite, name), "{name}");
        }
        assert!(is_allowed_in_from(Dialect::Sqlite, "json_each"));
        assert!(!is_allowed_in_from(Dialect::Sqlite, "pragma_table_info"));
        assert!(!is_allowed_in_from(Dialect::Sqlite, "unnest"));
    }

    #[test]
    fn keyword_functions_include_those_read_as_identifiers() {
        for name in ["current_role", "CURRENT_SCHEMA", "system_user", "user"] {
            assert!(is_keyword_function(name), "{name}");
        }
        assert!(!is_keyword_function("total"));
    }

    #[test]
    fn object_identifier_types_are_catalog_lookups() {
        assert!(is_catalog_lookup_type("REGCLASS"));
        assert!(is_catalog_lookup_type("regnamespace"));
        assert!(!is_catalog_lookup_type("oid"));
        assert!(!is_catalog_lookup_type("date"));
    }
}
