//! "Did you mean" suggestions: the Ratcliff/Obershelp similarity of Python's
//! `difflib.SequenceMatcher` and `difflib.get_close_matches`, so suggestions match the
//! reference implementation's.

use std::collections::HashMap;

/// The similarity ratio `2·M / T` of `a` and `b`, where `M` counts the characters of the
/// matching blocks found by Ratcliff/Obershelp and `T` is the total length. Identical to
/// `SequenceMatcher(None, a, b).ratio()` for inputs shorter than 200 characters (where
/// Python's junk heuristic is off).
pub(crate) fn ratio(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    let mut b2j: HashMap<char, Vec<usize>> = HashMap::new();
    for (j, c) in b.iter().enumerate() {
        b2j.entry(*c).or_default().push(j);
    }
    let matches = matching_characters(&a, &b2j, 0, a.len(), 0, b.len());
    2.0 * matches as f64 / total as f64
}

/// The number of matched characters in `a[alo..ahi]` and `b[blo..bhi]`: the longest match,
/// plus (recursively) the matches left and right of it.
fn matching_characters(
    a: &[char],
    b2j: &HashMap<char, Vec<usize>>,
    alo: usize,
    ahi: usize,
    blo: usize,
    bhi: usize,
) -> usize {
    let (i, j, k) = longest_match(a, b2j, alo, ahi, blo, bhi);
    if k == 0 {
        return 0;
    }
    let mut total = k;
    if alo < i && blo < j {
        total += matching_characters(a, b2j, alo, i, blo, j);
    }
    if i + k < ahi && j + k < bhi {
        total += matching_characters(a, b2j, i + k, ahi, j + k, bhi);
    }
    total
}

/// `SequenceMatcher.find_longest_match` without junk: the longest common block, the earliest
/// in `a` on ties, then the earliest in `b`.
fn longest_match(
    a: &[char],
    b2j: &HashMap<char, Vec<usize>>,
    alo: usize,
    ahi: usize,
    blo: usize,
    bhi: usize,
) -> (usize, usize, usize) {
    let (mut best_i, mut best_j, mut best_size) = (alo, blo, 0);
    let mut j2len: HashMap<usize, usize> = HashMap::new();
    for (i, c) in a.iter().enumerate().take(ahi).skip(alo) {
        let mut next: HashMap<usize, usize> = HashMap::new();
        if let Some(positions) = b2j.get(c) {
            for &j in positions {
                if j < blo {
                    continue;
                }
                if j >= bhi {
                    break;
                }
                let k = j
                    .checked_sub(1)
                    .and_then(|p| j2len.get(&p))
                    .copied()
                    .unwrap_or(0)
                    + 1;
                next.insert(j, k);
                if k > best_size {
                    best_i = i + 1 - k;
                    best_j = j + 1 - k;
                    best_size = k;
                }
            }
        }
        j2len = next;
    }
    (best_i, best_j, best_size)
}

/// Up to `n` of `candidates` whose ratio to `word` is at least `cutoff`, best first (ties:
/// the greater string first), like `difflib.get_close_matches`.
pub(crate) fn close_matches<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
    cutoff: f64,
) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            // Python sets seq2 = word and seq1 = candidate.
            let score = ratio(c, word);
            (score >= cutoff).then_some((score, c))
        })
        .collect();
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then_with(|| y.1.cmp(x.1)));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

/// The suggestion text for `name` among `candidates`, compared in lower case and reported in
/// the candidates' own case: `Did you mean 'x'?`, `Did you mean one of: 'x', 'y'?`, or none.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut by_lower: HashMap<String, &str> = HashMap::new();
    for candidate in candidates {
        by_lower.insert(candidate.to_lowercase(), candidate);
    }
    let lowered: Vec<&str> = by_lower.keys().map(String::as_str).collect();
    let matches: Vec<&str> = close_matches(&name.to_lowercase(), lowered, 3, 0.6)
        .into_iter()
        .map(|m| by_lower[m])
        .collect();
    match matches.as_slice() {
        [] => None,
        [one] => Some(format!("Did you mean '{one}'?")),
        many => Some(format!(
            "Did you mean one of: {}?",
            many.iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_match_python() {
        // Values computed with difflib.SequenceMatcher(None, a, b).ratio().
        assert_eq!(ratio("abcd", "bcde"), 0.75);
        assert_eq!(ratio("orders", "order"), 2.0 * 5.0 / 11.0);
        assert_eq!(ratio("", ""), 1.0);
        assert_eq!(ratio("abc", "xyz"), 0.0);
        assert_eq!(
            ratio(
                "private Thread currentThread;",
                "private volatile Thread currentThread;"
            ),
            0.865_671_641_791_044_7
        );
    }

    #[test]
    fn close_matches_match_python() {
        // difflib.get_close_matches("appel", ["ape", "apple", "peach", "puppy"])
        assert_eq!(
            close_matches("appel", ["ape", "apple", "peach", "puppy"], 3, 0.6),
            ["apple", "ape"]
        );
        // difflib.get_close_matches("wheel", keyword.kwlist-like list)
        assert_eq!(
            close_matches("wheel", ["while", "with", "where", "else"], 3, 0.6),
            ["where", "while"]
        );
    }

    #[test]
    fn suggestions_have_the_reference_wording() {
        assert_eq!(
            suggest("order", ["customers", "orders", "products"]).as_deref(),
            Some("Did you mean 'orders'?")
        );
        assert_eq!(
            suggest("totl", ["id", "total", "status"]).as_deref(),
            Some("Did you mean 'total'?")
        );
        assert_eq!(
            suggest("crated_at", ["id", "created_at"]).as_deref(),
            Some("Did you mean 'created_at'?")
        );
        assert!(
            suggest("user", ["users", "orders"])
                .unwrap()
                .contains("users")
        );
        assert!(
            suggest("emails", ["id", "email", "name"])
                .unwrap()
                .contains("email")
        );
        assert_eq!(suggest("zzz", ["orders"]), None);
        assert_eq!(
            suggest("ORDERS", ["Orders"]).as_deref(),
            Some("Did you mean 'Orders'?")
        );
        assert_eq!(
            suggest("name", ["name1", "name2", "names"]).as_deref(),
            Some("Did you mean one of: 'names', 'name2', 'name1'?")
        );
    }
}
