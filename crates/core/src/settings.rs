//! The component's run-time settings, read from its environment (`environment` in spin.toml,
//! `--env` of `wasmtime serve`), so operators change them without a rebuild. A value that is not
//! understood never fails a request: the setting keeps its safe default and says why in a
//! warning the adapter logs.
//!
//! A setting the environment leaves unset takes the value the build's environment gave it, if
//! any (`config::codegen` checks it and compiles it in): a host that gives a component no
//! environment of its own, as Spin 4.1 a middleware, still gets the operator's choice.

use crate::access_log::AccessLog;
use crate::forwarding::ClientAddress;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `CORSGATE_ACCESS_LOG`: which requests get a log line.
    pub access_log: AccessLog,
    /// `CORSGATE_CLIENT_ADDRESS`: where the client's address is read.
    pub client_address: ClientAddress,
    /// One line per value that was not understood.
    pub warnings: Vec<String>,
}

impl Settings {
    /// Every setting's environment variable.
    pub const VARIABLES: [&'static str; 2] = [AccessLog::VARIABLE, ClientAddress::VARIABLE];

    /// The settings from `var`, which looks an environment variable up, else from `built_in`:
    /// the values the build's environment fixed, as (variable, value).
    pub fn read(var: impl Fn(&str) -> Option<String>, built_in: &[(&str, &str)]) -> Settings {
        Settings::from_env(|name| {
            var(name).or_else(|| {
                built_in
                    .iter()
                    .find(|(built_in_name, _)| *built_in_name == name)
                    .map(|(_, value)| value.to_string())
            })
        })
    }

    /// What is wrong with the values `var` gives, one line per setting, with no fallback: for a
    /// build that compiles them in (`config::codegen`), where a typo fails the build.
    pub fn problems(var: impl Fn(&str) -> Option<String>) -> Vec<String> {
        [
            AccessLog::from_setting(var(AccessLog::VARIABLE).as_deref()).err(),
            ClientAddress::from_setting(var(ClientAddress::VARIABLE).as_deref()).err(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The settings from `var` alone.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Settings {
        let mut warnings = Vec::new();
        let access_log = AccessLog::from_setting(var(AccessLog::VARIABLE).as_deref())
            .unwrap_or_else(|problem| {
                warnings.push(format!("{problem}; logging every request"));
                AccessLog::All
            });
        let client_address = ClientAddress::from_setting(var(ClientAddress::VARIABLE).as_deref())
            .unwrap_or_else(|problem| {
                warnings.push(format!(
                    "{problem}; the client address is logged as unknown"
                ));
                ClientAddress::Unknown
            });
        Settings {
            access_log,
            client_address,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_the_environment() {
        // (case, environment, access log, client address, warnings)
        type Case<'a> = (
            &'a str,
            &'a [(&'a str, &'a str)],
            AccessLog,
            ClientAddress,
            usize,
        );
        let cases: &[Case] = &[
            (
                "nothing set",
                &[],
                AccessLog::All,
                ClientAddress::Unknown,
                0,
            ),
            (
                "both set",
                &[
                    ("CORSGATE_ACCESS_LOG", "problems"),
                    ("CORSGATE_CLIENT_ADDRESS", "spin"),
                ],
                AccessLog::Problems,
                ClientAddress::SpinHeader,
                0,
            ),
            (
                "typos keep the safe defaults and warn",
                &[
                    ("CORSGATE_ACCESS_LOG", "off!"),
                    ("CORSGATE_CLIENT_ADDRESS", "yes"),
                ],
                AccessLog::All,
                ClientAddress::Unknown,
                2,
            ),
        ];
        for (case, env, access_log, client_address, warnings) in cases {
            let settings = Settings::from_env(|name| {
                env.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            });
            assert_eq!(settings.access_log, *access_log, "case {case}");
            assert_eq!(settings.client_address, *client_address, "case {case}");
            assert_eq!(settings.warnings.len(), *warnings, "case {case}");
        }
    }

    #[test]
    fn built_in_values_fill_what_the_environment_leaves_unset() {
        // (case, environment, built in, access log, client address)
        type Case<'a> = (
            &'a str,
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
            AccessLog,
            ClientAddress,
        );
        let cases: &[Case] = &[
            ("neither", &[], &[], AccessLog::All, ClientAddress::Unknown),
            (
                "built in only",
                &[],
                &[("CORSGATE_ACCESS_LOG", "problems")],
                AccessLog::Problems,
                ClientAddress::Unknown,
            ),
            (
                "the environment wins",
                &[("CORSGATE_ACCESS_LOG", "off")],
                &[("CORSGATE_ACCESS_LOG", "problems")],
                AccessLog::Off,
                ClientAddress::Unknown,
            ),
            (
                "each variable on its own",
                &[("CORSGATE_CLIENT_ADDRESS", "spin")],
                &[("CORSGATE_ACCESS_LOG", "off")],
                AccessLog::Off,
                ClientAddress::SpinHeader,
            ),
        ];
        for (case, env, built_in, access_log, client_address) in cases {
            let settings = Settings::read(
                |name| {
                    env.iter()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.to_string())
                },
                built_in,
            );
            assert_eq!(settings.access_log, *access_log, "case {case}");
            assert_eq!(settings.client_address, *client_address, "case {case}");
            assert!(settings.warnings.is_empty(), "case {case}");
        }
    }
}
