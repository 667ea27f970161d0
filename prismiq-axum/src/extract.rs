//! Request extractors whose rejections are [`ApiError`]s in the contract's shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::{Value, json};

use crate::error::ApiError;

/// A JSON request body. Unlike `axum::Json` it does not insist on a `Content-Type`, and a body
/// it cannot read is a 422 listing each problem with its location (`["body", "widgets", 0,
/// "type"]`), as the Prismiq client expects.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = RawBody::from_request(req, state).await?.0;
        parse_json(&bytes).map(Self)
    }
}

/// The raw request body, within the router's body limit (a larger one is a 413).
#[derive(Debug, Clone, Default)]
pub struct RawBody(pub Bytes);

impl<S> FromRequest<S> for RawBody
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(Self)
            .map_err(|rejection| {
                use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
                let too_large = rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
                    || matches!(
                        rejection,
                        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))
                    );
                if too_large {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::validation(
                        "body_read",
                        vec![json!("body")],
                        rejection.body_text(),
                        Value::Null,
                    )
                }
            })
    }
}

/// Parses a JSON body, mapping failures to the 422 list shape.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(
            "missing",
            vec![json!("body")],
            "Field required",
            Value::Null,
        ));
    }
    // Valid bodies, the usual case, decode without tracking the path; a failing one is decoded
    // again with tracking, to say where the problem is.
    if let Ok(value) = serde_json::from_slice(bytes) {
        refuse_nul_in_body(bytes)?;
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer).map_err(|err| {
        // serde_json files some problems of well-formed JSON as syntax (a list longer than the
        // field takes is "trailing characters"), so what decides between a JSON error located
        // by offset and a field error located by path is whether the document itself parses.
        match serde_json::from_slice::<IgnoredAny>(bytes) {
            Err(syntax) => syntax_error(bytes, &syntax),
            Ok(_) => body_error(bytes, err),
        }
    })?;
    deserializer
        .end()
        .map_err(|err| syntax_error(bytes, &err))?;
    Ok(value)
}

/// What a string may not hold: PostgreSQL's `text` and `jsonb` cannot store U+0000, and SQL
/// text carrying it cannot even be sent. Refused wherever a client sends it.
const NUL_MESSAGE: &str = "String must not contain the NUL character (\\u0000)";

/// A 422 at the first string (or key) of a well-formed body that holds U+0000.
///
/// JSON can only carry the character escaped, so a body without the text `\u0000` is clean
/// and costs one scan; otherwise the document is walked to name the field.
fn refuse_nul_in_body(bytes: &[u8]) -> Result<(), ApiError> {
    const ESCAPED_NUL: &[u8] = b"\\u0000";
    if !bytes.windows(ESCAPED_NUL.len()).any(|w| w == ESCAPED_NUL) {
        return Ok(());
    }
    let document: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let mut loc = vec![json!("body")];
    match nul_location(&document, &mut loc) {
        Some(input) => Err(ApiError::validation("string_nul", loc, NUL_MESSAGE, input)),
        None => Ok(()),
    }
}

/// Extends `loc` to the first string in `value` holding U+0000 (a key counts as its field) and
/// returns that string.
fn nul_location(value: &Value, loc: &mut Vec<Value>) -> Option<Value> {
    match value {
        Value::String(text) => text.contains('\0').then(|| value.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            loc.push(json!(index));
            let found = nul_location(item, loc);
            if found.is_none() {
                loc.pop();
            }
            found
        }),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            loc.push(json!(key));
            if key.contains('\0') {
                return Some(json!(key));
            }
            let found = nul_location(item, loc);
            if found.is_none() {
                loc.pop();
            }
            found
        }),
        _ => None,
    }
}

fn syntax_error(bytes: &[u8], err: &serde_json::Error) -> ApiError {
    // At the end of the input, the problem is where the input stops.
    let offset = if err.is_eof() {
        bytes.len()
    } else {
        byte_offset(bytes, err.line(), err.column())
    };
    ApiError::validation(
        "json_invalid",
        vec![json!("body"), json!(offset)],
        "JSON decode error",
        json!({}),
    )
}

/// A field error in a well-formed document, located by the path of the field at fault.
fn body_error(bytes: &[u8], err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let inner = err.inner();
    let mut loc = vec![json!("body")];
    for segment in err.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => loc.push(json!(index)),
            serde_path_to_error::Segment::Map { key } => loc.push(json!(key)),
            serde_path_to_error::Segment::Enum { variant } => loc.push(json!(variant)),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let document: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let at = |loc: &[Value]| -> Value {
        let mut node = &document;
        for key in &loc[1..] {
            node = match key {
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|i| node.get(i as usize))
                    .unwrap_or(&Value::Null),
                Value::String(s) => node.get(s).unwrap_or(&Value::Null),
                _ => &Value::Null,
            };
        }
        node.clone()
    };
    let message = strip_position(&inner.to_string());
    if message == "trailing characters" {
        let input = at(&loc);
        return ApiError::validation("too_long", loc, "List has too many items", input);
    }
    if let Some(field) = between(&message, "missing field `", "`") {
        let input = at(&loc);
        loc.push(json!(field));
        return ApiError::validation("missing", loc, "Field required", input);
    }
    let kind = classify(&message);
    let input = at(&loc);
    ApiError::validation(kind, loc, message, input)
}

