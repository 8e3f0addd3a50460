//! The rules file's parsing and checks.

use super::*;
use crate::settings::rules::Effective;

const EXAMPLE: &str = r#"
bucket = "s3://www.example.com/blog"     # lets `s3site sync public/` omit the URL
exclude = ["drafts/**", "*.psd"]

[[rule]]
match = "**/*.html"
cache_control = "public, max-age=0, must-revalidate"

[[rule]]
match = ["assets/**", "**/*.{woff2,avif}"]
cache_control = "public, max-age=31536000, immutable"

[[rule]]
match = "**/*.{html,css,js,mjs,json,svg,xml,txt,wasm}"
compress = "gzip"

[[rule]]
match = "downloads/*"
content_type = "application/octet-stream"
content_disposition = "attachment"
headers = { "x-amz-meta-owner" = "web" }
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("s3site.toml"))
}

fn err(text: &str) -> String {
    parse(text).expect_err("should fail").to_string()
}

#[test]
fn the_example_file() {
    let c = parse(EXAMPLE).expect("parses");
    assert_eq!(c.bucket.as_deref(), Some("s3://www.example.com/blog"));
    assert_eq!(c.exclude, ["drafts/**", "*.psd"]);
    assert_eq!(c.rules.rules.len(), 4);
    assert_eq!(c.rules.rules[1].line, 9);
    assert!(c.rules.mentions_compress);

    let html = c.rules.effective("blog/index.html");
    assert_eq!(html.matched, [0, 2]);
    assert_eq!(
        html.headers.get(Header::CacheControl),
        Some("public, max-age=0, must-revalidate")
    );
    assert_eq!(html.headers.coding(), Some(Coding::Gzip));

    let font = c.rules.effective("fonts/inter.woff2");
    assert_eq!(font.matched, [1]);
    assert_eq!(
        font.headers.get(Header::CacheControl),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(font.headers.coding(), None);

    let css = c.rules.effective("assets/site.css");
    assert_eq!(css.matched, [1, 2]);

    let dl = c.rules.effective("downloads/report.pdf");
    assert_eq!(
        dl.headers.get(Header::ContentType),
        Some("application/octet-stream")
    );
    assert_eq!(
        dl.headers.get(Header::ContentDisposition),
        Some("attachment")
    );
    assert_eq!(
        dl.headers.metadata,
        BTreeMap::from([("owner".to_string(), "web".to_string())])
    );

    assert_eq!(c.rules.effective("img/photo.jpg"), Effective::default());
}

#[test]
fn the_last_matching_rule_wins_per_header() {
    let c = parse(
        r#"
[[rule]]
match = "**"
cache_control = "max-age=60"
content_language = "en"
headers = { "x-amz-meta-a" = "1", "x-amz-meta-b" = "1" }
compress = "gzip"

[[rule]]
match = "*.html"
cache_control = "no-cache"
headers = { "x-amz-meta-b" = "2" }
compress = "none"
"#,
    )
    .expect("parses");
    let e = c.rules.effective("a/b/page.html");
    assert_eq!(e.headers.get(Header::CacheControl), Some("no-cache"));
    assert_eq!(e.headers.get(Header::ContentLanguage), Some("en"));
    assert_eq!(e.headers.metadata["a"], "1");
    assert_eq!(e.headers.metadata["b"], "2");
    assert_eq!(e.headers.compress, Some(Compress::None));
    assert_eq!(e.headers.coding(), None);
    let css = c.rules.effective("a/site.css");
    assert_eq!(css.headers.get(Header::CacheControl), Some("max-age=60"));
    assert_eq!(css.headers.coding(), Some(Coding::Gzip));
}

#[test]
fn globs_star_crosses_folders_and_brace_sets_work() {
    let c = parse(
        r#"
[[rule]]
match = ["*.{woff2,avif}", "static/*"]
cache_control = "immutable"
"#,
    )
    .expect("parses");
    for hit in ["f.woff2", "a/b/f.avif", "static/x.js", "static/a/b.js"] {
        assert_eq!(c.rules.effective(hit).matched, [0], "{hit}");
    }
    for miss in ["f.woff", "staticx/a.js", "a/static/x.js"] {
        assert!(c.rules.effective(miss).matched.is_empty(), "{miss}");
    }
}

#[test]
fn default_content_type_and_redirect() {
    let c = parse(
        r#"
default_content_type = "text/html; charset=utf-8"
[[rule]]
match = "old/**"
redirect = "/new/"
"#,
    )
    .expect("parses");
    assert_eq!(
        c.rules.default_content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        c.rules
            .effective("old/a.html")
            .headers
            .get(Header::WebsiteRedirect),
        Some("/new/")
    );
    assert!(!c.rules.mentions_compress);
}

#[test]
fn too_many_rules_is_one_clear_error_and_many_rules_match_in_one_pass() {
    let rules = |n: usize| {
        (0..n)
            .map(|i| format!("[[rule]]\nmatch = \"p{i}/**\"\ncache_control = \"max-age={i}\"\n"))
            .collect::<String>()
    };
    let e = err(&rules(MAX_RULES + 1));
    assert!(e.contains("at most 10000"), "{e}");
    assert!(e.contains(&format!("line {}", 3 * MAX_RULES + 1)), "{e}");
    let many: String = (0..MAX_GLOBS + 1)
        .map(|i| format!("\"g{i}/**\", "))
        .collect();
    let e = err(&format!(
        "[[rule]]\nmatch = [{many}]\ncache_control = \"x\"\n"
    ));
    assert!(e.contains("at most 20000"), "{e}");
    let c = parse(&rules(3000)).expect("3,000 rules");
    let eff = c.rules.effective("p2999/a/b.html");
    assert_eq!(eff.matched, [2999]);
    assert_eq!(eff.headers.get(Header::CacheControl), Some("max-age=2999"));
    assert!(c.rules.effective("q/a.html").matched.is_empty());
}

#[test]
fn bad_files_name_the_line() {
    let e = err("bucket = \"s3://b\"\ncolour = \"red\"\n");
    assert!(e.starts_with("s3site.toml: line 2: "), "{e}");
    assert!(e.contains("colour"), "{e}");

    let e = err("[[rule]]\nmatch = \"a\"\ncache_kontrol = \"x\"\n");
    assert!(e.contains("line 3") && e.contains("cache_kontrol"), "{e}");

    // Errors inside a rule name the line where the rule starts.
    let e = err("\n\n[[rule]]\nmatch = \"a/{b\"\n");
    assert!(e.contains("line 3"), "{e}");
    assert!(e.contains("rule 1: invalid glob 'a/{b'"), "{e}");

    let e = err("[[rule]]\nmatch = \"a\"\ncompress = \"zip\"\n");
    assert!(e.contains("compress = 'zip'"), "{e}");

    let e = err("[[rule]]\nmatch = \"a\"\nheaders = { \"Content-Type\" = \"x\" }\n");
    assert!(
        e.contains("header 'Content-Type' cannot be set here"),
        "{e}"
    );

    let e = err("[[rule]]\nmatch = \"a\"\nheaders = { \"x-amz-meta-bad name\" = \"x\" }\n");
    assert!(e.contains("cannot be set here"), "{e}");

    let e = err("[[rule]]\nmatch = \"a\"\nheaders = { \"x-amz-meta-md5chksum\" = \"x\" }\n");
    assert!(e.contains("s3site's own metadata"), "{e}");

    let e = err("[[rule]]\nmatch = \"a\"\ncache_control = \"a\\nb\"\n");
    assert!(e.contains("printable ASCII"), "{e}");

    let e = err("[[rule]]\nmatch = \"a\"\ncontent_type = \"html\"\n");
    assert!(e.contains("not a media type"), "{e}");

    let e = err("[[rule]]\nmatch = \"a\"\nredirect = \"new\"\n");
    assert!(e.contains("redirect 'new'"), "{e}");

    let e = err("[[rule]]\ncache_control = \"x\"\n");
    assert!(e.contains("match"), "{e}");

    let e = err("exclude = [\"a[\"]\n");
    assert!(
        e.contains("line 1") && e.contains("invalid glob 'a['"),
        "{e}"
    );

    let e = err("bucket = \"http://x\"\n");
    assert!(e.contains("invalid S3 URL"), "{e}");

    let e = err("[[rule]\n");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn no_file_is_the_empty_config_but_a_named_missing_file_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = Config::load(None, dir.path()).expect("no file is fine");
    assert!(c.path.is_none() && c.rules.is_empty());
    let e = Config::load(Some(&dir.path().join("nope.toml")), dir.path())
        .expect_err("missing")
        .to_string();
    assert!(e.contains("cannot read config file"), "{e}");
    std::fs::write(dir.path().join(DEFAULT_FILE), "exclude = [\"x\"]\n").expect("write");
    let c = Config::load(None, dir.path()).expect("found in cwd");
    assert_eq!(c.exclude, ["x"]);
}

const TARGETS: &str = r#"
bucket = "s3://${SITE_BUCKET:-site-dev}"
exclude = ["drafts/**"]
cloudfront = ["EDEFAULT1"]

[targets.staging]
bucket = "s3://${STAGING_BUCKET}/preview"
exclude = ["*.map"]

[targets.production]
bucket = "s3://site-prod"
cloudfront = ["${PROD_DISTRIBUTION}"]
cloudfront_max_paths = 50
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "STAGING_BUCKET" => Some("site-staging".into()),
        "PROD_DISTRIBUTION" => Some("E2QWRUHAPOMQZL".into()),
        _ => None,
    }
}

