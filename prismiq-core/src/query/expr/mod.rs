//! The calculated-field expression language: `[field]` references, numbers, double-quoted
//! strings, `+ - * /`, comparisons, parentheses, a fixed set of functions and the
//! `[field].concatenate()` method. It is parsed here and lowered to a sea-query expression;
//! nothing of the text reaches SQL except through sea-query's quoting (identifiers, string
//! literals) or as validated number literals.

use std::fmt;

use crate::Dialect;
use crate::dialect::{DatePart, DiffUnit};
use sea_query::{Expr, ExprTrait, Func};

/// Deeper nesting than this is refused (it would only come from a hostile input).
const MAX_DEPTH: usize = 64;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Add,
    Sub,
    Mul,
    Div,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// `[name]`.
    Field(String),
    /// A number literal as written (digits with at most one dot).
    Number(String),
    /// A string literal (unescaped).
    Str(String),
    /// `left op right`.
    Binary(Box<Node>, Op, Box<Node>),
    /// `name(args)`.
    Call(String, Vec<Node>),
    /// `[field].method()`.
    Method(String, String),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Field(String),
    Number(String),
    Str(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Dot,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(name) => write!(f, "[{name}]"),
            Self::Number(n) => f.write_str(n),
            Self::Str(s) => write!(f, "{s:?}"),
            Self::Ident(i) => f.write_str(i),
            Self::Op(op) => f.write_str(op),
            Self::LParen => f.write_str("("),
            Self::RParen => f.write_str(")"),
            Self::Comma => f.write_str(","),
            Self::Dot => f.write_str("."),
        }
    }
}

const OPERATORS: [&str; 11] = ["<=", ">=", "==", "!=", ">", "<", "=", "+", "-", "*", "/"];

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '[' {
            let end = chars[i + 1..]
                .iter()
                .position(|&c| c == ']')
                .ok_or_else(|| format!("Unterminated field reference at position {i}"))?;
            tokens.push(Token::Field(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            tokens.push(Token::Number(chars[start..i].iter().collect()));
        } else if c == '"' {
            let start = i;
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("Unterminated string at position {start}")),
                    Some('"') => break,
                    Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\')) => {
                        value.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            i += 1;
            tokens.push(Token::Str(value));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if let Some(token) = match c {
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            ',' => Some(Token::Comma),
            '.' => Some(Token::Dot),
            _ => None,
        } {
            tokens.push(token);
            i += 1;
        } else if let Some(op) = OPERATORS.iter().find(|op| {
            op.chars()
                .enumerate()
                .all(|(k, oc)| chars.get(i + k) == Some(&oc))
        }) {
            tokens.push(Token::Op(op));
            i += op.len();
        } else {
            let rest: String = chars[i..].iter().take(20).collect();
            return Err(format!("Invalid character at position {i}: {rest}"));
        }
    }
    Ok(tokens)
}

