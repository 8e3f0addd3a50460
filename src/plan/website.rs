//! The bucket's website configuration, pure: how the configuration the rules file asks for
//! differs from the bucket's.
//!
//! Owns: the difference, as before/after lines a dry run shows. Must not: read or write the
//! bucket (the run step does, and applies the configuration only when this finds a difference).

use crate::content::website::{RoutingRule, Website};
use crate::plan::repair::Change;

/// What changes when `want` replaces `now` (`None`: the bucket is not a website); empty when
/// they are the same.
pub fn diff(now: Option<&Website>, want: &Website) -> Vec<Change> {
    let empty = Website::default();
    let now = now.unwrap_or(&empty);
    let mut changes = Vec::new();
    let mut field = |name: &str, a: Option<String>, b: Option<String>| {
        if a != b {
            changes.push(Change {
                header: name.to_string(),
                before: a,
                after: b,
            });
        }
    };
    field(
        "IndexDocument",
        now.index_document.clone(),
        want.index_document.clone(),
    );
    field(
        "ErrorDocument",
        now.error_document.clone(),
        want.error_document.clone(),
    );
    field(
        "RoutingRules",
        rules(&now.routing_rules),
        rules(&want.routing_rules),
    );
    changes
}

/// Routing rules on one line: `docs/ -> documents/ (301); 404 -> https://example.com/`.
fn rules(rules: &[RoutingRule]) -> Option<String> {
    if rules.is_empty() {
        return None;
    }
    let shown: Vec<String> = rules
        .iter()
        .map(|r| {
            let mut when = Vec::new();
            when.extend(
                r.key_prefix_equals
                    .as_deref()
                    .map(|p| format!("prefix {p}")),
            );
            when.extend(
                r.http_error_code_returned_equals
                    .as_deref()
                    .map(|c| format!("error {c}")),
            );
            let mut to = String::new();
            if let Some(p) = &r.protocol {
                to.push_str(&format!("{p}://"));
            }
            if let Some(h) = &r.host_name {
                to.push_str(h);
            }
            if let Some(p) = &r.replace_key_prefix_with {
                to.push_str(&format!("/{p}*"));
            }
            if let Some(k) = &r.replace_key_with {
                to.push_str(&format!("/{k}"));
            }
            let code = r
                .http_redirect_code
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            format!("{} -> {to}{code}", when.join(" and "))
        })
        .collect();
    Some(shown.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Website {
        Website {
            index_document: Some("index.html".into()),
            error_document: Some("404.html".into()),
            routing_rules: vec![RoutingRule {
                key_prefix_equals: Some("docs/".into()),
                replace_key_prefix_with: Some("documents/".into()),
                http_redirect_code: Some("301".into()),
                ..RoutingRule::default()
            }],
        }
    }

    #[test]
    fn the_same_configuration_changes_nothing_and_a_new_one_everything_it_sets() {
        assert!(diff(Some(&site()), &site()).is_empty());
        let all = diff(None, &site());
        let names: Vec<&str> = all.iter().map(|c| c.header.as_str()).collect();
        assert_eq!(names, ["IndexDocument", "ErrorDocument", "RoutingRules"]);
        assert_eq!(
            all[2].after.as_deref(),
            Some("prefix docs/ -> /documents/* (301)")
        );
        let mut other = site();
        other.error_document = Some("missing.html".into());
        let d = diff(Some(&site()), &other);
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].to_string(),
            "ErrorDocument: '404.html' -> 'missing.html'"
        );
    }
}