#[test]
fn a_target_replaces_the_destination_and_adds_its_excludes() {
    let p = Path::new("s3site.toml");
    let c = Config::parse_with(TARGETS, p, None, &env).unwrap();
    assert_eq!(c.bucket.as_deref(), Some("s3://site-dev"), "the default");
    assert_eq!(c.targets, ["production", "staging"]);
    assert_eq!(c.cloudfront, ["EDEFAULT1"]);

    let c = Config::parse_with(TARGETS, p, Some("staging"), &env).unwrap();
    assert_eq!(c.bucket.as_deref(), Some("s3://site-staging/preview"));
    assert_eq!(c.exclude, ["drafts/**", "*.map"]);
    assert_eq!(c.cloudfront, ["EDEFAULT1"], "kept when the target has none");
    assert_eq!(c.target.as_deref(), Some("staging"));

    let c = Config::parse_with(TARGETS, p, Some("production"), &env).unwrap();
    assert_eq!(c.bucket.as_deref(), Some("s3://site-prod"));
    assert_eq!(c.cloudfront, ["E2QWRUHAPOMQZL"]);
    assert_eq!(c.cloudfront_max_paths, Some(50));

    let e = Config::parse_with(TARGETS, p, Some("prod"), &env).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--target prod: s3site.toml has no [targets.prod] (it has: production, staging)"
    );
}

