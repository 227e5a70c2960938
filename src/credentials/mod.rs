//! Registry credentials: the docker-style `config.json` store, credential helpers, and secret
//! newtypes that never print their value.

mod helper;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

/// A secret string whose `Debug` and `Display` print `*****`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

/// What a registry is told about who we are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: Secret,
    },
    /// An `OAuth2` refresh token (what `az acr login` and `oras login -p` without `-u` store),
    /// sent to a token server in a refresh grant.
    IdentityToken {
        token: Secret,
        /// The username and password a config.json entry keeps next to the token (`auth`):
        /// what a registry that asks for Basic is answered with, as oras-go does.
        basic: Option<(String, Secret)>,
    },
    /// A bearer token sent to the registry as is (config.json's `registrytoken`; oras-go's
    /// access token): no token server is asked.
    RegistryToken(Secret),
}

impl Credential {
    /// A refresh token on its own (a login with a token, a credential helper's `<token>`).
    pub fn identity_token(token: impl Into<String>) -> Self {
        Self::IdentityToken {
            token: Secret::new(token),
            basic: None,
        }
    }

    /// The username and password to answer a Basic challenge with, if there are any.
    #[must_use]
    pub fn basic(&self) -> Option<(&str, &Secret)> {
        match self {
            Self::Basic { username, password }
            | Self::IdentityToken {
                basic: Some((username, password)),
                ..
            } => Some((username, password)),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("failed to read the authentication file {path:?}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the authentication file {path:?} is not valid JSON: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("failed to write the authentication file {path:?}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad credential format: colons(:) are not allowed in username")]
    ColonInUsername,
    #[error("invalid auth entry for {0:?} in the authentication file")]
    BadEntry(String),
    #[error("credential helper {helper:?}: {message}")]
    Helper { helper: String, message: String },
    /// A helper failed when a registry asked for credentials; names where it is configured.
    #[error("credential helper {helper:?} failed to get the credentials for {server}: {message}")]
    HelperGet {
        helper: String,
        message: String,
        server: String,
        /// The config file naming the helper.
        config: PathBuf,
        /// `"credsStore"`, or `"credHelpers"` when the helper is set for this server only.
        setting: &'static str,
    },
}

impl CredentialError {
    /// How to get past the error, for the line under it.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        let Self::HelperGet {
            helper,
            server,
            config,
            setting,
            ..
        } = self
        else {
            return None;
        };
        let config = config.display().to_string();
        let desktop = if helper.starts_with("docker-credential-desktop") {
            " (is Docker Desktop running?)"
        } else {
            ""
        };
        let entry = if *setting == "credsStore" {
            "\"credsStore\"".to_owned()
        } else {
            format!("the \"credHelpers\" entry for {server:?}")
        };
        Some(format!(
            "The helper is set by {entry} in {config:?}. Check that {helper:?} is installed and \
             working{desktop}, or log in again with `oras login {server}`; to do without it, \
             remove {entry} from that file, use another file with --registry-config, or pass \
             -u with --password-stdin."
        ))
    }
}

/// The key a registry's credentials are stored under (`docker.io` keeps Docker's historic key).
#[must_use]
pub fn server_key(registry: &str) -> String {
    match registry {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => {
            "https://index.docker.io/v1/".to_owned()
        }
        other => other.to_owned(),
    }
}

/// Strips a scheme and path from a legacy key (`https://host/`, `http://host/v1/`).
fn normalize_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

/// The docker `config.json` files in use: the first is written, the rest are read-only fallbacks.
#[derive(Debug, Clone)]
pub struct Store {
    paths: Vec<PathBuf>,
}

impl Store {
    /// `--registry-config` paths when given, else `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`.
    #[must_use]
    pub fn new(paths: &[PathBuf]) -> Self {
        if paths.is_empty() {
            Self {
                paths: vec![default_config_path()],
            }
        } else {
            Self {
                paths: paths.to_vec(),
            }
        }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.paths[0]
    }

    /// Looks up credentials for `registry`: a helper named in `credHelpers`, then `credsStore`,
    /// then the file's `auths`.
    pub fn get(&self, registry: &str) -> Result<Option<Credential>, CredentialError> {
        self.lookup(registry)?.resolve()
    }

