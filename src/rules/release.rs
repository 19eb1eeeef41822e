//! Synapse's releases, as far as the link is concerned: MAS's floor, and from which release
//! QR-code login (MSC4108) may stand beside `matrix_authentication_service`. What the link
//! writes and judges fits the release it is for; an unknown release is said, never silently
//! assumed.

use std::fmt;

/// A Synapse release, `major.minor.patch` (a suffix such as `rc1` is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release(pub u32, pub u32, pub u32);

/// MAS supports Synapse 1.136.0 or later (MAS's homeserver docs); older releases ignore the
/// stable `matrix_authentication_service` section.
pub const FLOOR: Release = Release(1, 136, 0);

/// Synapse 1.136 refuses `msc4108_enabled` next to the stable section ("MSC4108 requires
/// MSC3861 to be enabled", element-hq/synapse#18808); fixed in 1.137 (#18832).
pub const QR_LOGIN: Release = Release(1, 137, 0);

/// From this release, Synapse's loader refuses `matrix_authentication_service` enabled without
/// a secret; before, the model checked `secret` only when the key was there.
pub const STRICT_SECRET: Release = Release(1, 142, 0);

/// Keys a release before the one named does not read (and so ignores whatever they hold).
pub const NEWER_KEYS: &[(&str, Release)] = &[
    ("matrix_authentication_service.force_http2", FORCE_HTTP2),
    ("experimental_features.msc4388_mode", MSC4388),
];

/// The first release with `matrix_authentication_service.force_http2`.
pub const FORCE_HTTP2: Release = Release(1, 151, 0);

/// The first release that reads `experimental_features.msc4388_mode` (its modes then `off`,
/// `public`, `authenticated`, needing MAS for any but `off`).
pub const MSC4388: Release = Release(1, 149, 0);

/// From this release `public` is named `open`.
pub const MSC4388_OPEN: Release = Release(1, 151, 0);

/// Releases that crash at start on `experimental_features:` left empty (null).
pub const EXPERIMENTAL_NULL_CRASH: (Release, Release) = (Release(1, 157, 0), Release(1, 158, 0));

/// From this release Synapse refuses the legacy `experimental_features.msc3861` block; before,
/// it read it (the way MAS was paired before the stable section).
pub const MSC3861_REFUSED: Release = Release(1, 157, 0);

/// From this release Synapse's config loader itself refuses open registration without
/// verification (`validate_config`); before, Synapse's start-up did, after the loader
/// (`synapse/app/homeserver.py`): the loader accepts what Synapse then refuses to start with.
pub const LOADER_CHECKS_REGISTRATION: Release = Release(1, 140, 0);

/// The keys whose refusal comes from Synapse's start-up, not its loader, in this release: a
/// loader's acceptance does not lift them.
pub fn refused_at_startup(r: Release) -> &'static [&'static str] {
    match r < LOADER_CHECKS_REGISTRATION {
        true => &["enable_registration"],
        false => &[],
    }
}

impl Release {
    /// `1.144.0`, `v1.144.0`, `1.144.0rc1`, `1.144`: the numbers; anything else is none.
    pub fn parse(text: &str) -> Option<Release> {
        let text = text.trim().trim_start_matches('v');
        let mut parts = text.splitn(3, '.');
        let number = |p: Option<&str>| -> Option<u32> {
            let p = p?;
            let digits = p.find(|c: char| !c.is_ascii_digit()).unwrap_or(p.len());
            p[..digits].parse().ok()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = parts.next().map_or(Some(0), |p| number(Some(p)))?;
        Some(Release(major, minor, patch))
    }

    /// Whether MAS can pair with it at all.
    pub fn has_mas_section(self) -> bool {
        self >= FLOOR
    }

    /// Whether QR-code login may be turned on beside MAS.
    pub fn qr_login_with_mas(self) -> bool {
        self >= QR_LOGIN
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Synapse's version for this run, and where it was learnt (for the output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub release: Release,
    /// As found (`1.144.0rc1`).
    pub text: String,
    /// `Synapse's loader (/app/code/env/bin/python)`, `--synapse-version`, …
    pub from: String,
}

impl Known {
    /// `Synapse 1.144.0 (from Synapse's loader, /app/code/env/bin/python)`.
    pub fn describe(&self) -> String {
        format!("Synapse {} (from {})", self.text, self.from)
    }
}

/// What the output says of a release, known or not.
pub fn describe(known: Option<&Known>) -> String {
    match known {
        Some(k) => k.describe(),
        None => format!(
            "Synapse's release: unknown here (no Synapse install found; give --synapse-version \
             VERSION or MAS_LINK_SYNAPSE_VERSION); the plan assumes {QR_LOGIN} or newer"
        ),
    }
}

/// Why a release cannot be linked to MAS at all.
pub fn too_old(r: Release) -> String {
    format!(
        "Synapse {r} has no `matrix_authentication_service`; MAS needs {FLOOR} or newer: \
         upgrade Synapse first"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_releases() {
        assert_eq!(Release::parse("1.144.0"), Some(Release(1, 144, 0)));
        assert_eq!(Release::parse("v1.136.1rc2"), Some(Release(1, 136, 1)));
        assert_eq!(Release::parse("1.137"), Some(Release(1, 137, 0)));
        assert_eq!(Release::parse("latest"), None);
        assert!(!Release(1, 135, 2).has_mas_section());
        assert!(Release(1, 136, 0).has_mas_section());
        assert!(!Release(1, 136, 9).qr_login_with_mas());
        assert!(Release(1, 137, 0).qr_login_with_mas());
    }
}
