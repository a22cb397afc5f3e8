//! The component's run-time settings, read from its environment (`environment` in spin.toml,
//! `--env` of `wasmtime serve`), so operators change them without a rebuild. A value that is not
//! understood never fails a request: the setting keeps its safe default and says why in a
//! warning the adapter logs.

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
    /// The settings from `var`, which looks an environment variable up.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Settings {
        let mut warnings = Vec::new();
        let access_log = AccessLog::from_setting(var(AccessLog::VARIABLE).as_deref())
            .unwrap_or_else(|warning| {
                warnings.push(warning);
                AccessLog::All
            });
        let client_address = ClientAddress::from_setting(var(ClientAddress::VARIABLE).as_deref())
            .unwrap_or_else(|warning| {
                warnings.push(warning);
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
}
