//! A bucket's website configuration in S3's model: index and error documents and routing rules,
//! and the limits S3 puts on them.
//!
//! Owns: the types the rules file, the planner and the S3 adapter share, and their validation.
//! Must not: read or write a bucket (that is the store) or decide when to apply one (`plan`).

/// A bucket website configuration (as `[website]` in `s3site.toml` writes it).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Website {
    /// The object served for a folder (`index.html`).
    pub index_document: Option<String>,
    /// The object served with a 4xx error (`404.html`).
    pub error_document: Option<String>,
    /// Redirect rules, in order.
    #[serde(default)]
    pub routing_rules: Vec<RoutingRule>,
}

/// One routing rule: a condition and a redirect.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// Condition: the key starts with this.
    pub key_prefix_equals: Option<String>,
    /// Condition: the error code the request would return (`404`).
    pub http_error_code_returned_equals: Option<String>,
    /// Redirect: to this host.
    pub host_name: Option<String>,
    /// Redirect: with this protocol (`http`, `https`).
    pub protocol: Option<String>,
    /// Redirect: replacing the matched prefix with this.
    pub replace_key_prefix_with: Option<String>,
    /// Redirect: to this key.
    pub replace_key_with: Option<String>,
    /// Redirect: with this status (`301`, `302`...).
    pub http_redirect_code: Option<String>,
}

/// Most routing rules S3 takes.
pub const MAX_ROUTING_RULES: usize = 50;

impl Website {
    /// Checks what S3 would refuse, before any request.
    pub fn check(&self) -> Result<(), String> {
        match &self.index_document {
            None if self.error_document.is_some() || !self.routing_rules.is_empty() => {
                return Err(
                    "[website] needs index_document for an error_document or routing \
                            rules"
                        .into(),
                );
            }
            Some(i) if i.is_empty() || i.contains('/') => {
                return Err(format!(
                    "[website] index_document '{i}' must be a file name, without '/'"
                ));
            }
            _ => {}
        }
        if self.routing_rules.len() > MAX_ROUTING_RULES {
            return Err(format!(
                "[website] has {} routing rules; S3 takes at most {MAX_ROUTING_RULES}",
                self.routing_rules.len()
            ));
        }
        for (n, r) in self.routing_rules.iter().enumerate() {
            let n = n + 1;
            if r.replace_key_prefix_with.is_some() && r.replace_key_with.is_some() {
                return Err(format!(
                    "routing rule {n}: replace_key_prefix_with and replace_key_with exclude each \
                     other"
                ));
            }
            if let Some(code) = &r.http_redirect_code
                && !(code.len() == 3
                    && code.starts_with('3')
                    && code.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(format!(
                    "routing rule {n}: http_redirect_code '{code}' is not a 3xx code"
                ));
            }
            if let Some(p) = &r.protocol
                && p != "http"
                && p != "https"
            {
                return Err(format!(
                    "routing rule {n}: protocol '{p}' is not http or https"
                ));
            }
            let redirects = r.host_name.is_some()
                || r.protocol.is_some()
                || r.replace_key_prefix_with.is_some()
                || r.replace_key_with.is_some()
                || r.http_redirect_code.is_some();
            if !redirects {
                return Err(format!("routing rule {n}: it redirects nowhere"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_s3_would_refuse_is_refused_first() {
        let ok = Website {
            index_document: Some("index.html".into()),
            error_document: Some("404.html".into()),
            routing_rules: vec![RoutingRule {
                key_prefix_equals: Some("docs/".into()),
                replace_key_prefix_with: Some("documents/".into()),
                http_redirect_code: Some("301".into()),
                ..RoutingRule::default()
            }],
        };
        assert_eq!(ok.check(), Ok(()));
        let mut w = ok.clone();
        w.index_document = None;
        assert!(w.check().unwrap_err().contains("needs index_document"));
        let mut w = ok.clone();
        w.routing_rules[0].http_redirect_code = Some("404".into());
        assert!(w.check().unwrap_err().contains("not a 3xx"));
        let mut w = ok.clone();
        w.routing_rules = vec![ok.routing_rules[0].clone(); 51];
        assert!(w.check().unwrap_err().contains("at most 50"));
        let mut w = ok;
        w.routing_rules[0] = RoutingRule {
            key_prefix_equals: Some("a/".into()),
            ..RoutingRule::default()
        };
        assert!(w.check().unwrap_err().contains("redirects nowhere"));
    }
}
