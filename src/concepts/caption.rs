//! Captions as DEPICT writes them (`"2 red circle, 1 blue square, 1 striped
//! background"`) and datasets of them: JSON lines `{"caption", "label"}`
//! whose concept columns are the concepts that occur in the file.

use std::path::Path;

use crate::Error;

/// `COUNT CONCEPT`: a concept present `count ≥ 1` times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub count: u32,
    pub concept: String,
}

/// A parsed caption: its items in the order written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caption {
    pub items: Vec<Item>,
}

/// The largest count a caption may give one concept.
pub const MAX_COUNT: u32 = 99;

impl Caption {
    /// Parses comma-separated `COUNT CONCEPT` items; an empty caption has no
    /// items. Concepts are lower-cased with single spaces; a concept written
    /// twice, a count of 0 or above [`MAX_COUNT`], or an item without a count
    /// is an error.
    pub fn parse(text: &str) -> Result<Caption, Error> {
        let mut items: Vec<Item> = Vec::new();
        for raw in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = |why: &str| Error::InvalidParameter(format!("caption item `{raw}`: {why}"));
            let (count, concept) = raw.split_once(char::is_whitespace).ok_or_else(|| bad("expected COUNT CONCEPT, e.g. `2 red circle`"))?;
            let count: u32 = count.parse().map_err(|_| bad(&format!("expected COUNT CONCEPT, e.g. `2 red circle` (`{count}` is not a whole number)")))?;
            if count == 0 || count > MAX_COUNT {
                return Err(bad(&format!("the count must be between 1 and {MAX_COUNT} (absent concepts are left out)")));
            }
            let concept = concept.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            if items.iter().any(|i| i.concept == concept) {
                return Err(bad(&format!("`{concept}` is written twice")));
            }
            items.push(Item { count, concept });
        }
        Ok(Caption { items })
    }

    /// The count of `concept` (0 when absent).
    pub fn count(&self, concept: &str) -> u32 {
        self.items.iter().find(|i| i.concept == concept).map_or(0, |i| i.count)
    }

    /// The caption as DEPICT writes it.
    pub fn text(&self) -> String {
        self.items.iter().map(|i| format!("{} {}", i.count, i.concept)).collect::<Vec<_>>().join(", ")
    }
}

/// A dataset of captions: its concept columns and counts, and labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The concepts that occur in the file, in order of first occurrence.
    pub concepts: Vec<String>,
    /// `counts[i][k]`: line `i`'s count of concept `k`.
    pub counts: Vec<Vec<u32>>,
    pub labels: Vec<usize>,
}

#[derive(serde::Deserialize)]
struct Line {
    caption: String,
    label: i64,
}

impl Dataset {
    /// Reads JSON lines `{"caption": "…", "label": K}` (blank lines skipped).
    pub fn read(path: &Path) -> Result<Dataset, Error> {
        let text = std::fs::read_to_string(path).map_err(|error| Error::Io { path: path.to_owned(), error })?;
        let mut captions = Vec::new();
        let mut labels = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let at = |e: String| Error::InvalidParameter(format!("{}:{}: {e}", path.display(), n + 1));
            let line: Line = serde_json::from_str(line).map_err(|e| at(e.to_string()))?;
            let label = usize::try_from(line.label).map_err(|_| at(format!("label {} is not a class id ≥ 0", line.label)))?;
            captions.push(Caption::parse(&line.caption).map_err(|e| at(e.to_string()))?);
            labels.push(label);
        }
        if captions.is_empty() {
            return Err(Error::InvalidParameter(format!("{}: no captions", path.display())));
        }
        Ok(Dataset::new(&captions, labels))
    }

    /// The dataset of `captions` with `labels`.
    pub fn new(captions: &[Caption], labels: Vec<usize>) -> Dataset {
        let mut concepts: Vec<String> = Vec::new();
        for item in captions.iter().flat_map(|c| &c.items) {
            if !concepts.contains(&item.concept) {
                concepts.push(item.concept.clone());
            }
        }
        let counts = captions.iter().map(|c| concepts.iter().map(|k| c.count(k)).collect()).collect();
        Dataset { concepts, counts, labels }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Line `i`'s caption from a counts row (concepts in column order, absent ones left out).
    pub fn caption(&self, row: &[u32]) -> Caption {
        let items = self.concepts.iter().zip(row).filter(|&(_, &n)| n > 0).map(|(k, &n)| Item { count: n, concept: k.clone() }).collect();
        Caption { items }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_parse_as_depict_writes_them_and_bad_items_are_named() {
        let c = Caption::parse("2 red circle, 1 blue  Square ,1 striped background").unwrap();
        assert_eq!(c.items.len(), 3);
        assert_eq!(c.count("blue square"), 1);
        assert_eq!(c.text(), "2 red circle, 1 blue square, 1 striped background");
        assert!(Caption::parse("").unwrap().items.is_empty());
        for (bad, says) in [("0 red circle", "between 1"), ("red circle", "COUNT"), ("x red circle", "whole number"), ("1 red circle, 2 red circle", "twice"), ("1", "COUNT")] {
            let e = Caption::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn a_dataset_has_one_column_per_concept_in_order_of_first_occurrence() {
        let captions = ["1 red circle", "2 blue square, 1 red circle", ""].map(|t| Caption::parse(t).unwrap());
        let d = Dataset::new(&captions, vec![0, 1, 0]);
        assert_eq!(d.concepts, ["red circle", "blue square"]);
        assert_eq!(d.counts, vec![vec![1, 0], vec![1, 2], vec![0, 0]]);
        assert_eq!(d.caption(&d.counts[1]).text(), "1 red circle, 2 blue square");
        assert_eq!(d.caption(&d.counts[2]).text(), "");
    }
}
