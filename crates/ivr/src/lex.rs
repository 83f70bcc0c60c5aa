//! The lexer: script text to tokens with line and column.

use crate::error::{Loc, ParseError};

/// One token of script text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name: letters, digits, `_`, `-`, `.`, starting with a letter or `_`.
    Ident(String),
    /// A double-quoted string.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A duration such as `5s`, `500ms`, `2min`, in ms.
    Dur(u64),
    /// A clock time `09:30`, in minutes after midnight.
    Time(u32),
    /// A date `2026-10-01`.
    Date(u16, u8, u8),
    /// Punctuation or an operator.
    Sym(&'static str),
    /// End of a line.
    Newline,
    /// End of the file.
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Ident(s) => format!("`{s}`"),
            Self::Str(s) => format!("\"{s}\""),
            Self::Int(n) => format!("number {n}"),
            Self::Dur(ms) => format!("duration {ms}ms"),
            Self::Time(m) => format!("time {:02}:{:02}", m / 60, m % 60),
            Self::Date(y, m, d) => format!("date {y:04}-{m:02}-{d:02}"),
            Self::Sym(s) => format!("`{s}`"),
            Self::Newline => "end of line".into(),
            Self::Eof => "end of file".into(),
        }
    }
}

/// A token and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) loc: Loc,
}

const SYMS: [&str; 16] = [
    "==", "!=", "<=", ">=", "->", "..", "<", ">", "=", "+", ":", ",", "(", ")", "-", "*",
];

