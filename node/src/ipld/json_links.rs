//! DAG-JSON link scanner: finds `{"/": "<cid>"}` objects in document order.

use std::fmt;

use cid::Cid;
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

/// Returns every link in a DAG-JSON document, in the order they appear.
///
/// `{"/": {"bytes": "…"}}` (DAG-JSON bytes) is not a link. Nesting depth is bounded by
/// serde_json's recursion limit, so hostile input cannot overflow the stack.
pub(super) fn links(data: &[u8]) -> Result<Vec<Cid>, String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(data);
    Collect { links: &mut out }
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(out)
}

/// What a visited JSON value was, as far as link detection cares.
enum Seen {
    /// A string (a candidate link target when under a lone "/" key).
    Str(String),
    /// Anything else.
    Other,
}

/// Visitor that appends links to `links` while walking one JSON value.
struct Collect<'a> {
    links: &'a mut Vec<Cid>,
}

impl<'de> DeserializeSeed<'de> for Collect<'_> {
    type Value = Seen;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Seen, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = Seen;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a DAG-JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_unit<E>(self) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_str<E>(self, s: &str) -> Result<Seen, E> {
        Ok(Seen::Str(s.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seen, A::Error> {
        while seq
            .next_element_seed(Collect {
                links: &mut *self.links,
            })?
            .is_some()
        {}
        Ok(Seen::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen, A::Error> {
        let mut lone_slash: Option<String> = None;
        let mut keys = 0usize;
        while let Some(key) = map.next_key::<String>()? {
            keys += 1;
            let value = map.next_value_seed(Collect {
                links: &mut *self.links,
            })?;
            lone_slash = match (keys, key.as_str(), value) {
                (1, "/", Seen::Str(target)) => Some(target),
                _ => None,
            };
        }
        if let Some(target) = lone_slash {
            let cid = Cid::try_from(target.as_str())
                .map_err(|e| A::Error::custom(format!("bad link {target:?}: {e}")))?;
            self.links.push(cid);
        }
        Ok(Seen::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

    #[test]
    fn finds_nested_links_and_skips_bytes() {
        let doc = format!(r#"[1, "x", {{"/": "{A}"}}, {{"/": {{"bytes": "AQI"}}}}, null]"#);
        let found = links(doc.as_bytes()).unwrap();
        assert_eq!(found, vec![Cid::try_from(A).unwrap()]);
    }

    #[test]
    fn slash_with_other_keys_is_not_a_link() {
        let doc = format!(r#"{{"/": "{A}", "b": 1}}"#);
        assert!(links(doc.as_bytes()).unwrap().is_empty());
    }

    #[test]
    fn bad_link_and_trailing_data_are_errors() {
        assert!(
            links(br#"{"/": "not-a-cid"}"#)
                .unwrap_err()
                .contains("bad link")
        );
        assert!(links(b"{} {}").is_err());
        assert!(links(b"{").is_err());
    }
}