pub(crate) fn classify(message: &str) -> &'static str {
    if message.starts_with("unknown variant") || message.contains("is not a widget type") {
        return "enum";
    }
    if let Some(expected) = message
        .strip_prefix("invalid type: ")
        .and_then(|m| m.split(", expected ").nth(1))
    {
        return if expected.contains("sequence") {
            "list_type"
        } else if expected.contains("string") {
            "string_type"
        } else if expected.contains("bool") {
            "bool_type"
        } else if expected.starts_with('u')
            || expected.starts_with('i')
            || expected.contains("integer")
        {
            "int_type"
        } else if expected.contains("map") || expected.contains("struct") {
            "model_attributes_type"
        } else {
            "type_error"
        };
    }
    "value_error"
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// Removes serde_json's " at line L column C" suffix.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// The byte offset of a 1-based line and column.
fn byte_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = bytes
        .split(|b| *b == b'\n')
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    (line_start + column.saturating_sub(1)).min(bytes.len())
}

/// A query string. A missing or malformed parameter is a 422 located at `["query", name]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if query.contains("%00") {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_str(query).unwrap_or_default();
            if let Some((name, value)) = pairs
                .into_iter()
                .find(|(name, value)| name.contains('\0') || value.contains('\0'))
            {
                return Err(ApiError::validation(
                    "string_nul",
                    vec![json!("query"), json!(name)],
                    NUL_MESSAGE,
                    json!(value),
                ));
            }
        }
        serde_urlencoded::from_str(query).map(Self).map_err(|err| {
            let message = err.to_string();
            match between(&message, "missing field `", "`") {
                Some(field) => ApiError::validation(
                    "missing",
                    vec![json!("query"), json!(field)],
                    "Field required",
                    Value::Null,
                ),
                None => {
                    ApiError::validation("value_error", vec![json!("query")], message, json!(query))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
        #[serde(default, deserialize_with = "pair_of_positive")]
        pair: Option<[u32; 2]>,
    }

    fn pair_of_positive<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<[u32; 2]>, D::Error> {
        let pair = <[u32; 2]>::deserialize(deserializer)?;
        if pair.contains(&0) {
            return Err(serde::de::Error::custom("must be positive"));
        }
        Ok(Some(pair))
    }

    fn issue(result: Result<Body, ApiError>) -> (String, Vec<Value>) {
        match result {
            Err(ApiError::Validation(mut issues)) => {
                let i = issues.remove(0);
                (i.kind, i.loc)
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn locates_each_kind_of_problem() {
        assert_eq!(
            issue(parse_json(br#"{"items": []}"#)),
            ("missing".to_owned(), vec![json!("body"), json!("name")])
        );
        assert_eq!(
            issue(parse_json(
                br#"{"name": "a", "items": [{"n": 1}, {"n": "x"}]}"#
            )),
            (
                "int_type".to_owned(),
                vec![json!("body"), json!("items"), json!(1), json!("n")]
            )
        );
        assert_eq!(
            issue(parse_json(br#"{"name": "a", "items": {}}"#)),
            ("list_type".to_owned(), vec![json!("body"), json!("items")])
        );
        assert_eq!(
            issue(parse_json(b"{\"name\": ")),
            ("json_invalid".to_owned(), vec![json!("body"), json!(9)])
        );
        assert_eq!(
            issue(parse_json(b"")),
            ("missing".to_owned(), vec![json!("body")])
        );
        assert!(parse_json::<Body>(br#"{"name": "a", "items": [], "extra": 1}"#).is_ok());
    }

    #[test]
    fn nul_in_any_string_or_key_is_refused_at_its_path() {
        assert_eq!(
            issue(parse_json(
                br#"{"name": "a", "items": [{"n": 1}], "extra": {"deep": ["ok", "b\u0000d"]}}"#
            )),
            (
                "string_nul".to_owned(),
                vec![json!("body"), json!("extra"), json!("deep"), json!(1)]
            )
        );
        assert_eq!(
            issue(parse_json(br#"{"name": "\u0000", "items": []}"#)),
            ("string_nul".to_owned(), vec![json!("body"), json!("name")])
        );
        assert_eq!(
            issue(parse_json(br#"{"name": "a", "items": [], "k\u0000": 1}"#)),
            ("string_nul".to_owned(), vec![json!("body"), json!("k\0")])
        );
        // An escaped backslash followed by `u0000` is six ordinary characters.
        assert!(parse_json::<Body>(br#"{"name": "\\u0000", "items": []}"#).is_ok());
    }

    #[test]
    fn well_formed_documents_are_located_by_field_path_never_by_offset() {
        // serde_json reports a list longer than a fixed-size field as a syntax error.
        assert_eq!(
            issue(parse_json(
                br#"{"name": "a", "items": [{"n": 1, "pair": [1, 2, 3]}]}"#
            )),
            (
                "too_long".to_owned(),
                vec![json!("body"), json!("items"), json!(0), json!("pair")]
            )
        );
        assert_eq!(
            issue(parse_json(
                br#"{"name": "a", "items": [{"n": 1, "pair": [1, 0]}]}"#
            )),
            (
                "value_error".to_owned(),
                vec![json!("body"), json!("items"), json!(0), json!("pair")]
            )
        );
        // A document that does not parse is located by offset, wherever the field error is.
        assert_eq!(
            issue(parse_json(br#"{"name": 1, "items": [}"#)),
            ("json_invalid".to_owned(), vec![json!("body"), json!(22)])
        );
    }
}
