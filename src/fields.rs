//! Header fields from name/value pairs. WASI 0.2 and 0.3 build `fields` alike, so the WASIp2
//! and WASIp3 components both include this file (as a child module of their `respond` module,
//! whose `Fields` it builds).

use super::Fields;

/// Header fields from name/value pairs, in one host call. Should the host refuse the list (a
/// forbidden name or bytes not allowed in a field, which can only come from the upstream, never
/// from policy), the pairs are added one by one and the refused ones skipped.
pub fn fields<'n, 'v>(headers: impl IntoIterator<Item = (&'n str, &'v [u8])>) -> Fields {
    let list: Vec<(String, Vec<u8>)> = headers
        .into_iter()
        .map(|(n, v)| (n.to_string(), v.to_vec()))
        .collect();
    Fields::from_list(&list).unwrap_or_else(|_| {
        let fields = Fields::new();
        for (name, value) in &list {
            let _ = fields.append(name, value);
        }
        fields
    })
}
