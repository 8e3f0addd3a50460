//! The sync planner: local files + remote listing + options in, a `Plan` of actions out.
//!
//! Owns: every decision of `sync` — upload (and why) or leave alone, what may be deleted, and
//! whether deleting is safe at all — and the headers each upload carries. Pure: no I/O, no clock,
//! no store; what it needs to know beyond the listing (multipart ETag evidence) is gathered by the
//! caller first and passed in, so every decision is unit-tested from literal inputs.

use crate::content::coding::Coding;
use crate::content::digest::Md5;
use crate::content::etag::{self, ETag};
use crate::content::header::Header;
use crate::content::key;
use crate::content::media;
use crate::content::meta;
use crate::settings::filter::Filter;
use crate::settings::rules::RuleSet;
use crate::site::hash::{LocalFile, NotCompressed};
use crate::site::walk::Source;
use crate::store::{
    Acl, Encryption, Grants, Multipart, ObjectHeaders, Placement, PutFile, RemoteObject,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// Files of this size and more are uploaded in parts.
pub const MULTIPART_THRESHOLD: u64 = 64 * 1024 * 1024;
/// The part size of s3site's multipart uploads.
pub const PART_SIZE: u64 = 16 * 1024 * 1024;

/// Why a file is uploaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadReason {
    /// No object has its key.
    New,
    /// The object's size differs from the file's.
    SizeChanged,
    /// Same size, different bytes.
    ContentChanged,
    /// The object's ETag cannot be compared with the file (and no stored MD5 decides).
    EtagNotComparable,
    /// Same source bytes, but stored with another `Content-Encoding` than the rules ask for.
    EncodingChanged,
    /// A redirect of `[redirects]` whose object redirects elsewhere (or is no redirect).
    RedirectChanged,
}

impl fmt::Display for UploadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UploadReason::New => "new",
            UploadReason::SizeChanged => "size changed",
            UploadReason::ContentChanged => "content changed",
            UploadReason::EtagNotComparable => "etag not comparable",
            UploadReason::EncodingChanged => "content encoding changed",
            UploadReason::RedirectChanged => "redirect changed",
        })
    }
}

/// One file to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// What to store, with its headers; `size`, `md5` and `multipart` describe the bytes sent.
    pub put: PutFile,
    /// Why.
    pub reason: UploadReason,
    /// Compress `put.path` with this coding first: the store is sent the compressed body,
    /// which `put` describes.
    pub compress: Option<Coding>,
}

/// A file whose object already has the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unchanged {
    /// The key.
    pub key: String,
    /// Its size.
    pub size: u64,
}

/// A remote object with no local file, to delete (with `--delete`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delete {
    /// The key.
    pub key: String,
    /// Its size.
    pub size: u64,
    /// Set when the object has the very bytes of a file this run uploads as new: the store may
    /// keep that file under this name (a rename no rule here knows), so the executor deletes
    /// it only once that file lists back under its own key after its upload.
    pub recheck: Option<Recheck>,
}

/// What a delete checks first (see `Delete::recheck`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recheck {
    /// The key of the new file with the same bytes.
    pub file: String,
}

/// Why the planned deletes must not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteBlocked {
    /// The source folder holds no file: deleting would empty the destination.
    EmptySource,
    /// More deletes than `--max-delete` allows.
    TooMany {
        /// How many deletes were planned.
        count: usize,
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for DeleteBlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeleteBlocked::EmptySource => f.write_str(
                "the source folder holds no file; refusing to delete everything under the prefix",
            ),
            DeleteBlocked::TooMany { count, max } => {
                write!(
                    f,
                    "{count} objects would be deleted, more than --max-delete {max}"
                )
            }
        }
    }
}

/// Everything a sync will do, in the order it will do it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Uploads of everything but pages; they go first.
    pub assets: Vec<Upload>,
    /// Uploads of HTML pages; they go after every asset succeeded.
    pub pages: Vec<Upload>,
    /// Files left alone.
    pub unchanged: Vec<Unchanged>,
    /// Deletes, which go last, after every upload succeeded.
    pub deletes: Vec<Delete>,
    /// Set when `deletes` must not run; they are reported, not executed.
    pub delete_blocked: Option<DeleteBlocked>,
    /// Files whose key the store keeps under another name (`back\slash` as `back/slash` on
    /// SeaweedFS): (the file's key, the key it lists under). Compared with that object and
    /// never deleted.
    pub renamed: Vec<(String, String)>,
    /// Files not uploaded because the store would store them under another file's key:
    /// (the file's key, that key).
    pub collisions: Vec<(String, String)>,
}

