//! The tokens of Rust source that the layer check reads: names, `::`,
//! braces, commas and semicolons, each with its line; comments, strings and
//! character literals are dropped, so a path in them does not count.

#[derive(Debug, PartialEq)]
pub(crate) enum Token {
    Ident(String),
    Path,
    Open,
    Close,
    Comma,
    Semicolon,
    Other,
}

/// The tokens of Rust source that matter here, with the line of each;
/// comments, strings and characters are dropped.
pub(crate) fn tokens(source: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = source.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            line += usize::from(c == '\n');
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == '"' || ((c == 'r' || c == 'b') && matches!((at(i + 1), at(i + 2)), ('"', _) | ('#', _) | ('r', '"') | ('r', '#'))) {
            // A string: plain, byte, or raw with any number of #.
            let mut j = i;
            while chars[j] != '"' && chars[j] != '#' {
                j += 1;
            }
            let raw = j > i && chars[j - 1] == 'r';
            let hashes = chars[j..].iter().take_while(|&&h| h == '#').count();
            if !raw && hashes > 0 {
                // `r#ident`, `b#`...: not a string.
                out.push((Token::Other, line));
                i += 1;
                continue;
            }
            i = j + hashes + 1;
            while i < chars.len() {
                if !raw && chars[i] == '\\' {
                    // A line continuation still ends a line.
                    line += usize::from(at(i + 1) == '\n');
                    i += 2;
                    continue;
                }
                line += usize::from(chars[i] == '\n');
                if chars[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if c == '\'' {
            // A character literal, or a lifetime (left as nothing).
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), line));
        } else {
            let token = match c {
                ':' if at(i + 1) == ':' => Token::Path,
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                ';' => Token::Semicolon,
                _ => Token::Other,
            };
            i += if token == Token::Path { 2 } else { 1 };
            out.push((token, line));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_through_strings_and_comments() {
        let source = "// crate::a\nlet s = \"x \\\n y\";\n/* crate::b\n */ crate";
        let found: Vec<_> = tokens(source).into_iter().filter(|(t, _)| *t == Token::Ident("crate".into())).collect();
        assert_eq!(found, [(Token::Ident("crate".into()), 5)]);
    }
}
