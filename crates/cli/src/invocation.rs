//! How the user typed the program: `corsgate`, or `spin corsgate` when Spin runs it as a
//! plugin. Usage lines, examples and hints then show a command the user can paste back.

/// `spin corsgate` under Spin, else `corsgate`. Spin sets `SPIN_BIN_PATH` (its own executable)
/// in the environment of every plugin it runs (spin `src/commands/external.rs`,
/// `get_env_vars_map`), and in no other child's.
pub(crate) fn program() -> &'static str {
    if std::env::var_os("SPIN_BIN_PATH").is_some() {
        "spin corsgate"
    } else {
        "corsgate"
    }
}

/// `text` (an example or a hint written for `corsgate`) with each command line starting with
/// `corsgate ` spelled as the user invoked the program.
pub(crate) fn spelled(text: &str) -> String {
    spelled_as(text, program())
}

fn spelled_as(text: &str, program: &str) -> String {
    text.replace("  corsgate ", &format!("  {program} "))
        .replace("`corsgate ", &format!("`{program} "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Examples:\n  corsgate check   # policies/\nrun `corsgate check` again";

    #[test]
    fn outside_spin_the_text_is_left_as_written() {
        assert_eq!(spelled_as(TEXT, "corsgate"), TEXT);
    }

    #[test]
    fn under_spin_commands_name_the_plugin() {
        assert_eq!(
            spelled_as(TEXT, "spin corsgate"),
            "Examples:\n  spin corsgate check   # policies/\nrun `spin corsgate check` again"
        );
    }
}
