//! The component's run-time settings, read from its environment (`environment` in spin.toml,
//! `--env` of `wasmtime serve`), so operators change them without a rebuild. A value that is not
//! understood never fails a request: the setting keeps its safe default and says why in a
//! warning the adapter logs.
//!
//! A setting the environment leaves unset takes the value the build's environment gave it, if
//! any (`config::codegen` checks it and compiles it in): a host that gives a component no
//! environment of its own, as Spin 4.1 a middleware, still gets the operator's choice.

use crate::access_log::{AccessLog, LogFormat, LogLine};
use crate::forwarding::ClientAddress;
use crate::live::LiveTtl;

/// The settings an adapter runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `CORSGATE_ACCESS_LOG`: which requests get a log line.
    pub access_log: AccessLog,
    /// `CORSGATE_CLIENT_ADDRESS`: where the client's address is read.
    pub client_address: ClientAddress,
    /// `CORSGATE_LOG_FORMAT`: how the lines are written.
    pub log_format: LogFormat,
    /// `CORSGATE_LIVE_TTL`: how long a live origin list is used before the store is read again.
    pub live_ttl: LiveTtl,
    /// One line per value that was not understood.
    pub warnings: Vec<String>,
}

/// One setting: its variable, how a value of it is applied, and what the gateway does instead
/// when the value is not understood.
struct Setting {
    variable: &'static str,
    apply: fn(&mut Settings, Option<&str>) -> Result<(), String>,
    instead: &'static str,
}

/// Every setting, once: reading, checking and listing them all go through this table.
const SETTINGS: [Setting; 4] = [
    Setting {
        variable: AccessLog::VARIABLE,
        apply: |settings, value| {
            settings.access_log = AccessLog::from_setting(value)?;
            Ok(())
        },
        instead: "logging every request",
    },
    Setting {
        variable: ClientAddress::VARIABLE,
        apply: |settings, value| {
            settings.client_address = ClientAddress::from_setting(value)?;
            Ok(())
        },
        instead: "the client address is logged as unknown",
    },
    Setting {
        variable: LogFormat::VARIABLE,
        apply: |settings, value| {
            settings.log_format = LogFormat::from_setting(value)?;
            Ok(())
        },
        instead: "writing logfmt",
    },
    Setting {
        variable: LiveTtl::VARIABLE,
        apply: |settings, value| {
            settings.live_ttl = LiveTtl::from_setting(value)?;
            Ok(())
        },
        instead: "reading live origin lists every 5 s",
    },
];

impl Default for Settings {
    /// The safe defaults: every request logged, no client address trusted.
    fn default() -> Settings {
        Settings {
            access_log: AccessLog::All,
            client_address: ClientAddress::Unknown,
            log_format: LogFormat::Logfmt,
            live_ttl: LiveTtl::DEFAULT,
            warnings: Vec::new(),
        }
    }
}