    /// Reads the config files for `registry` as far as they answer without a credential
    /// helper; a helper is left for [`Lookup::resolve`], run when the registry asks.
    pub fn lookup(&self, registry: &str) -> Result<Lookup, CredentialError> {
        let server = server_key(registry);
        for (i, path) in self.paths.iter().enumerate() {
            let config = read_config(path)?;
            if helper_for(&config, &server).is_some() {
                return Ok(Lookup {
                    server,
                    known: None,
                    deferred: self.paths[i..].to_vec(),
                });
            }
            if let Some(c) = lookup_auths(&config, &server)? {
                return Ok(Lookup::known(Some(c)));
            }
        }
        Ok(Lookup::known(None))
    }

    /// Stores credentials for `registry` through the helper when one is configured, else in the
    /// file. The file is rewritten atomically with mode 0600; unknown keys are kept.
    pub fn put(&self, registry: &str, credential: &Credential) -> Result<(), CredentialError> {
        if let Credential::Basic { username, .. } = credential
            && username.contains(':')
        {
            return Err(CredentialError::ColonInUsername);
        }
        let key = server_key(registry);
        let path = self.path();
        // Read-modify-write under a lock, so that concurrent logins never lose each other's
        // entries (the rename alone keeps the file whole, not complete).
        let _lock = lock_config(path)?;
        let mut config = read_config(path)?;
        if let Some(helper) = helper_for(&config, &key) {
            return helper::store(&helper, &key, credential);
        }
        let entry = match credential {
            Credential::Basic { username, password } => {
                let auth = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()));
                serde_json::json!({ "auth": auth })
            }
            Credential::RegistryToken(token) => {
                serde_json::json!({ "registrytoken": token.expose() })
            }
            Credential::IdentityToken { token, .. } => {
                serde_json::json!({ "identitytoken": token.expose() })
            }
        };
        let auths = config
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        if let Some(map) = auths.as_object_mut() {
            map.insert(key, entry);
        }
        write_config(path, &config)
    }

    /// Removes the credentials for `registry`; a registry with none is not an error.
    pub fn delete(&self, registry: &str) -> Result<(), CredentialError> {
        let key = server_key(registry);
        let path = self.path();
        let _lock = lock_config(path)?;
        let mut config = read_config(path)?;
        if let Some(helper) = helper_for(&config, &key) {
            return helper::erase(&helper, &key);
        }
        let Some(auths) = config.get_mut("auths").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let before = auths.len();
        auths.retain(|k, _| normalize_key(k) != key && k != &key);
        if auths.len() == before {
            return Ok(());
        }
        write_config(path, &config)
    }
}

/// A registry's credential: known already (flags, a file's `auths`), or to be asked of a
/// credential helper. Helpers run only when a registry asks for credentials, as in the Go
/// client, so a broken one does not fail anonymous access (oras#743).
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    server: String,
    known: Option<Credential>,
    /// The config files from the first that names a helper for the server on, read again
    /// in order when the credential is needed.
    deferred: Vec<PathBuf>,
}

impl Lookup {
    /// A lookup with its answer in hand.
    #[must_use]
    pub fn known(credential: Option<Credential>) -> Self {
        Self {
            server: String::new(),
            known: credential,
            deferred: Vec::new(),
        }
    }

    /// The credential, when no helper has to run to know it.
    #[must_use]
    pub fn ready(&self) -> Option<Option<&Credential>> {
        self.deferred.is_empty().then_some(self.known.as_ref())
    }

