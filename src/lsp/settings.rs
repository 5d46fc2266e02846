//! What the editor says about how to check: `initializationOptions` at start, then
//! `workspace/didChangeConfiguration`. The same knobs as `agw check`'s flags, in JSON, either at
//! the top level or under `agw`:
//!
//! ```json
//! { "agw": { "env": {"OKTA_DOMAIN": "acme.okta.com"}, "envFile": ".env", "allowUnsetEnv": true,
//!            "processEnv": true, "root": "deploy", "allow": ["placeholder"], "deny": [],
//!            "gatewayVersion": "1.4.1" } }
//! ```

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use crate::check::rules::RuleOptions;
use crate::check::suppress::RulePolicy;
use crate::check::CheckOptions;
use crate::config::release::Release;
use crate::source::EnvOptions;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub env: HashMap<String, String>,
    pub env_file: Option<PathBuf>,
    pub allow_unset_env: bool,
    pub process_env: bool,
    pub root: Option<PathBuf>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    /// The gateway release to judge files as (`1.4.1` or `main`; default `main`).
    pub gateway_version: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            env: HashMap::new(),
            env_file: None,
            allow_unset_env: false,
            process_env: true,
            root: None,
            allow: Vec::new(),
            deny: Vec::new(),
            gateway_version: None,
        }
    }
}

impl Settings {
    /// Reads the settings object; `Err` says what is wrong, for a message to the user.
    pub fn from_value(v: Option<&Value>) -> Result<Settings, String> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(Settings::default());
        };
        let v = v.get("agw").unwrap_or(v);
        Settings::deserialize(v).map_err(|e| format!("agw settings: {e}"))
    }

    /// The check options these settings mean; `workspace` is where relative paths start.
    pub fn options(&self, workspace: Option<&std::path::Path>) -> Result<CheckOptions, String> {
        let resolve = |p: &PathBuf| match workspace {
            Some(w) if p.is_relative() => w.join(p),
            _ => p.clone(),
        };
        let mut env = EnvOptions {
            use_process_env: self.process_env,
            allow_unset: self.allow_unset_env,
            ..Default::default()
        };
        if let Some(f) = &self.env_file {
            let f = resolve(f);
            let text = std::fs::read_to_string(&f)
                .map_err(|e| format!("cannot read env file {}: {e}", f.display()))?;
            env.overrides.extend(
                EnvOptions::parse_env_file(&text)
                    .map_err(|e| format!("env file {}: {e}", f.display()))?,
            );
        }
        env.overrides
            .extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let policy = RulePolicy {
            allow: self.allow.clone(),
            deny: self.deny.clone(),
        };
        policy.validate()?;
        let release = match &self.gateway_version {
            None => Release::default(),
            Some(v) => Release::from_label(v).ok_or_else(|| {
                format!(
                    "agw settings: gatewayVersion `{v}` is not a release agw judges ({})",
                    Release::labels().join(", ")
                )
            })?,
        };
        Ok(CheckOptions {
            env,
            rules: RuleOptions {
                root: self
                    .root
                    .as_ref()
                    .map(resolve)
                    .or(workspace.map(PathBuf::from)),
                strict_files: false,
                ..Default::default()
            },
            policy,
            release,
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_version_selects_the_release() {
        let v = serde_json::json!({"agw": {"gatewayVersion": "1.4.1"}});
        let s = Settings::from_value(Some(&v)).unwrap();
        assert_eq!(s.options(None).unwrap().release, Release::V1_4_1);
        let v = serde_json::json!({"gatewayVersion": "2.0"});
        let e = Settings::from_value(Some(&v))
            .unwrap()
            .options(None)
            .unwrap_err();
        assert!(e.contains("1.4.1, main"), "{e}");
    }
}
