//! Light and dark colours.

use std::fmt;
use std::str::FromStr;

/// The colours a picture or page is drawn in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Theme {
    /// Dark text on white.
    #[default]
    Light,
    /// Light text on a dark background.
    Dark,
}

impl Theme {
    /// `light` or `dark`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    pub(crate) fn palette(self) -> &'static Palette {
        match self {
            Self::Light => &LIGHT,
            Self::Dark => &DARK,
        }
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Theme {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "light" => Ok(Self::Light),
            "dark" => Ok(Self::Dark),
            other => Err(format!("theme must be `light` or `dark`, got {other:?}")),
        }
    }
}

/// The colours of one theme.
#[derive(Debug)]
pub(crate) struct Palette {
    pub(crate) background: &'static str,
    pub(crate) card: &'static str,
    pub(crate) border: &'static str,
    pub(crate) text: &'static str,
    pub(crate) muted: &'static str,
    pub(crate) grid: &'static str,
    pub(crate) axis: &'static str,
    pub(crate) up: &'static str,
    pub(crate) down: &'static str,
    pub(crate) error: &'static str,
    pub(crate) stripe: &'static str,
    pub(crate) series: [&'static str; 10],
}

const SERIES: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

static LIGHT: Palette = Palette {
    background: "#f5f6f8",
    card: "#ffffff",
    border: "#dde1e6",
    text: "#1f2933",
    muted: "#616e7c",
    grid: "#e4e7eb",
    axis: "#9aa5b1",
    up: "#2f855a",
    down: "#c53030",
    error: "#c53030",
    stripe: "#f5f7fa",
    series: SERIES,
};

static DARK: Palette = Palette {
    background: "#12161c",
    card: "#1c222b",
    border: "#2d3540",
    text: "#e4e7eb",
    muted: "#9aa5b1",
    grid: "#2d3540",
    axis: "#616e7c",
    up: "#68d391",
    down: "#fc8181",
    error: "#fc8181",
    stripe: "#212833",
    series: [
        "#6f9fd8", "#ffa94d", "#74c069", "#ff7b7d", "#8fd3cd", "#f6d860", "#c99bc0", "#ffb8c1",
        "#c49a7f", "#cfc6c2",
    ],
};

/// A colour from a widget's config, if it is one this renderer writes as it is: `#rgb`,
/// `#rrggbb`, `#rrggbbaa` or a CSS colour keyword (letters only). Anything else — `url(…)`,
/// expressions, quotes — is not a colour and the theme's colour is used.
pub(crate) fn safe_color(candidate: &str) -> Option<&str> {
    let hex = candidate.strip_prefix('#').is_some_and(|digits| {
        matches!(digits.len(), 3 | 6 | 8) && digits.bytes().all(|b| b.is_ascii_hexdigit())
    });
    let keyword =
        (3..=20).contains(&candidate.len()) && candidate.bytes().all(|b| b.is_ascii_alphabetic());
    (hex || keyword).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_colours_pass() {
        assert_eq!(safe_color("#ff0000"), Some("#ff0000"));
        assert_eq!(safe_color("teal"), Some("teal"));
        for hostile in [
            "url(https://x/y)",
            "red;fill:url(#a)",
            "\"onload=",
            "#12345",
            "expression(alert(1))",
        ] {
            assert_eq!(safe_color(hostile), None, "{hostile}");
        }
    }
}