    /// The credential, running the helpers the config files name until one has it. Blocks
    /// while a helper runs; each helper is asked about a server once per process.
    pub fn resolve(&self) -> Result<Option<Credential>, CredentialError> {
        if let Some(known) = self.ready() {
            return Ok(known.cloned());
        }
        for path in &self.deferred {
            let config = read_config(path)?;
            if let Some(helper) = helper_for(&config, &self.server) {
                let setting = if per_host_helper(&config, &self.server).is_some() {
                    "credHelpers"
                } else {
                    "credsStore"
                };
                let answer = helper_answer(&helper, &self.server).map_err(|e| match e {
                    CredentialError::Helper { helper, message } => CredentialError::HelperGet {
                        helper,
                        message,
                        server: self.server.clone(),
                        config: path.clone(),
                        setting,
                    },
                    other => other,
                })?;
                if answer.is_some() {
                    return Ok(answer);
                }
                continue;
            }
            if let Some(c) = lookup_auths(&config, &self.server)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

/// What `helper` answered for `server` in this process, "none" and failures included: the
/// lock is held while the helper runs, so concurrent clients of one registry wait for one run.
fn helper_answer(helper: &str, server: &str) -> Result<Option<Credential>, CredentialError> {
    type Answer = Result<Option<Credential>, (String, String)>;
    static ANSWERS: std::sync::Mutex<BTreeMap<(String, String), Answer>> =
        std::sync::Mutex::new(BTreeMap::new());
    let mut answers = ANSWERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let answer = answers
        .entry((helper.to_owned(), server.to_owned()))
        .or_insert_with(|| {
            helper::get(helper, server).map_err(|e| match e {
                CredentialError::Helper { helper, message } => (helper, message),
                other => (format!("docker-credential-{helper}"), other.to_string()),
            })
        });
    answer
        .clone()
        .map_err(|(helper, message)| CredentialError::Helper { helper, message })
}

/// An exclusive lock on the directory holding the config, held until the returned handle is
/// dropped: concurrent logins and logouts take turns, and no lock file is left beside the
/// config (the directory itself is locked).
fn lock_config(path: &Path) -> Result<std::fs::File, CredentialError> {
    let err = |source| CredentialError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    let handle = std::fs::File::open(dir).map_err(err)?;
    handle.lock().map_err(err)?;
    Ok(handle)
}

fn default_config_path() -> PathBuf {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("config.json");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".docker").join("config.json")
}

/// Reads a config file; a missing file is an empty config, a malformed one an error.
fn read_config(path: &Path) -> Result<Map<String, Value>, CredentialError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(source) => {
            return Err(CredentialError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    serde_json::from_slice(&bytes).map_err(|source| CredentialError::Corrupt {
        path: path.to_owned(),
        source,
    })
}

fn write_config(path: &Path, config: &Map<String, Value>) -> Result<(), CredentialError> {
    let err = |source| CredentialError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(err)?;
    }
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut bytes,
        serde_json::ser::PrettyFormatter::with_indent(b"\t"),
    );
    serde::Serialize::serialize(config, &mut ser).map_err(|e| err(e.into()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix("oras_credstore_temp_")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(&bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};

/// The helper `credHelpers` names for `key`, if any.
fn per_host_helper<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config
        .get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.as_str() == key || normalize_key(k) == key)
                .map(|(_, v)| v)
        })
        .and_then(Value::as_str)
}

fn helper_for(config: &Map<String, Value>, key: &str) -> Option<String> {
    per_host_helper(config, key)
        .or_else(|| config.get("credsStore").and_then(Value::as_str))
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
}

