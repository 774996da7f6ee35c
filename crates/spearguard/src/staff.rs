//! The staff directory in the running engine: where it comes from and what it changes.
//!
//! Precedence: `scan --directory FILE`, then `[organisation] directory` (both read at start,
//! CSV, or LDIF for `*.ldif`), then, for `serve` only, the copy saved in the store by
//! `spearguard directory import`. A file named in config that cannot be loaded is a config
//! error (nothing starts); it does not fall back to the stored copy, which would silently run
//! with stale data.
//!
//! The directory's domains join `[organisation] domains` as the organisation's own, and
//! people's display names feed the sender analyser's staff-impersonation check.

use std::path::Path;

use sg_detect::{Organisation, OrganisationConfig};
use sg_directory::{Directory, DirectoryError, Format, LdifOptions};

/// Loads the file `[organisation] directory` names (an empty directory when unset).
pub(crate) fn from_config(cfg: &OrganisationConfig) -> Result<Directory, String> {
    if cfg.directory.as_os_str().is_empty() {
        return Ok(Directory::default());
    }
    load(
        &cfg.directory,
        Format::from_path(&cfg.directory),
        &LdifOptions::default(),
    )
}

/// Loads a directory file, naming the file in the error.
pub(crate) fn load(path: &Path, format: Format, ldif: &LdifOptions) -> Result<Directory, String> {
    sg_directory::load(path, format, ldif).map_err(|e| match e {
        DirectoryError::Invalid { .. } => format!("{}: {e}", path.display()),
        other => other.to_string(),
    })
}

/// The organisation from config plus the directory's domains and staff display names.
pub(crate) fn organisation(cfg: &OrganisationConfig, dir: &Directory) -> Organisation {
    let mut cfg = cfg.clone();
    for d in dir.domains() {
        let known = cfg
            .domains
            .iter()
            .any(|c| c.trim().trim_end_matches('.').eq_ignore_ascii_case(d));
        if !known {
            cfg.domains.push(d.clone());
        }
    }
    Organisation::from_config(&cfg).with_staff_names(dir.display_names())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_domains_and_people_join_the_organisation() {
        let dir = Directory::parse_csv(
            b"address,name,department,published\n\
              info@pension.example,info,koho,true\n\
              t.yamada@branch.example,Yamada Taro,jinji,false\n",
        )
        .unwrap();
        let cfg = OrganisationConfig {
            domains: vec!["Pension.example".into()],
            ..OrganisationConfig::default()
        };
        let org = organisation(&cfg, &dir);
        assert_eq!(org.domains(), ["pension.example", "branch.example"]);
        assert_eq!(
            org.staff_names(),
            ["yamada taro"],
            "role mailbox names are not people"
        );
        assert!(org.is_own_domain("mail.branch.example"));
    }

    #[test]
    fn an_unset_key_is_an_empty_directory_and_a_bad_file_names_itself() {
        assert!(
            from_config(&OrganisationConfig::default())
                .unwrap()
                .is_empty()
        );
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("staff.csv");
        std::fs::write(&f, "address,name\n").unwrap();
        let cfg = OrganisationConfig {
            directory: f.clone(),
            ..OrganisationConfig::default()
        };
        let err = from_config(&cfg).unwrap_err();
        assert!(err.starts_with(&f.display().to_string()), "{err}");
        assert!(err.contains("line 1:"), "{err}");
    }
}
