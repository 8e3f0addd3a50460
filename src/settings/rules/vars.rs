//! `${VAR}` in the rules file's string values, from the environment, so one `s3site.toml` serves
//! every pipeline (`bucket = "s3://${SITE_BUCKET}"`, `cloudfront = ["${CF_DISTRIBUTION}"]`).
//!
//! Owns: the syntax (`${NAME}`, `${NAME:-default}`, `$${` for a literal `${`) and its errors.
//! Must not: expand keys, comments or anything but string values, or read anything but the
//! environment it is given.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Expands every string value of the file's `table` in place with `env`, in `[targets.NAME]`
/// only for the chosen `target` (another target's variables need not be set); an error is the
/// value's offset and why (an unset variable is named).
pub(super) fn expand(
    table: &mut DeTable<'_>,
    target: Option<&str>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), (usize, String)> {
    for (key, value) in table.iter_mut() {
        match (key.get_ref().as_ref(), value.get_mut()) {
            ("targets", DeValue::Table(targets)) => {
                for (name, t) in targets.iter_mut() {
                    if Some(name.get_ref().as_ref()) == target {
                        expand_value(t, env)?;
                    }
                }
            }
            _ => expand_value(value, env)?,
        }
    }
    Ok(())
}

/// The names of the file's `[targets.NAME]`, before anything is expanded or checked.
pub(super) fn target_names(table: &DeTable<'_>) -> Vec<String> {
    table
        .iter()
        .filter(|(k, _)| k.get_ref().as_ref() == "targets")
        .filter_map(|(_, v)| match v.get_ref() {
            DeValue::Table(t) => Some(t.iter().map(|(n, _)| n.get_ref().to_string())),
            _ => None,
        })
        .flatten()
        .collect()
}

fn expand_table(
    table: &mut DeTable<'_>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), (usize, String)> {
    for (_, value) in table.iter_mut() {
        expand_value(value, env)?;
    }
    Ok(())
}

fn expand_value(
    value: &mut Spanned<DeValue<'_>>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(), (usize, String)> {
    let at = value.span().start;
    match value.get_mut() {
        DeValue::String(s) if s.contains('$') => {
            *s = std::borrow::Cow::Owned(expand_str(s, env).map_err(|m| (at, m))?);
        }
        DeValue::Array(items) => {
            for v in items.iter_mut() {
                expand_value(v, env)?;
            }
        }
        DeValue::Table(t) => expand_table(t, env)?,
        _ => {}
    }
    Ok(())
}

/// `text` with each `${NAME}` (or `${NAME:-default}`) replaced; `$${` is a literal `${`, and a
/// `$` before anything else stays as it is.
pub(super) fn expand_str(
    text: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(literal) = after.strip_prefix("${") {
            out.push_str("${");
            rest = literal;
            continue;
        }
        let Some(inner) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = inner.find('}') else {
            return Err(format!(
                "'${{' without its '}}' in '{text}' (write $${{ for a literal ${{)"
            ));
        };
        let (name, default) = match inner[..end].split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (&inner[..end], None),
        };
        let valid = name
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        if name.is_empty() || !valid {
            return Err(format!(
                "'${{{}}}' is not a variable name (letters, digits and _)",
                &inner[..end]
            ));
        }
        match (env(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(format!(
                    "environment variable {name} is not set (or is empty); set it, or write \
                     ${{{name}:-DEFAULT}}"
                ));
            }
        }
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "BUCKET" => Some("site-prod".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn variables_defaults_and_literals() {
        let x = |t: &str| expand_str(t, &env);
        assert_eq!(x("s3://${BUCKET}/www").unwrap(), "s3://site-prod/www");
        assert_eq!(x("${NOPE:-E123}").unwrap(), "E123");
        assert_eq!(x("${EMPTY:-fallback}").unwrap(), "fallback");
        assert_eq!(x("$${BUCKET} costs $5").unwrap(), "${BUCKET} costs $5");
        assert_eq!(x("no variables").unwrap(), "no variables");
        let e = x("s3://${NOPE}").unwrap_err();
        assert!(e.contains("NOPE is not set"), "{e}");
        assert!(x("${BUCKET").unwrap_err().contains("without its '}'"));
        assert!(x("${1X}").unwrap_err().contains("not a variable name"));
    }
}