/// Parses an expression.
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("Empty expression".to_owned());
    }
    let mut parser = Parser { tokens, pos: 0 };
    let node = parser.expr(0)?;
    if parser.pos < parser.tokens.len() {
        let rest: Vec<String> = parser.tokens[parser.pos..]
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(format!(
            "Unexpected tokens after expression: [{}]",
            rest.join(", ")
        ));
    }
    Ok(node)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn binary_op(&self, ops: &[(&str, Op)]) -> Option<Op> {
        match self.peek() {
            Some(Token::Op(op)) => ops.iter().find(|(o, _)| o == op).map(|(_, op)| *op),
            _ => None,
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err("Expression is nested too deeply".to_owned());
        }
        self.level(depth, 0)
    }

    /// Left-associative binary levels: comparison, additive, multiplicative.
    fn level(&mut self, depth: usize, level: usize) -> Result<Node, String> {
        const LEVELS: [&[(&str, Op)]; 3] = [
            &[
                ("==", Op::Eq),
                ("=", Op::Eq),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
                (">=", Op::Ge),
                ("<=", Op::Le),
            ],
            &[("+", Op::Add), ("-", Op::Sub)],
            &[("*", Op::Mul), ("/", Op::Div)],
        ];
        let operand = |p: &mut Self| {
            if level + 1 < LEVELS.len() {
                p.level(depth, level + 1)
            } else {
                p.primary(depth)
            }
        };
        let mut left = operand(self)?;
        while let Some(op) = self.binary_op(LEVELS[level]) {
            self.pos += 1;
            let right = operand(self)?;
            left = Node::Binary(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self, depth: usize) -> Result<Node, String> {
        match self.next() {
            None => Err("Unexpected end of expression".to_owned()),
            Some(Token::Field(name)) => {
                if !self.eat(&Token::Dot) {
                    return Ok(Node::Field(name));
                }
                let Some(Token::Ident(method)) = self.next() else {
                    return Err("Expected method name after '.'".to_owned());
                };
                if !self.eat(&Token::LParen) {
                    return Err(format!("Expected '(' after method name '{method}'"));
                }
                if !self.eat(&Token::RParen) {
                    return Err(format!("Expected ')' after '{method}('"));
                }
                Ok(Node::Method(name, method))
            }
            Some(Token::Number(n)) => Ok(Node::Number(n)),
            Some(Token::Str(s)) => Ok(Node::Str(s)),
            Some(Token::Ident(name)) => {
                if !self.eat(&Token::LParen) {
                    return Err(format!("Unexpected identifier: {name}"));
                }
                let mut args = Vec::new();
                if self.eat(&Token::RParen) {
                    return Ok(Node::Call(name, args));
                }
                loop {
                    if self.peek().is_none() {
                        return Err(format!(
                            "Expected ')' after function arguments for '{name}'"
                        ));
                    }
                    args.push(self.expr(depth + 1)?);
                    self.eat(&Token::Comma);
                    if self.eat(&Token::RParen) {
                        return Ok(Node::Call(name, args));
                    }
                }
            }
            Some(Token::LParen) => {
                let inner = self.expr(depth + 1)?;
                if !self.eat(&Token::RParen) {
                    return Err("Expected ')' after expression".to_owned());
                }
                Ok(inner)
            }
            Some(token) => Err(format!("Unexpected token: {token}")),
        }
    }
}

/// What a `[field]` reference resolved to.
#[derive(Debug, Clone)]
pub(crate) struct FieldRef {
    /// Its SQL.
    pub(crate) expr: Expr,
    /// Whether it contains an aggregate.
    pub(crate) aggregates: bool,
    /// Whether it is a boolean column (compared with `0`/`1` as an integer).
    pub(crate) boolean: bool,
}

/// A lowered expression.
#[derive(Debug, Clone)]
pub(crate) struct Lowered {
    /// Its SQL.
    pub(crate) expr: Expr,
    /// Whether it contains an aggregate.
    pub(crate) aggregates: bool,
}

const AGGREGATE_PREFIXES: [(&str, &str); 6] = [
    ("Sum of ", "sum"),
    ("Average of ", "avg"),
    ("Count of ", "count"),
    ("Count Distinct of ", "count_distinct"),
    ("Min of ", "min"),
    ("Max of ", "max"),
];

fn aggregate(name: &str, arg: Expr) -> Expr {
    match name {
        "sum" => Func::sum(arg).into(),
        "avg" => Func::avg(arg).into(),
        "count" => Func::count(arg).into(),
        "count_distinct" => Func::count_distinct(arg).into(),
        "min" => Func::min(arg).into(),
        _ => Func::max(arg).into(),
    }
}

/// Lowers `node` to SQL, resolving `[field]` references with `resolve`.
pub(crate) fn lower(
    node: &Node,
    dialect: Dialect,
    resolve: &mut dyn FnMut(&str) -> Result<FieldRef, String>,
) -> Result<Lowered, String> {
    Lowerer { dialect, resolve }.lower(node)
}

struct Lowerer<'r> {
    dialect: Dialect,
    resolve: &'r mut dyn FnMut(&str) -> Result<FieldRef, String>,
}

