//! The accepted name nearest to a mistyped one, for the "did you mean"
//! of an error message. A leaf below every layer: the scenario's field and
//! type names use it, and so do the environment's Kafka names
//! (`env::fault::kafka`), which the scenario layer reads.

/// `, did you mean `x`?` when a candidate is close, else `;`, to go
/// between "unknown ..." and "accepted: ...".
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map_or_else(|| ";".to_string(), |n| format!(", did you mean `{n}`?"))
}

/// The accepted name nearest to `word`, if it is near enough to be a typo
/// (or one is a prefix of the other, as with `fault` and `faults`).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&word_lower, &c.to_lowercase()), c))
        .filter(|(d, c)| {
            let n = c.chars().count().max(word.chars().count());
            *d <= 2.max(n / 3) || (word.len() >= 3 && (c.starts_with(word_lower.as_str()) || word_lower.starts_with(*c)))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance, by hand to avoid a dependency for one use (strsim's
/// `levenshtein` would do the same).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(levenshtein("mesages", "messages"), 1);
        assert_eq!(closest("mesages", ["messages", "rate"]), Some("messages"));
        assert_eq!(closest("dupliactes", ["duplicates", "lost"]), Some("duplicates"));
        assert_eq!(closest("fault", ["faults", "expect"]), Some("faults"));
        assert_eq!(closest("zzz", ["messages", "rate"]), None);
    }
}