impl Settings {
    /// Every setting's environment variable.
    pub fn variables() -> impl Iterator<Item = &'static str> {
        SETTINGS.iter().map(|setting| setting.variable)
    }

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
        let mut scratch = Settings::default();
        SETTINGS
            .iter()
            .filter_map(|setting| {
                (setting.apply)(&mut scratch, var(setting.variable).as_deref()).err()
            })
            .collect()
    }

    /// The warnings as the adapters write them: one `corsgate warning: …` line each, newline
    /// included (empty when every value was understood).
    pub fn warning_lines(&self) -> String {
        self.warnings
            .iter()
            .map(|warning| format!("corsgate warning: {warning}\n"))
            .collect()
    }

    /// The request's line as written, newline included, when `CORSGATE_ACCESS_LOG` wants it;
    /// its `time` from `unix_ms` (the host's wall clock, milliseconds since the Unix epoch),
    /// asked only then: it is a host call.
    pub fn log_text(&self, line: &LogLine<'_>, unix_ms: impl FnOnce() -> u64) -> Option<String> {
        self.access_log.wants(line).then(|| {
            let mut text = self.log_format.write(line, Some(unix_ms()));
            text.push('\n');
            text
        })
    }

    /// The settings from `var` alone. A value that is not understood leaves its setting at the
    /// safe default and says so in a warning.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Settings {
        let mut settings = Settings::default();
        for setting in &SETTINGS {
            if let Err(problem) = (setting.apply)(&mut settings, var(setting.variable).as_deref()) {
                settings
                    .warnings
                    .push(format!("{problem}; {}", setting.instead));
            }
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_written_one_line_each() {
        let settings = Settings::from_env(|name| Some(format!("{name}?")));
        assert_eq!(
            settings.warning_lines(),
            "corsgate warning: CORSGATE_ACCESS_LOG=\"CORSGATE_ACCESS_LOG?\" is not one of all, problems, off; logging every request\n\
             corsgate warning: CORSGATE_CLIENT_ADDRESS=\"CORSGATE_CLIENT_ADDRESS?\" is not one of spin, unknown; the client address is logged as unknown\n\
             corsgate warning: CORSGATE_LOG_FORMAT=\"CORSGATE_LOG_FORMAT?\" is not one of logfmt, json; writing logfmt\n\
             corsgate warning: CORSGATE_LIVE_TTL=\"CORSGATE_LIVE_TTL?\" is not a whole number of seconds from 1 to 300; reading live origin lists every 5 s\n"
        );
        assert_eq!(Settings::default().warning_lines(), "");
    }

    #[test]
    fn settings_from_the_environment() {
        struct Case {
            name: &'static str,
            /// The run-time environment, as (variable, value).
            env: &'static [(&'static str, &'static str)],
            access_log: AccessLog,
            client_address: ClientAddress,
            /// How many warnings the values that were not understood give.
            warnings: usize,
        }
        let cases: &[Case] = &[
            Case {
                name: "nothing set",
                env: &[],
                access_log: AccessLog::All,
                client_address: ClientAddress::Unknown,
                warnings: 0,
            },
            Case {
                name: "both set",
                env: &[
                    ("CORSGATE_ACCESS_LOG", "problems"),
                    ("CORSGATE_CLIENT_ADDRESS", "spin"),
                ],
                access_log: AccessLog::Problems,
                client_address: ClientAddress::SpinHeader,
                warnings: 0,
            },
            Case {
                name: "typos keep the safe defaults and warn",
                env: &[
                    ("CORSGATE_ACCESS_LOG", "off!"),
                    ("CORSGATE_CLIENT_ADDRESS", "yes"),
                ],
                access_log: AccessLog::All,
                client_address: ClientAddress::Unknown,
                warnings: 2,
            },
        ];
        for case in cases {
            let settings = Settings::from_env(|name| {
                case.env
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            });
            let name = case.name;
            assert_eq!(settings.access_log, case.access_log, "case {name}");
            assert_eq!(settings.client_address, case.client_address, "case {name}");
            assert_eq!(settings.warnings.len(), case.warnings, "case {name}");
        }
    }

    #[test]
    fn built_in_values_fill_what_the_environment_leaves_unset() {
        struct Case {
            name: &'static str,
            /// The run-time environment, as (variable, value).
            env: &'static [(&'static str, &'static str)],
            /// The build's environment, as (variable, value).
            built_in: &'static [(&'static str, &'static str)],
            access_log: AccessLog,
            client_address: ClientAddress,
        }
        let cases: &[Case] = &[
            Case {
                name: "neither",
                env: &[],
                built_in: &[],
                access_log: AccessLog::All,
                client_address: ClientAddress::Unknown,
            },
            Case {
                name: "built in only",
                env: &[],
                built_in: &[("CORSGATE_ACCESS_LOG", "problems")],
                access_log: AccessLog::Problems,
                client_address: ClientAddress::Unknown,
            },
            Case {
                name: "the environment wins",
                env: &[("CORSGATE_ACCESS_LOG", "off")],
                built_in: &[("CORSGATE_ACCESS_LOG", "problems")],
                access_log: AccessLog::Off,
                client_address: ClientAddress::Unknown,
            },
            Case {
                name: "each variable on its own",
                env: &[("CORSGATE_CLIENT_ADDRESS", "spin")],
                built_in: &[("CORSGATE_ACCESS_LOG", "off")],
                access_log: AccessLog::Off,
                client_address: ClientAddress::SpinHeader,
            },
        ];
        for case in cases {
            let settings = Settings::read(
                |name| {
                    case.env
                        .iter()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.to_string())
                },
                case.built_in,
            );
            let name = case.name;
            assert_eq!(settings.access_log, case.access_log, "case {name}");
            assert_eq!(settings.client_address, case.client_address, "case {name}");
            assert!(settings.warnings.is_empty(), "case {name}");
        }
    }
}