/// How a local file finds its object in the listing.
enum Match<'a> {
    /// Under its own key.
    Own(&'a RemoteObject),
    /// Under the name the store turned its key into.
    Renamed(&'a RemoteObject),
    /// The store would store it under another local file's key (where it already lists).
    Collides(String),
    /// No object.
    None,
}

/// The object of `local` in the listing (`by_key`), given every local key (`local_keys`): its
/// own, or, when only the store's alias of its key lists, that one.
fn find<'a>(
    local: &LocalFile,
    by_key: &HashMap<&str, &'a RemoteObject>,
    local_keys: &HashSet<&str>,
) -> Match<'a> {
    if let Some(r) = by_key.get(local.key.as_str()) {
        return Match::Own(r);
    }
    let Some(alias) = key::store_alias(&local.key) else {
        return Match::None;
    };
    match by_key.get(alias.as_str()) {
        Some(_) if local_keys.contains(alias.as_str()) => Match::Collides(alias),
        Some(r) => Match::Renamed(r),
        None => Match::None,
    }
}

/// What the caller learned from a HEAD about an object the listing cannot decide.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// An MD5 of the whole body stored in user metadata (`md5chksum`).
    pub stored_md5: Option<Md5>,
    /// The local file's multipart ETag computed with the remote object's own part size.
    pub local_etag: Option<ETag>,
    /// The MD5 of the uncompressed source s3site stored with a compressed object
    /// (`s3site-source-md5`).
    pub source_md5: Option<Md5>,
    /// The object's `Content-Encoding`.
    pub content_encoding: Option<String>,
}

/// Options that shape a plan.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// The site folder (where each upload's bytes are read) and the key prefix.
    pub source: &'a Source,
    /// Whether remote objects with no local file are deleted.
    pub delete: bool,
    /// Most deletes allowed; more blocks all deletes.
    pub max_delete: Option<usize>,
    /// Exclusions; an excluded remote key is never deleted.
    pub filter: &'a Filter,
    /// The header rules.
    pub rules: &'a RuleSet,
    /// What every upload sets (`--acl`, `--storage-class`, `--sse`); rules set more per path.
    pub placement: &'a Placement,
    /// Keys that are no local file but are not strays either (`[redirects]`): never deleted.
    pub also_kept: &'a HashSet<String>,
}

/// How a local file compares with its object, from the listing alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compared {
    Same,
    Differs(UploadReason),
    /// Needs evidence (a HEAD, or a re-hash with another part size) to decide.
    Undecided,
}

/// Compares the bytes s3site would upload (the compressed body, if any) with the listing. An
/// object an earlier run's HEAD proved to hold them is the same while it lists unchanged.
fn compare(local: &LocalFile, remote: &RemoteObject) -> Compared {
    if local.proven(&remote.etag, remote.size) {
        return Compared::Same;
    }
    let wire = local.wire();
    if wire.size != remote.size {
        return Compared::Differs(UploadReason::SizeChanged);
    }
    match &remote.etag {
        ETag::Md5(d) if *d == wire.md5 => Compared::Same,
        // 32 hex digits that are not the MD5: changed bytes, or an object whose ETag is not its
        // MD5 at all (SSE-KMS): its stored MD5, if it has one, decides.
        ETag::Md5(_) => Compared::Undecided,
        ETag::Multipart { .. } => match wire.parts {
            Some(p) if ETag::multipart(&p.md5s) == remote.etag => Compared::Same,
            _ => Compared::Undecided,
        },
        ETag::Opaque(_) => Compared::Undecided,
    }
}

/// Whether planning `local` against `remote` needs a HEAD first: same size and an ETag that is
/// neither an MD5 nor the multipart ETag s3site would have written; or a compressed body that
/// differs, where the object may still hold the same source compressed by another encoder
/// version (its stored source MD5 decides).
fn needs_evidence(local: &LocalFile, remote: &RemoteObject) -> bool {
    match compare(local, remote) {
        Compared::Undecided => true,
        Compared::Differs(_) => local.compressed.is_some(),
        Compared::Same => false,
    }
}

