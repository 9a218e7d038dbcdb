//! Exemptions: schedules an operator has decided this rule should not judge, by tag or by name.
//! An exempt schedule is reported NOT_APPLICABLE with the exemption that applied, so an exemption
//! is always visible in Config rather than a silent gap.

use std::collections::BTreeMap;

/// `ExemptTag`: a tag key, or `key=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMatch {
    pub key: String,
    pub value: Option<String>,
}

impl TagMatch {
    pub fn parse(text: &str) -> Option<TagMatch> {
        let (key, value) = match text.split_once('=') {
            Some((key, value)) => (key.trim(), Some(value.trim().to_owned())),
            None => (text.trim(), None),
        };
        (!key.is_empty()).then(|| TagMatch {
            key: key.to_owned(),
            value,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    pub tag: Option<TagMatch>,
    /// `ExemptNamePatterns`: globs where `*` is any run of characters and `?` any one.
    pub patterns: Vec<String>,
}

impl Exemptions {
    /// Tags are read (ListTags during sweeps) only when an exemption tag is configured.
    pub fn needs_tags(&self) -> bool {
        self.tag.is_some()
    }

    /// The annotation for an exempt schedule, or `None` when it is not exempt.
    pub fn by_name(&self, name: &str) -> Option<String> {
        self.patterns
            .iter()
            .find(|pattern| glob(pattern, name))
            .map(|pattern| {
                format!("Exempt from SageMaker.14 by this rule's ExemptNamePatterns: the name matches '{pattern}'.")
            })
    }

    pub fn by_tags(&self, tags: &BTreeMap<String, String>) -> Option<String> {
        let tag = self.tag.as_ref()?;
        let value = tags.get(&tag.key)?;
        match &tag.value {
            Some(wanted) if wanted != value => None,
            Some(wanted) => Some(format!(
                "Exempt from SageMaker.14 by this rule's ExemptTag: the schedule is tagged {}={wanted}.",
                tag.key
            )),
            None => Some(format!(
                "Exempt from SageMaker.14 by this rule's ExemptTag: the schedule carries the tag {} ({value}).",
                tag.key
            )),
        }
    }
}

/// Matches `*` and `?` wildcards over characters, without backtracking blow-ups.
pub fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_shells_do() {
        assert!(glob("test-*", "test-churn"));
        assert!(glob("*-sandbox", "churn-sandbox"));
        assert!(glob("a?c", "abc"));
        assert!(glob("*", ""));
        assert!(glob("*a*b*", "xxaxxbxx"));
        assert!(!glob("test-*", "prod-test-churn"));
        assert!(!glob("a?c", "ac"));
        assert!(!glob("abc", "abcd"));
        assert!(glob(&"*a".repeat(20), &"a".repeat(40)));
        assert!(!glob(&"*a".repeat(20), &format!("{}b", "a".repeat(40))));
    }

    #[test]
    fn tags_match_by_key_or_key_and_value() {
        let tags = BTreeMap::from([("compliance-exempt".to_owned(), "SEC-1234".to_owned())]);
        let by_key = Exemptions {
            tag: TagMatch::parse("compliance-exempt"),
            ..Exemptions::default()
        };
        let annotation = by_key.by_tags(&tags).unwrap();
        assert!(
            annotation.contains("compliance-exempt (SEC-1234)"),
            "{annotation}"
        );
        let by_value = Exemptions {
            tag: TagMatch::parse("compliance-exempt = SEC-1234"),
            ..Exemptions::default()
        };
        assert!(
            by_value
                .by_tags(&tags)
                .unwrap()
                .contains("compliance-exempt=SEC-1234")
        );
        let other_value = Exemptions {
            tag: TagMatch::parse("compliance-exempt=SEC-9"),
            ..Exemptions::default()
        };
        assert_eq!(other_value.by_tags(&tags), None);
        assert_eq!(by_key.by_tags(&BTreeMap::new()), None);
        assert_eq!(TagMatch::parse(" ="), None);
    }

    #[test]
    fn names_say_which_pattern_applied() {
        let exemptions = Exemptions {
            patterns: vec!["sandbox-*".into(), "*-scratch".into()],
            ..Exemptions::default()
        };
        assert!(
            exemptions
                .by_name("x-scratch")
                .unwrap()
                .contains("'*-scratch'")
        );
        assert_eq!(exemptions.by_name("prod"), None);
        assert!(!exemptions.needs_tags());
    }
}
