//! `store-breakdown`: where a communique store's bytes are. Reads every entry of the store's
//! sled tree (no process may hold the store) and sums key and value bytes per key kind (the
//! first key byte, see services/store/src/keys.rs), beside the size on disk, so the space
//! taken per article can be traced to an index or a record.
//!
//! ```sh
//! store-breakdown --db /tmp/communique-bench/corpus-db-KEY
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Bytes per key kind in a communique store, beside its size on disk")]
struct Cli {
    #[arg(long)]
    db: PathBuf,
    /// The sled tree holding communique's keys.
    #[arg(long, default_value = "communique")]
    tree: String,
    /// Also copy every entry, in key order, into a fresh sled database in this (new) folder
    /// and report its size: the same data written once, the baseline for the store's size.
    #[arg(long)]
    rewrite_to: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Names of the key kinds as services/store/src/keys.rs defines them when this was written;
/// an unknown kind is shown by its number.
fn kind_name(kind: u8) -> String {
    let name = match kind {
        0x00 => "store meta",
        0x01 => "article",
        0x02 => "article content (body, mentions, statements)",
        0x03 => "article by date (schema 3)",
        0x04 => "article by entity, with roles (schema 3)",
        0x05 => "article by government (schema 3)",
        0x06 => "article by source (schema 3)",
        0x07 => "entity",
        0x08 => "alias",
        0x09 => "phonetic",
        0x0A => "mention with sentence (schema 1)",
        0x0B => "statement (schema 1)",
        0x0C => "statement by government (schema 1)",
        0x0D => "statement by speaker (schema 1)",
        0x0E => "statement by target (schema 1)",
        0x10 => "claim (with its evidence statement)",
        0x11 => "tally",
        0x12 => "evidence rank",
        0x13 => "near-duplicate band",
        0x14 => "posting blocks: article by date",
        0x15 => "posting blocks: article by entity, with roles",
        0x16 => "posting blocks: article by government",
        0x17 => "posting blocks: article by source",
        _ => return format!("kind 0x{kind:02x}"),
    };
    format!("0x{kind:02x} {name}")
}

#[derive(Default, serde::Serialize)]
struct Kind {
    name: String,
    entries: u64,
    key_bytes: u64,
    value_bytes: u64,
}

fn disk_bytes(path: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            disk_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let on_disk =
        disk_bytes(&cli.db).with_context(|| format!("cannot read {}", cli.db.display()))?;
    let db = sled::Config::new().path(&cli.db).open().with_context(|| {
        format!(
            "cannot open the store at {} (is a server holding it?)",
            cli.db.display()
        )
    })?;
    let tree = db.open_tree(&cli.tree)?;
    let mut kinds: BTreeMap<u8, Kind> = BTreeMap::new();
    for entry in tree.iter() {
        let (key, value) = entry?;
        let kind = key.first().copied().unwrap_or(0xff);
        let slot = kinds.entry(kind).or_insert_with(|| Kind {
            name: kind_name(kind),
            ..Kind::default()
        });
        slot.entries += 1;
        slot.key_bytes += key.len() as u64;
        slot.value_bytes += value.len() as u64;
    }
    let articles = kinds.get(&0x01).map_or(0, |k| k.entries);
    let logical: u64 = kinds.values().map(|k| k.key_bytes + k.value_bytes).sum();
    let rewritten = match &cli.rewrite_to {
        Some(path) => Some(rewrite(&tree, path)?),
        None => None,
    };
    if cli.json {
        let report = serde_json::json!({
            "on_disk_bytes": on_disk,
            "logical_bytes": logical,
            "rewritten_bytes": rewritten,
            "articles": articles,
            "kinds": kinds.values().collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let per_article = |bytes: u64| {
        if articles == 0 {
            0.0
        } else {
            bytes as f64 / articles as f64
        }
    };
    println!("| kind | entries | key bytes | value bytes | bytes per article | share of logical |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for kind in kinds.values() {
        let bytes = kind.key_bytes + kind.value_bytes;
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.1}% |",
            kind.name,
            kind.entries,
            kind.key_bytes,
            kind.value_bytes,
            per_article(bytes),
            100.0 * bytes as f64 / logical.max(1) as f64
        );
    }
    println!(
        "| total (logical) | {} | | | {:.0} | 100% |",
        kinds.values().map(|k| k.entries).sum::<u64>(),
        per_article(logical)
    );
    println!();
    println!(
        "articles {articles}; logical {logical} bytes ({:.0} per article); on disk {on_disk} bytes ({:.0} per article); on disk / logical {:.2}",
        per_article(logical),
        per_article(on_disk),
        on_disk as f64 / logical.max(1) as f64
    );
    if let Some(rewritten) = rewritten {
        println!(
            "the same entries written once into a fresh sled: {rewritten} bytes ({:.0} per article); store / fresh copy {:.2}",
            per_article(rewritten),
            on_disk as f64 / rewritten.max(1) as f64
        );
    }
    Ok(())
}

/// Copies every entry into a fresh sled database at `path`, in batches, and returns its size
/// on disk after a flush.
fn rewrite(tree: &sled::Tree, path: &Path) -> anyhow::Result<u64> {
    anyhow::ensure!(
        !path.exists(),
        "{} exists: --rewrite-to wants a new folder",
        path.display()
    );
    let copy = sled::Config::new()
        .path(path)
        .open()
        .with_context(|| format!("cannot create {}", path.display()))?;
    let target = copy.open_tree(tree.name())?;
    let mut batch = sled::Batch::default();
    let mut pending = 0usize;
    for entry in tree.iter() {
        let (key, value) = entry?;
        batch.insert(key, value);
        pending += 1;
        if pending == 1000 {
            target.apply_batch(std::mem::take(&mut batch))?;
            pending = 0;
        }
    }
    target.apply_batch(batch)?;
    copy.flush()?;
    drop(target);
    drop(copy);
    Ok(disk_bytes(path)?)
}