fn lookup_auths(
    config: &Map<String, Value>,
    key: &str,
) -> Result<Option<Credential>, CredentialError> {
    let Some(auths) = config.get("auths").and_then(Value::as_object) else {
        return Ok(None);
    };
    let entry = auths.get(key).or_else(|| {
        auths
            .iter()
            .find(|(k, _)| normalize_key(k) == key)
            .map(|(_, v)| v)
    });
    let Some(entry) = entry.and_then(Value::as_object) else {
        return Ok(None);
    };
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let basic = match field("auth") {
        Some(auth) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| CredentialError::BadEntry(key.to_owned()))?;
            let (user, pass) = decoded
                .split_once(':')
                .ok_or_else(|| CredentialError::BadEntry(key.to_owned()))?;
            Some((user.to_owned(), Secret::new(pass)))
        }
        None => field("username")
            .zip(field("password"))
            .map(|(user, pass)| (user.to_owned(), Secret::new(pass))),
    };
    if let Some(token) = field("identitytoken") {
        return Ok(Some(Credential::IdentityToken {
            token: Secret::new(token),
            basic,
        }));
    }
    if let Some(token) = field("registrytoken") {
        return Ok(Some(Credential::RegistryToken(Secret::new(token))));
    }
    if let Some((username, password)) = basic {
        return Ok(Some(Credential::Basic { username, password }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(server_key("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(server_key("localhost:5000"), "localhost:5000");
        assert_eq!(normalize_key("https://host:5000/"), "host:5000");
        assert_eq!(normalize_key("http://host/v1/"), "host");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "***** *****");
        let c = Credential::Basic {
            username: "u".into(),
            password: s,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn put_get_delete_keeps_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"psFormat":"x","auths":{"https://legacy.io/":{"auth":"dTpw"}}}"#,
        )
        .unwrap();
        let store = Store::new(std::slice::from_ref(&path));
        assert_eq!(
            store.get("legacy.io").unwrap(),
            Some(Credential::Basic {
                username: "u".into(),
                password: Secret::new("p")
            })
        );
        let cred = Credential::Basic {
            username: "hello".into(),
            password: Secret::new("oras-test"),
        };
        store.put("localhost:5000", &cred).unwrap();
        assert_eq!(store.get("localhost:5000").unwrap(), Some(cred));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"psFormat\": \"x\""), "{text}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        store.delete("localhost:5000").unwrap();
        assert_eq!(store.get("localhost:5000").unwrap(), None);
    }

    #[test]
    fn concurrent_puts_all_land_and_leave_no_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let store = Store::new(&[path]);
                    let cred = Credential::identity_token(format!("token-{i}"));
                    store.put(&format!("registry{i}.example"), &cred).unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = Store::new(std::slice::from_ref(&path));
        for i in 0..16 {
            assert_eq!(
                store.get(&format!("registry{i}.example")).unwrap(),
                Some(Credential::identity_token(format!("token-{i}"))),
                "registry{i} kept"
            );
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["config.json"]);
    }

    #[test]
    fn corrupt_file_is_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{not json").unwrap();
        let store = Store::new(std::slice::from_ref(&path));
        let cred = Credential::identity_token("t");
        assert!(matches!(
            store.put("r.io", &cred),
            Err(CredentialError::Corrupt { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{not json");
    }

    #[test]
    fn lookup_leaves_helpers_for_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let store = Store::new(std::slice::from_ref(&path));
        std::fs::write(&path, r#"{"auths":{"r.io":{"auth":"dTpw"}}}"#).unwrap();
        assert!(matches!(
            store.lookup("r.io").unwrap().ready(),
            Some(Some(Credential::Basic { .. }))
        ));
        assert!(matches!(
            store.lookup("other.io").unwrap().ready(),
            Some(None)
        ));
        for (config, setting) in [
            (r#"{"credsStore":"oras-unit-missing"}"#, r#""credsStore""#),
            (
                r#"{"credHelpers":{"r.io":"oras-unit-missing"}}"#,
                r#""credHelpers" entry for "r.io""#,
            ),
        ] {
            std::fs::write(&path, config).unwrap();
            let lookup = store.lookup("r.io").unwrap();
            assert!(lookup.ready().is_none(), "{config}: no helper run yet");
            let err = lookup.resolve().unwrap_err();
            assert_eq!(
                err.to_string(),
                "credential helper \"docker-credential-oras-unit-missing\" failed to get the \
                 credentials for r.io: executable file not found in $PATH"
            );
            let hint = err.hint().unwrap();
            assert!(hint.contains(setting), "{hint}");
            assert!(hint.contains(&format!("{path:?}")), "{hint}");
        }
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            store.lookup("r.io"),
            Err(CredentialError::Corrupt { .. })
        ));
    }

    const NULL_GUID: &str = "00000000-0000-0000-0000-000000000000";

    #[test]
    fn identity_token_wins_over_acr_null_user() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        // The shape `az acr login` leaves behind.
        std::fs::write(
            &path,
            r#"{"auths":{"r.azurecr.io":{"auth":"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==","identitytoken":"tok"}}}"#,
        )
        .unwrap();
        let store = Store::new(std::slice::from_ref(&path));
        assert_eq!(
            store.get("r.azurecr.io").unwrap(),
            Some(Credential::IdentityToken {
                token: Secret::new("tok"),
                basic: Some((NULL_GUID.to_owned(), Secret::new(""))),
            })
        );
    }

    #[test]
    fn an_entry_with_a_token_and_a_password_keeps_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths":{"r.io":{"username":"u","password":"p","identitytoken":"tok"}}}"#,
        )
        .unwrap();
        let cred = Store::new(std::slice::from_ref(&path))
            .get("r.io")
            .unwrap()
            .unwrap();
        let (user, pass) = cred.basic().unwrap();
        assert_eq!((user, pass.expose()), ("u", "p"));
        assert!(
            matches!(cred, Credential::IdentityToken { ref token, .. } if token.expose() == "tok")
        );
    }
}
