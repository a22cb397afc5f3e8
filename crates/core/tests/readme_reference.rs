//! The README's policy reference is checked against the schema the validator uses, so the
//! documentation cannot drift from what is accepted: every key is documented in its table with
//! its type and default, and nothing else is.

use corsgate_core::config::schema::{Key, Table, KEYS};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md")
}

/// `(table, key, type, default)` rows of the README's `### [table]` reference tables.
fn documented_rows() -> Vec<(String, String, String, String)> {
    let text = readme();
    let mut table = String::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(t) = line
            .strip_prefix("### `[")
            .and_then(|l| l.strip_suffix("]`"))
        {
            table = t.to_string();
            continue;
        }
        if line.starts_with("## ") {
            table.clear();
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if !table.is_empty() && cells.len() >= 5 && cells[1].starts_with('`') {
            rows.push((
                table.clone(),
                cells[1].trim_matches('`').to_string(),
                cells[2].to_string(),
                cells[3].trim_matches('`').to_string(),
            ));
        }
    }
    rows
}

#[test]
fn readme_documents_every_key_as_the_validator_defines_it() {
    let rows = documented_rows();
    for spec in KEYS {
        let (table, key) = (spec.table.name(), spec.name);
        let row = rows
            .iter()
            .find(|(t, k, _, _)| t == table && k == key)
            .unwrap_or_else(|| panic!("README lacks [{table}].{key}"));
        assert_eq!(row.2, spec.kind.name(), "type of [{table}].{key}");
        assert_eq!(
            row.3,
            spec.default.to_string(),
            "default of [{table}].{key}"
        );
    }
    for (table, key, _, _) in &rows {
        assert!(
            Table::ALL
                .iter()
                .find(|t| t.name() == table)
                .is_some_and(|t| Key::find(*t, key).is_some()),
            "README documents unknown key [{table}].{key}"
        );
    }
}