/// The keys whose comparison needs evidence before planning (see `needs_evidence`). For each,
/// the caller should HEAD the object and fill in an `Evidence`.
pub fn needing_evidence<'a>(
    local: &'a [LocalFile],
    remote: &[RemoteObject],
) -> Vec<(&'a LocalFile, RemoteObject)> {
    let by_key: HashMap<&str, &RemoteObject> = remote.iter().map(|r| (r.key.as_str(), r)).collect();
    let local_keys = local.iter().map(|l| l.key.as_str()).collect();
    local
        .iter()
        .filter_map(|l| {
            let r = match find(l, &by_key, &local_keys) {
                Match::Own(r) | Match::Renamed(r) => r,
                Match::Collides(_) | Match::None => return None,
            };
            needs_evidence(l, r).then(|| (l, r.clone()))
        })
        .collect()
}

/// Plans a sync. `local` and `remote` may come in any order; `evidence` is keyed by key.
pub fn plan(
    local: &[LocalFile],
    remote: &[RemoteObject],
    evidence: &BTreeMap<String, Evidence>,
    opts: &Options<'_>,
) -> Plan {
    let by_key: HashMap<&str, &RemoteObject> = remote.iter().map(|r| (r.key.as_str(), r)).collect();
    let local_keys: HashSet<&str> = local.iter().map(|l| l.key.as_str()).collect();
    let mut plan = Plan::default();
    // Most files of a large site are unchanged on most runs: sized once, not by doubling.
    plan.unchanged.reserve(local.len());
    let mut locals: Vec<&LocalFile> = local.iter().collect();
    locals.sort_by(|a, b| a.key.cmp(&b.key));
    // Objects that are a local file's under the store's name for it: never deleted.
    let mut claimed: HashSet<&str> = HashSet::new();
    for l in locals {
        let found = match find(l, &by_key, &local_keys) {
            Match::Own(r) => Some(r),
            Match::Renamed(r) => {
                plan.renamed.push((l.key.clone(), r.key.clone()));
                claimed.insert(r.key.as_str());
                Some(r)
            }
            Match::Collides(other) => {
                plan.collisions.push((l.key.clone(), other));
                continue;
            }
            Match::None => None,
        };
        match upload_reason(l, found, evidence.get(&l.key)) {
            None => plan.unchanged.push(Unchanged {
                key: l.key.clone(),
                size: l.size,
            }),
            Some(reason) => {
                let up = Upload {
                    put: put_file(l, opts),
                    reason,
                    compress: l.wire().coding,
                };
                if media::is_page(&l.key) {
                    plan.pages.push(up);
                } else {
                    plan.assets.push(up);
                }
            }
        }
    }
    if opts.delete {
        let keep =
            |k: &str| local_keys.contains(k) || claimed.contains(k) || opts.also_kept.contains(k);
        plan.deletes = deletes(remote, &plan, keep, opts);
        let empty = local.is_empty() && opts.also_kept.is_empty();
        plan.delete_blocked = delete_blocked(empty, plan.deletes.len(), opts);
    }
    plan
}

/// Why `l` is uploaded, given its object (if any) and what a HEAD taught; `None`: unchanged.
fn upload_reason(
    l: &LocalFile,
    found: Option<&RemoteObject>,
    evidence: Option<&Evidence>,
) -> Option<UploadReason> {
    let Some(r) = found else {
        return Some(UploadReason::New);
    };
    match compare(l, r) {
        Compared::Same => None,
        Compared::Differs(reason) => match evidence {
            Some(ev) if l.compressed.is_some() => decide_source(l, ev, reason),
            _ => Some(reason),
        },
        Compared::Undecided => decide(l, &r.etag, evidence),
    }
}

/// The strays: objects under the prefix that no file is (`keep` says which are), never the
/// prefix's own folder marker or an excluded key, sorted. A stray with the very bytes of a
/// file this run uploads as new is re-checked before it is deleted (`Delete::recheck`).
fn deletes(
    remote: &[RemoteObject],
    plan: &Plan,
    keep: impl Fn(&str) -> bool,
    opts: &Options<'_>,
) -> Vec<Delete> {
    // The bytes of each file uploaded as new, as the object it makes would list them.
    let new_etags: Vec<(u64, ETag, &str)> = plan
        .assets
        .iter()
        .chain(&plan.pages)
        .filter(|u| u.reason == UploadReason::New)
        .map(|u| {
            let etag = match &u.put.multipart {
                Some(m) => ETag::multipart(&m.part_md5s),
                None => ETag::Md5(u.put.md5),
            };
            (u.put.size, etag, u.put.key.as_str())
        })
        .collect();
    let new_with_bytes: HashMap<(u64, &ETag), &str> =
        new_etags.iter().map(|(s, e, k)| ((*s, e), *k)).collect();
    let mut deletes: Vec<Delete> = remote
        .iter()
        .filter(|r| !keep(&r.key))
        .filter(|r| match r.key.strip_prefix(opts.source.prefix()) {
            // Never the prefix's own folder marker, never anything outside the prefix.
            Some(rel) => !rel.is_empty() && !opts.filter.is_excluded(rel),
            None => false,
        })
        .map(|r| Delete {
            key: r.key.clone(),
            size: r.size,
            recheck: new_with_bytes.get(&(r.size, &r.etag)).map(|file| Recheck {
                file: (*file).to_string(),
            }),
        })
        .collect();
    deletes.sort_by(|a, b| a.key.cmp(&b.key));
    deletes
}

