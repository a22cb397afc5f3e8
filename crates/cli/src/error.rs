//! The one error path of the CLI: every failure is a [`CliError`], printed once by `main`.

use std::fmt;

#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad arguments or input files (exit 2).
    Usage(String),
    /// A file or folder could not be read (exit 2).
    Io(String),
    /// The policies are invalid (exit 1); the errors were already printed.
    Invalid(usize),
    /// What was asked would be refused where it matters, so nothing was done (exit 1).
    Refused(String),
}

impl CliError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Invalid(_) | CliError::Refused(_) => 1,
            CliError::Usage(_) | CliError::Io(_) => 2,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => write!(f, "{m}"),
            CliError::Io(m) | CliError::Refused(m) => write!(f, "{m}"),
            CliError::Invalid(n) => {
                write!(f, "{n} error(s); fix them and run `corsgate check` again")
            }
        }
    }
}