#[test]
fn an_unset_variable_is_an_error_naming_it_and_its_line_but_only_where_it_is_used() {
    let p = Path::new("s3site.toml");
    let none = |_: &str| None;
    // Neither target is chosen: their variables need not be set.
    Config::parse_with(TARGETS, p, None, &none).unwrap();
    let e = Config::parse_with(TARGETS, p, Some("production"), &none).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("s3site.toml: line 12: environment variable PROD_DISTRIBUTION is not set"),
        "{text}"
    );
    // An expanded value is checked like a written one.
    let bad = |n: &str| (n == "PROD_DISTRIBUTION").then(|| "not an id!".to_string());
    let e = Config::parse_with(TARGETS, p, Some("production"), &bad).unwrap_err();
    assert!(
        e.to_string().contains("not a CloudFront distribution id"),
        "{e}"
    );
    // Rules' header values are expanded too; keys and comments are not.
    let rules =
        "# ${NOT_A_VALUE}\n[[rule]]\nmatch = \"**\"\ncache_control = \"max-age=${AGE:-60}\"\n";
    let c = Config::parse_with(rules, p, None, &none).unwrap();
    assert_eq!(
        format!("{:?}", c.rules).matches("max-age=60").count(),
        1,
        "{:?}",
        c.rules
    );
}

#[test]
fn a_target_without_a_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = Config::load_target(None, dir.path(), Some("staging")).unwrap_err();
    assert!(e.to_string().contains("there is no s3site.toml"), "{e}");
}