/// Why `count` deletes must not run, if they must not: an empty source would empty the
/// destination, and `--max-delete` caps them.
fn delete_blocked(empty_source: bool, count: usize, opts: &Options<'_>) -> Option<DeleteBlocked> {
    if count == 0 {
        return None;
    }
    if empty_source {
        return Some(DeleteBlocked::EmptySource);
    }
    match opts.max_delete {
        Some(max) if count > max => Some(DeleteBlocked::TooMany { count, max }),
        _ => None,
    }
}

/// Decides an undecided comparison from evidence: a stored MD5 first, then the local multipart
/// ETag for the object's part size; with neither, the ETag is not comparable.
fn decide(local: &LocalFile, remote_etag: &ETag, ev: Option<&Evidence>) -> Option<UploadReason> {
    let ev = ev.cloned().unwrap_or_default();
    if local.compressed.is_some() && ev.source_md5.is_some() {
        return decide_source(local, &ev, UploadReason::ContentChanged);
    }
    if let Some(m) = ev.stored_md5 {
        return (m != local.wire().md5).then_some(UploadReason::ContentChanged);
    }
    if let Some(e) = ev.local_etag {
        return (e != *remote_etag).then_some(UploadReason::ContentChanged);
    }
    match remote_etag {
        ETag::Md5(_) => Some(UploadReason::ContentChanged),
        _ => Some(UploadReason::EtagNotComparable),
    }
}

/// For a compressed file whose body differs from the object's: the object is the same source in
/// the same coding when its stored source MD5 and `Content-Encoding` say so (an encoder version
/// that compresses differently must not re-upload a whole site).
fn decide_source(
    local: &LocalFile,
    ev: &Evidence,
    otherwise: UploadReason,
) -> Option<UploadReason> {
    let coding = local.wire().coding;
    let stored = ev.content_encoding.as_deref().and_then(Coding::from_header);
    match ev.source_md5 {
        Some(src) if src == local.md5 && stored == coding => None,
        Some(src) if src == local.md5 => Some(UploadReason::EncodingChanged),
        _ => Some(otherwise),
    }
}

/// The headers `l` is uploaded with: every header its rules set, the Content-Type the rules
/// resolve to (`TypeFrom`: a rule's, `default_content_type` for a file with no extension, else
/// the table's), `Content-Encoding` when compressed, and s3site's own metadata: the whole-body
/// MD5 for multipart uploads, the source MD5 for compressed bodies, and a marker for files the
/// rules compress that went up plain because compressing them gains nothing.
pub fn upload_headers(l: &LocalFile, rel: &str, rules: &RuleSet) -> ObjectHeaders {
    let eff = rules.effective(rel).headers;
    let mut headers = ObjectHeaders::default();
    for (h, v) in eff.iter() {
        headers.set(h, Some(v.to_string()));
    }
    let content_type = rules.type_from(&l.key, &eff).resolve(&l.key, l.is_utf8);
    headers.set(Header::ContentType, Some(content_type));
    let wire = l.wire();
    headers.set(
        Header::ContentEncoding,
        wire.coding.map(|c| c.as_str().to_string()),
    );
    headers.metadata = eff.metadata;
    let metadata = &mut headers.metadata;
    if l.compressed.is_some() {
        metadata.insert(meta::SOURCE_MD5_KEY.to_string(), hex::encode(l.md5));
    }
    if l.not_compressed == Some(NotCompressed::NoGain) {
        metadata.insert(
            meta::PLAIN_MARKER_KEY.to_string(),
            meta::NO_GAIN.to_string(),
        );
    }
    if wire.size >= MULTIPART_THRESHOLD && wire.parts.is_some() {
        metadata.insert(
            meta::MD5_METADATA_KEY.to_string(),
            etag::to_base64(&wire.md5),
        );
    }
    headers
}