impl Lowerer<'_> {
    fn field(&mut self, name: &str) -> Result<FieldRef, String> {
        match (self.resolve)(name) {
            Ok(field) => Ok(field),
            Err(err) => {
                for (prefix, function) in AGGREGATE_PREFIXES {
                    if let Some(rest) = name.strip_prefix(prefix)
                        && let Ok(inner) = (self.resolve)(rest)
                    {
                        return Ok(FieldRef {
                            expr: aggregate(function, inner.expr),
                            aggregates: true,
                            boolean: false,
                        });
                    }
                }
                Err(err)
            }
        }
    }

    fn lower(&mut self, node: &Node) -> Result<Lowered, String> {
        let plain = |expr: Expr| Lowered {
            expr,
            aggregates: false,
        };
        match node {
            Node::Field(name) => {
                let field = self.field(name)?;
                Ok(Lowered {
                    expr: field.expr,
                    aggregates: field.aggregates,
                })
            }
            Node::Number(text) => Ok(plain(number(text))),
            Node::Str(text) => Ok(plain(Expr::Constant(text.as_str().into()))),
            Node::Binary(left, op, right) => self.binary(left, *op, right),
            Node::Method(name, method) => {
                if !method.eq_ignore_ascii_case("concatenate") {
                    return Err(format!(
                        "Unknown method '{method}'; the only method is concatenate()"
                    ));
                }
                let field = self.field(name)?;
                Ok(Lowered {
                    expr: Func::coalesce([field.expr.cast_as("text"), Expr::Constant("".into())])
                        .into(),
                    aggregates: field.aggregates,
                })
            }
            Node::Call(name, args) => self.call(name, args),
        }
    }

    fn binary(&mut self, left: &Node, op: Op, right: &Node) -> Result<Lowered, String> {
        let side = |this: &mut Self, node: &Node, other: &Node| -> Result<Lowered, String> {
            let flag = matches!(other, Node::Number(n) if n == "0" || n == "1");
            if let (Node::Field(name), true, Op::Eq | Op::Ne) = (node, flag, op) {
                let field = this.field(name)?;
                let expr = if field.boolean {
                    field.expr.cast_as("integer")
                } else {
                    field.expr
                };
                return Ok(Lowered {
                    expr,
                    aggregates: field.aggregates,
                });
            }
            this.lower(node)
        };
        let l = side(self, left, right)?;
        let r = side(self, right, left)?;
        let expr = match op {
            Op::Eq => l.expr.eq(r.expr),
            Op::Ne => l.expr.ne(r.expr),
            Op::Gt => l.expr.gt(r.expr),
            Op::Lt => l.expr.lt(r.expr),
            Op::Ge => l.expr.gte(r.expr),
            Op::Le => l.expr.lte(r.expr),
            Op::Add => l.expr.add(r.expr),
            Op::Sub => l.expr.sub(r.expr),
            Op::Mul => l.expr.mul(r.expr),
            Op::Div => l.expr.div(r.expr),
        };
        Ok(Lowered {
            expr,
            aggregates: l.aggregates || r.aggregates,
        })
    }

    fn call(&mut self, name: &str, args: &[Node]) -> Result<Lowered, String> {
        let function = name.to_ascii_lowercase();
        let arity = |min: usize, max: usize| {
            if args.len() < min || args.len() > max {
                let expected = if min == max {
                    format!("{min}")
                } else if max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                };
                Err(format!(
                    "Function '{name}' takes {expected} argument(s), got {}",
                    args.len()
                ))
            } else {
                Ok(())
            }
        };
        let mut lowered = Vec::with_capacity(args.len());
        let check = match function.as_str() {
            "if" => arity(3, 3),
            "sum" | "avg" | "count" | "min" | "max" | "year" | "month" | "day" | "abs"
            | "lower" | "upper" | "length" => arity(1, 1),
            "find" => arity(2, 2),
            "today" => arity(0, 0),
            "date" => arity(3, 6),
            "concatenate" | "coalesce" => arity(1, usize::MAX),
            "datediff" => arity(2, 3),
            "round" => arity(1, 2),
            _ => {
                return Err(format!(
                    "Unknown function '{name}'. Available functions: if, sum, avg, count, min, \
                     max, find, today, year, month, day, date, concatenate, datediff, coalesce, \
                     abs, round, lower, upper, length"
                ));
            }
        };
        check?;
        // datediff's unit is a literal, not an operand.
        let operands = if function == "datediff" {
            &args[..2]
        } else {
            args
        };
        for arg in operands {
            lowered.push(self.lower(arg)?);
        }
        let aggregates = lowered.iter().any(|l| l.aggregates)
            || matches!(function.as_str(), "sum" | "avg" | "count" | "min" | "max");
        let mut exprs: Vec<Expr> = lowered.into_iter().map(|l| l.expr).collect();
        let expr = match function.as_str() {
            "if" => {
                let otherwise = exprs.pop().expect("three arguments");
                let then = exprs.pop().expect("three arguments");
                let condition = exprs.pop().expect("three arguments");
                Expr::case(condition, then).finally(otherwise).into()
            }
            "sum" | "avg" | "count" | "min" | "max" => {
                aggregate(&function, exprs.pop().expect("one argument"))
            }
            "find" => {
                let haystack = exprs.pop().expect("two arguments");
                let needle = exprs.pop().expect("two arguments");
                self.dialect.position(needle, haystack)
            }
            "today" => self.dialect.today(),
            "year" | "month" | "day" => {
                let part = match function.as_str() {
                    "year" => DatePart::Year,
                    "month" => DatePart::Month,
                    _ => DatePart::Day,
                };
                self.dialect
                    .date_part(part, exprs.pop().expect("one argument"))
            }
            "date" => {
                while exprs.len() < 6 {
                    exprs.push(Expr::Constant(0i64.into()));
                }
                self.dialect.make_timestamp(exprs)
            }
            "concatenate" => {
                let template = (1..=exprs.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(" || ");
                self.dialect.custom(format!("({template})"), exprs)
            }
            "datediff" => {
                let end = exprs.pop().expect("two arguments");
                let start = exprs.pop().expect("two arguments");
                self.dialect.datediff(diff_unit(args.get(2)), start, end)
            }
            "coalesce" => Func::coalesce(exprs).into(),
            "abs" => Func::abs(exprs.pop().expect("one argument")).into(),
            "round" => {
                let mut it = exprs.into_iter();
                let value = it.next().expect("one argument");
                self.dialect.round(value, it.next())
            }
            "lower" => Func::lower(exprs.pop().expect("one argument")).into(),
            "upper" => Func::upper(exprs.pop().expect("one argument")).into(),
            _ => Func::char_length(exprs.pop().expect("one argument").cast_as("text")).into(),
        };
        Ok(Lowered { expr, aggregates })
    }
}

