//! The path planner on literal distributions and listings.

use super::*;
use crate::cdn::Origin;

fn dist(origins: &[(&str, &str)]) -> Distribution {
    Distribution {
        id: "E1".into(),
        origins: origins
            .iter()
            .enumerate()
            .map(|(i, (domain, path))| Origin {
                id: format!("o{i}"),
                domain: (*domain).into(),
                path: (*path).into(),
            })
            .collect(),
    }
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_string()).collect()
}

#[test]
fn the_origin_serving_the_bucket_gives_the_root_whatever_its_host_form() {
    for domain in [
        "www.example.com.s3.amazonaws.com",
        "www.example.com.s3.eu-west-1.amazonaws.com",
        "www.example.com.s3-eu-west-1.amazonaws.com",
        "www.example.com.s3-website-eu-west-1.amazonaws.com",
        "www.example.com.s3-website.eu-central-1.amazonaws.com",
        "WWW.Example.com.s3.dualstack.us-east-1.amazonaws.com",
    ] {
        assert!(serves_bucket(domain, "www.example.com"), "{domain}");
    }
    for domain in [
        "example.com.s3.amazonaws.com",
        "www.example.com",
        "b.s3.evil.com",
    ] {
        assert!(!serves_bucket(domain, "www.example.com"), "{domain}");
    }
    // The second origin is the bucket's; its OriginPath is the root.
    let d = dist(&[("api.example.com", ""), ("b.s3.amazonaws.com", "/live")]);
    assert_eq!(mapping(&d, "b", "live/", None).unwrap().roots, ["live/"]);
    assert_eq!(
        mapping(&d, "b", "live/blog/", None).unwrap().roots,
        ["live/"]
    );
    let e = mapping(&d, "b", "staging/", None).unwrap_err();
    assert!(
        e.contains("api.example.com, b.s3.amazonaws.com/live"),
        "{e}"
    );
    let e = mapping(&d, "other", "", None).unwrap_err();
    assert!(e.contains("cloudfront_origin_path"), "{e}");
    // A custom origin, mapped by hand.
    let d = dist(&[("cdn-origin.example.com", "")]);
    assert_eq!(
        mapping(&d, "b", "site/", Some("/site")).unwrap().roots,
        ["site/"]
    );
    assert!(mapping(&d, "b", "other/", Some("/site")).is_err());
}

#[test]
fn keys_become_the_paths_browsers_request() {
    assert_eq!(paths_of("index.html"), ["/index.html", "/"]);
    assert_eq!(paths_of("d/index.html"), ["/d/index.html", "/d/"]);
    assert_eq!(paths_of("d/myindex.html"), ["/d/myindex.html"]);
    assert_eq!(paths_of("css/a.css"), ["/css/a.css"]);
    assert_eq!(relative("live/x.css", &["live/".into()]), Some("x.css"));
    assert_eq!(relative("other/x.css", &["live/".into()]), None);
}

#[test]
fn only_non_ascii_and_unsafe_characters_are_encoded() {
    assert_eq!(encode("a b.html"), "/a%20b.html");
    assert_eq!(encode("über.html"), "/%C3%BCber.html");
    assert_eq!(encode("a+b~c.html"), "/a+b~c.html");
    assert_eq!(encode("100%.html"), "/100%25.html");
    assert_eq!(encode("a#b?c.html"), "/a%23b%3Fc.html");
    assert_eq!(
        encode("star*"),
        "/star%2A",
        "a literal * is never a wildcard"
    );
    assert_eq!(
        encode("a/b-c_d.e,f;g=h&i@j$k!l'm(n)o:p"),
        "/a/b-c_d.e,f;g=h&i@j$k!l'm(n)o:p"
    );
}

#[test]
fn within_the_budget_every_path_is_exact() {
    let changed = set(&["index.html", "css/a.css"]);
    let c = choose(
        &changed,
        &set(&["b.html"]),
        Budget {
            max_paths: 3,
            wildcards: 15,
        },
    );
    assert_eq!(c.paths, ["/", "/css/a.css", "/index.html"]);
    assert_eq!((c.wildcards, c.unchanged_covered), (0, 0));
}

#[test]
fn beyond_the_budget_the_folder_wildcards_cover_the_fewest_unchanged_objects() {
    // 20 changes in blog/2024/ (which has 2 unchanged files), 20 in docs/ (50 unchanged), and
    // two at the root beside 30 unchanged ones.
    let mut changed: Vec<String> = (0..20).map(|i| format!("blog/2024/p{i}.html")).collect();
    changed.extend((0..20).map(|i| format!("docs/d{i}.html")));
    changed.extend(["a.css".to_string(), "b.js".to_string()]);
    let mut unchanged: Vec<String> = vec!["blog/2024/x.html".into(), "blog/2024/y.html".into()];
    unchanged.extend((0..50).map(|i| format!("docs/old{i}.html")));
    unchanged.extend((0..30).map(|i| format!("r{i}.png")));
    unchanged.extend((0..40).map(|i| format!("blog/2023/q{i}.html")));
    let changed: BTreeSet<String> = changed.into_iter().collect();
    let unchanged: BTreeSet<String> = unchanged.into_iter().collect();
    let c = choose(
        &changed,
        &unchanged,
        Budget {
            max_paths: 25,
            wildcards: 15,
        },
    );
    assert!(c.paths.len() <= 25, "{:?}", c.paths);
    assert!(
        c.paths.contains(&"/blog/2024/*".to_string()),
        "{:?}",
        c.paths
    );
    assert!(
        !c.paths.contains(&"/blog/*".to_string()),
        "blog/2023 is unchanged: {:?}",
        c.paths
    );
    assert!(!c.paths.contains(&"/*".to_string()), "{:?}", c.paths);
    assert!(c.paths.contains(&"/a.css".to_string()), "{:?}", c.paths);
    // Tighter: docs/ has to go as a wildcard too.
    let c = choose(
        &changed,
        &unchanged,
        Budget {
            max_paths: 4,
            wildcards: 15,
        },
    );
    assert_eq!(c.paths, ["/a.css", "/b.js", "/blog/2024/*", "/docs/*"]);
    assert_eq!(c.unchanged_covered, 52);
    // One wildcard slot free, two paths allowed: nothing narrower than everything fits.
    let c = choose(
        &changed,
        &unchanged,
        Budget {
            max_paths: 2,
            wildcards: 1,
        },
    );
    assert_eq!(c.paths, ["/*"]);
    // No wildcard slot free: the exact paths are all that can be sent.
    let c = choose(
        &changed,
        &unchanged,
        Budget {
            max_paths: 2,
            wildcards: 0,
        },
    );
    assert_eq!(c.paths.len(), 42);
}

#[test]
fn a_retry_is_the_same_reference_and_another_run_another() {
    let p = vec!["/a".to_string()];
    assert_eq!(reference("E1", &p, "run1"), reference("E1", &p, "run1"));
    assert_ne!(reference("E1", &p, "run1"), reference("E1", &p, "run2"));
    assert_ne!(reference("E1", &p, "run1"), reference("E2", &p, "run1"));
    assert!(reference("E1", &p, "run1").len() <= 128);
}