/// Splits `text` (file number `file`) into tokens; `#` starts a comment to the end of the line.
pub(crate) fn lex(text: &str, file: u16) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut line = 1u32;
    let mut col = 1u32;
    let bump = |i: &mut usize, col: &mut u32, n: usize| {
        *i += n;
        *col += n as u32;
    };
    while i < chars.len() {
        let c = chars[i];
        let loc = Loc { file, line, col };
        if c == '\n' {
            if !matches!(
                out.last(),
                Some(Token {
                    tok: Tok::Newline,
                    ..
                }) | None
            ) {
                out.push(Token {
                    tok: Tok::Newline,
                    loc,
                });
            }
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c == '\u{feff}' || c.is_whitespace() {
            bump(&mut i, &mut col, 1);
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '"' {
            let mut s = String::new();
            bump(&mut i, &mut col, 1);
            loop {
                match chars.get(i) {
                    None | Some('\n') => {
                        return Err(ParseError::new(loc, "this string has no closing `\"`")
                            .hint("strings end on the same line with a double quote"));
                    }
                    Some('"') => {
                        bump(&mut i, &mut col, 1);
                        break;
                    }
                    Some('\\') => {
                        let e = chars.get(i + 1).copied().unwrap_or(' ');
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                        bump(&mut i, &mut col, 2);
                    }
                    Some(&ch) => {
                        s.push(ch);
                        bump(&mut i, &mut col, 1);
                    }
                }
            }
            out.push(Token {
                tok: Tok::Str(s),
                loc,
            });
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let n = digits.len();
            // Date NNNN-NN-NN
            if n == 4
                && is_digits(&chars, i + 1, 2)
                && chars.get(i) == Some(&'-')
                && chars.get(i + 3) == Some(&'-')
                && is_digits(&chars, i + 4, 2)
            {
                let y: u16 = digits.parse().unwrap_or(0);
                let m: u8 = two(&chars, i + 1);
                let d: u8 = two(&chars, i + 4);
                if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
                    return Err(ParseError::new(loc, "this date has no such month or day")
                        .hint("dates are written 2026-10-01"));
                }
                i += 6;
                col += (i - start) as u32;
                out.push(Token {
                    tok: Tok::Date(y, m, d),
                    loc,
                });
                continue;
            }
            // Time HH:MM
            if n <= 2
                && chars.get(i) == Some(&':')
                && is_digits(&chars, i + 1, 2)
                && !chars.get(i + 3).is_some_and(|c| c.is_ascii_digit())
            {
                let h: u32 = digits.parse().unwrap_or(99);
                let m: u32 = two(&chars, i + 1).into();
                if h > 24 || m > 59 || (h == 24 && m != 0) {
                    return Err(ParseError::new(loc, "this time of day does not exist")
                        .hint("times are written 09:30, from 00:00 to 24:00"));
                }
                i += 3;
                col += (i - start) as u32;
                out.push(Token {
                    tok: Tok::Time(h * 60 + m),
                    loc,
                });
                continue;
            }
            let Ok(value) = digits.parse::<i64>() else {
                return Err(ParseError::new(loc, "this number is too large")
                    .hint("write long digit strings such as phone numbers in quotes"));
            };
            // Duration suffix.
            let ustart = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit: String = chars[ustart..i].iter().collect();
            col += (i - start) as u32;
            let v = value as u64;
            let tok = match unit.as_str() {
                "" => Tok::Int(value),
                "ms" => Tok::Dur(v),
                "s" => Tok::Dur(v.saturating_mul(1000)),
                "min" | "m" => Tok::Dur(v.saturating_mul(60_000)),
                _ => {
                    return Err(ParseError::new(
                        loc,
                        format!("unknown unit `{unit}` after a number"),
                    )
                    .hint("durations are written 500ms, 5s or 2min"));
                }
            };
            out.push(Token { tok, loc });
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() {
                let d = chars[i];
                let cont = d.is_alphanumeric()
                    || d == '_'
                    || ((d == '-' || d == '.')
                        && chars
                            .get(i + 1)
                            .is_some_and(|n| n.is_alphanumeric() || *n == '_'));
                if !cont {
                    break;
                }
                i += 1;
            }
            col += (i - start) as u32;
            out.push(Token {
                tok: Tok::Ident(chars[start..i].iter().collect()),
                loc,
            });
            continue;
        }
        let rest2: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        if let Some(sym) = SYMS.iter().find(|s| rest2.starts_with(**s)) {
            bump(&mut i, &mut col, sym.chars().count());
            out.push(Token {
                tok: Tok::Sym(sym),
                loc,
            });
            continue;
        }
        let hint = match c {
            '“' | '”' => "use straight double quotes \" around text",
            '：' => "use an ASCII colon `:`",
            '，' => "use an ASCII comma `,`",
            '\'' => "strings use double quotes \"like this\"",
            _ => {
                "only names, numbers, \"strings\", times, dates and = == != < <= > >= + : , ( ) -> are allowed"
            }
        };
        return Err(ParseError::new(loc, format!("unexpected character `{c}`")).hint(hint));
    }
    if !matches!(
        out.last(),
        Some(Token {
            tok: Tok::Newline,
            ..
        }) | None
    ) {
        out.push(Token {
            tok: Tok::Newline,
            loc: Loc { file, line, col },
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        loc: Loc { file, line, col },
    });
    Ok(out)
}

fn is_digits(chars: &[char], at: usize, n: usize) -> bool {
    (at..at + n).all(|k| chars.get(k).is_some_and(|c| c.is_ascii_digit()))
}

fn two(chars: &[char], at: usize) -> u8 {
    let a = chars[at].to_digit(10).unwrap_or(0);
    let b = chars[at + 1].to_digit(10).unwrap_or(0);
    (a * 10 + b) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s, 0).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_the_pieces() {
        assert_eq!(
            toks("timeout 5s # comment\nhours 09:00-21:00 2026-10-01 order.status zh-CN \"欢迎\""),
            vec![
                Tok::Ident("timeout".into()),
                Tok::Dur(5000),
                Tok::Newline,
                Tok::Ident("hours".into()),
                Tok::Time(540),
                Tok::Sym("-"),
                Tok::Time(1260),
                Tok::Date(2026, 10, 1),
                Tok::Ident("order.status".into()),
                Tok::Ident("zh-CN".into()),
                Tok::Str("欢迎".into()),
                Tok::Newline,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = lex("play \"a\"\n  play “b”", 0).unwrap_err();
        assert_eq!((e.loc.line, e.loc.col), (2, 8));
        assert!(e.hint.unwrap().contains("straight"));
        let e = lex("x = \"open", 0).unwrap_err();
        assert_eq!((e.loc.line, e.loc.col), (1, 5));
    }
}