/// The zero-byte object that makes `key` redirect to `target` on a website endpoint: s3site's
/// marker in its metadata, the Content-Type its key's extension gives (so `repair` finds it
/// right), and the placement every upload gets.
pub fn redirect_put(key: &str, target: &str, opts: &Options<'_>) -> PutFile {
    let mut headers = ObjectHeaders::default()
        .with(Header::ContentType, media::content_type(key, true))
        .with(Header::WebsiteRedirect, target);
    headers
        .metadata
        .insert(meta::REDIRECT_MARKER_KEY.to_string(), "1".to_string());
    PutFile {
        key: key.to_string(),
        path: std::path::PathBuf::new(),
        size: 0,
        md5: crate::content::digest::md5_of(b""),
        headers,
        multipart: None,
        placement: opts.placement.clone(),
    }
}

/// What an upload sets besides its headers: the flags' placement, with a matching rule's `acl`
/// and `storage_class` over it.
fn placement(rel: &str, opts: &Options<'_>) -> Placement {
    let eff = opts.rules.effective(rel).headers;
    let mut p = opts.placement.clone();
    if let Some(a) = eff.acl {
        p.acl = Some(Acl::Canned(a));
    }
    if let Some(c) = eff.storage_class {
        p.storage_class = Some(c);
    }
    p
}

/// What an object an upload replaces had, that the upload keeps unless a flag or rule says
/// otherwise (read by the caller: a HEAD, and the ACL and tags where there are any).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    /// Its ACL, when more than the owner's.
    pub acl: Option<Grants>,
    /// Its storage class (`None`: STANDARD).
    pub storage_class: Option<String>,
    /// Its encryption.
    pub encryption: Encryption,
    /// Its tags, as an `x-amz-tagging` value.
    pub tagging: Option<String>,
    /// Its website redirect.
    pub website_redirect: Option<String>,
}

/// Carries what the replaced object had over to its upload, where the flags and rules leave it
/// unset. An SSE-C object's encryption cannot be kept (s3site has no key): the upload gets the
/// bucket's default.
pub fn keep(put: &mut PutFile, kept: Kept) {
    let p = &mut put.placement;
    let had_etag_md5 = !p.encryption.hides_md5();
    if p.acl.is_none() {
        p.acl = kept.acl.map(Acl::Grants);
    }
    if p.storage_class.is_none() {
        p.storage_class = kept.storage_class;
    }
    if p.encryption == Encryption::None && kept.encryption != Encryption::Customer {
        p.encryption = kept.encryption;
    }
    if p.tagging.is_none() {
        p.tagging = kept.tagging;
    }
    if put.headers.get(Header::WebsiteRedirect).is_none() {
        put.headers
            .set(Header::WebsiteRedirect, kept.website_redirect);
    }
    if had_etag_md5 && put.placement.encryption.hides_md5() {
        store_md5(put);
    }
}

/// For a bucket whose default encryption hides the MD5 (SSE-KMS), stores the MD5 of every upload
/// that sets no encryption of its own: its ETag will not be the MD5 either.
pub fn store_md5_under(plan: &mut Plan, bucket_default: &Encryption) {
    if !bucket_default.hides_md5() {
        return;
    }
    for u in plan.assets.iter_mut().chain(plan.pages.iter_mut()) {
        if u.put.placement.encryption == Encryption::None {
            store_md5(&mut u.put);
        }
    }
}

/// Writes the body's MD5 into the object's metadata (`md5chksum`), for an object whose ETag will
/// not be it (SSE-KMS), so later runs compare it without uploading again.
fn store_md5(put: &mut PutFile) {
    put.headers.metadata.insert(
        meta::MD5_METADATA_KEY.to_string(),
        etag::to_base64(&put.md5),
    );
}

/// The request that uploads `l`: its headers, and for large bodies the multipart layout (of
/// the compressed body, when the rules compress it).
fn put_file(l: &LocalFile, opts: &Options<'_>) -> PutFile {
    let rel = key::rules_path(key::relative(opts.source.prefix(), &l.key));
    let rel = rel.as_ref();
    let wire = l.wire();
    let multipart = match wire.parts {
        Some(p) if wire.size >= MULTIPART_THRESHOLD => Some(Multipart {
            part_size: p.part_size,
            part_md5s: p.md5s.clone(),
        }),
        _ => None,
    };
    let mut put = PutFile {
        key: l.key.clone(),
        path: l.path(opts.source),
        size: wire.size,
        md5: wire.md5,
        headers: upload_headers(l, rel, opts.rules),
        multipart,
        placement: placement(rel, opts),
    };
    if put.placement.encryption.hides_md5() {
        store_md5(&mut put);
    }
    put
}

#[cfg(test)]
mod tests;
