//! A set of exact origins with O(1) lookup that can live in `static` data.
//!
//! `HashMap` cannot be built in a `static`, and a component instance that rebuilt one per request
//! would pay for every allowed origin on every request. This is an open-addressing table laid out
//! at build time: `slots` maps a hash bucket to `entry index + 1` (0 = empty), probed linearly.
//! The load factor is at most 1/2 and the table never changes after it is built, so the longest
//! probe sequence is fixed by the configuration, whatever the requests do (no hash flooding).

use crate::text::{List, Text};

/// The wildcard-free allowed origins of a policy, as a hash table fixed at build time (see the
/// module doc for its layout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginSet {
    /// Length is a power of two (or zero for the empty set).
    slots: List<u32>,
    entries: List<Text>,
}

impl OriginSet {
    /// A set baked into a component by `config::codegen`: the `slots` and `entries` of a set
    /// [`OriginSet::build`] made. Only generated code calls this.
    #[doc(hidden)]
    pub const fn baked(slots: &'static [u32], entries: &'static [Text]) -> OriginSet {
        OriginSet {
            slots: List::Borrowed(slots),
            entries: List::Borrowed(entries),
        }
    }

    /// The table's buckets, for `config::codegen` to bake.
    #[cfg(feature = "config")]
    pub(crate) fn slots(&self) -> &[u32] {
        &self.slots
    }

    /// The origins, sorted.
    pub fn entries(&self) -> &[Text] {
        &self.entries
    }

    /// The set with no origin, which allocates nothing.
    pub const EMPTY: OriginSet = OriginSet {
        slots: List::Borrowed(&[]),
        entries: List::Borrowed(&[]),
    };

    /// Builds the table for `entries` (duplicates are kept once).
    pub fn build(mut entries: Vec<String>) -> OriginSet {
        entries.sort();
        entries.dedup();
        if entries.is_empty() {
            return OriginSet::EMPTY;
        }
        let size = (entries.len() * 2).next_power_of_two();
        let mut slots = vec![0u32; size];
        for (index, entry) in entries.iter().enumerate() {
            let mut slot = bucket(entry.as_bytes(), size);
            while slots[slot] != 0 {
                slot = (slot + 1) & (size - 1);
            }
            slots[slot] = u32::try_from(index + 1).expect("fewer than 2^32 origins");
        }
        OriginSet {
            slots: slots.into(),
            entries: entries
                .into_iter()
                .map(Text::from)
                .collect::<Vec<_>>()
                .into(),
        }
    }

    /// Whether `origin` is one of the entries, byte for byte (the caller has already capped
    /// its length; no case folding or parsing happens here).
    pub fn contains(&self, origin: &[u8]) -> bool {
        let size = self.slots.len();
        if size == 0 {
            return false;
        }
        let mut slot = bucket(origin, size);
        loop {
            match self.slots[slot] {
                0 => return false,
                index => {
                    if self.entries[index as usize - 1].as_bytes() == origin {
                        return true;
                    }
                }
            }
            slot = (slot + 1) & (size - 1);
        }
    }

    /// How many distinct origins the set holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no origin.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A word-at-a-time multiplicative hash (FxHash's mixing step over little-endian 8-byte words):
/// deterministic on the build machine and the wasm target alike, and a few cycles per word on
/// the short strings origins are. Hash flooding is moot: the table is fixed at build time.
fn bucket(bytes: &[u8], size: usize) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut hash = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    hash = (hash.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    // The high bits are the best mixed.
    (hash >> 32) as usize & (size - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_member_and_nothing_else() {
        let members: Vec<String> = (0..1000)
            .map(|i| format!("https://app{i}.example.com"))
            .collect();
        let set = OriginSet::build(members.clone());
        for m in &members {
            assert!(set.contains(m.as_bytes()), "member {m}");
        }
        for probe in [
            "https://app1000.example.com",
            "https://app1.example.co",
            "",
            "https://app1.example.com/",
        ] {
            assert!(!set.contains(probe.as_bytes()), "non-member {probe}");
        }
    }

    #[test]
    fn empty_set_contains_nothing() {
        assert!(!OriginSet::build(vec![]).contains(b"https://a.example"));
    }
}