/// A validated number literal (digits with at most one dot), written inline.
fn number(text: &str) -> Expr {
    if !text.contains('.')
        && let Ok(integer) = text.parse::<i64>()
    {
        return Expr::Constant(integer.into());
    }
    match text.parse::<f64>() {
        // Written by sea-query with the shortest exact representation.
        Ok(float) if float.fract() != 0.0 && float.is_finite() => Expr::Constant(float.into()),
        // A whole number written with a dot keeps its dot, so division stays fractional.
        _ => {
            debug_assert!(text.chars().all(|c| c.is_ascii_digit() || c == '.'));
            let text = text.strip_suffix('.').unwrap_or(text);
            let text = if text.contains('.') {
                text.to_owned()
            } else {
                format!("{text}.0")
            };
            Expr::cust(text)
        }
    }
}

/// The unit named by datediff's optional string literal (days by default).
fn diff_unit(unit: Option<&Node>) -> DiffUnit {
    let unit = match unit {
        Some(Node::Str(unit)) => unit.to_ascii_lowercase(),
        _ => return DiffUnit::Day,
    };
    match unit.as_str() {
        "m" | "month" | "months" => DiffUnit::Month,
        "y" | "year" | "years" => DiffUnit::Year,
        "h" | "hour" | "hours" => DiffUnit::Hour,
        "mi" | "minute" | "minutes" => DiffUnit::Minute,
        "s" | "second" | "seconds" => DiffUnit::Second,
        _ => DiffUnit::Day,
    }
}

#[cfg(test)]
mod tests;
