//! From text to one query tree, or the reason there is none.

use sqlparser::ast::{Query, Statement};

use crate::Dialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// Parses `sql` as exactly one query of `dialect`.
///
/// Statements that parse but are not queries are rejected here too, with the statement type.
pub(super) fn parse_query(sql: &str, dialect: Dialect) -> Result<Box<Query>, String> {
    if sql.trim().is_empty() {
        return Err("Empty SQL statement".to_owned());
    }
    let dialect = dialect.parser();
    let tokens = Tokenizer::new(dialect, sql)
        .tokenize_with_location()
        .map_err(|error| format!("SQL parse error: {error}"))?;
    reject_unicode_escapes(&tokens)?;

    let mut statements = Parser::new(dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|error| format!("SQL parse error: {}", parser_message(&error)))?;
    match statements.len() {
        0 => return Err("No SQL statement provided".to_owned()),
        1 => {}
        _ => return Err("Only single statements are allowed".to_owned()),
    }
    match statements.pop() {
        Some(Statement::Query(query)) => Ok(query),
        Some(other) => Err(not_allowed(&other)),
        None => Err("No SQL statement provided".to_owned()),
    }
}

/// The error for a statement that is not a query.
pub(super) fn not_allowed(statement: &Statement) -> String {
    format!(
        "Statement type '{}' is not allowed. Only SELECT statements are permitted.",
        statement_type(statement)
    )
}

/// The leading keyword of a statement (`INSERT`, `DROP`, `EXPLAIN`, …).
fn statement_type(statement: &Statement) -> String {
    let text = statement.to_string();
    let keyword: String = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect();
    if keyword.is_empty() {
        "UNKNOWN".to_owned()
    } else {
        keyword.to_ascii_uppercase()
    }
}

fn parser_message(error: &ParserError) -> &str {
    match error {
        ParserError::TokenizerError(message) | ParserError::ParserError(message) => message,
        ParserError::RecursionLimitExceeded => "the statement is nested too deeply",
    }
}

/// PostgreSQL reads `U&"\0070g_sleep"` as the identifier `pg_sleep`; the parser reads it as
/// `U & "\0070g_sleep"`. Such spellings are refused rather than interpreted two ways.
fn reject_unicode_escapes(tokens: &[TokenWithSpan]) -> Result<(), String> {
    for window in tokens.windows(3) {
        let [first, second, third] = window else {
            continue;
        };
        let is_u = matches!(
            &first.token,
            Token::Word(word) if word.quote_style.is_none() && word.value.eq_ignore_ascii_case("u")
        );
        let quoted = matches!(
            &third.token,
            Token::Word(word) if word.quote_style.is_some()
        ) || matches!(&third.token, Token::SingleQuotedString(_));
        if is_u && second.token == Token::Ampersand && quoted {
            return Err(
                "Unicode escape literals and identifiers (U&\"...\") are not allowed".to_owned(),
            );
        }
    }
    Ok(())
}
