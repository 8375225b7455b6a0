//! The knowledge base the annotator links against: the built-in files under `worker/kb/`
//! (compiled in, so the binaries run from anywhere) plus any files or folders a user adds.

use std::path::{Path, PathBuf};

use communique_domain::KnowledgeBase;

const BUILT_IN: [(&str, &str); 4] = [
    ("kb/countries.toml", include_str!("../kb/countries.toml")),
    (
        "kb/organizations.toml",
        include_str!("../kb/organizations.toml"),
    ),
    ("kb/locations.toml", include_str!("../kb/locations.toml")),
    ("kb/people.toml", include_str!("../kb/people.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeBaseLoadError {
    #[error("cannot read knowledge-base path {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] communique_domain::KnowledgeBaseError),
}

/// Loads the built-in knowledge base, then each extra path in order (a folder contributes its
/// `*.toml` files, sorted by name). Later files may extend earlier entries by repeating an id.
pub fn load(extra: &[PathBuf]) -> Result<KnowledgeBase, KnowledgeBaseLoadError> {
    let mut files: Vec<(String, String)> = Vec::new();
    for path in extra {
        collect(path, &mut files)?;
    }
    let sources = BUILT_IN.iter().map(|(name, text)| (*name, *text)).chain(
        files
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str())),
    );
    Ok(KnowledgeBase::from_sources(sources)?)
}

fn collect(path: &Path, files: &mut Vec<(String, String)>) -> Result<(), KnowledgeBaseLoadError> {
    let read_error = |source| KnowledgeBaseLoadError::Read {
        path: path.display().to_string(),
        source,
    };
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(read_error)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        entries.sort();
        for entry in entries {
            collect(&entry, files)?;
        }
    } else {
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        files.push((path.display().to_string(), text));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_knowledge_base_is_valid_and_dated() {
        let kb = load(&[]).unwrap();
        assert!(kb.countries().count() >= 193, "every UN member state");
        let on = |id: &str, date: &str| -> Vec<String> {
            kb.governments_of_person_on(id, date.parse().unwrap())
                .into_iter()
                .map(|a| a.government_code.clone())
                .collect()
        };
        assert_eq!(on("boris-johnson", "2020-01-05"), ["GBR"]);
        assert!(on("boris-johnson", "2024-01-05").is_empty());
        assert!(on("jeremy-hunt", "2020-01-05").is_empty());
        assert_eq!(
            kb.organization_speaks_for("us-department-of-defense"),
            Some("USA")
        );
    }

    #[test]
    fn a_user_file_extends_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("extra.toml"),
            "[[country]]\ncode = \"ZZA\"\nname = \"Zedland\"\n",
        )
        .unwrap();
        let kb = load(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(kb.government_name("ZZA"), Some("Zedland"));
        let error = load(&[dir.path().join("missing.toml")]).unwrap_err();
        assert!(error.to_string().contains("missing.toml"), "{error}");
    }
}
