//! Text: MiniLM-L6's tokenizer (Hugging Face's `tokenizers`, from the
//! shipped `tokenizer.json`) and encoder, for PAMI on sentences.

pub mod tokenize;

pub use tokenize::{Encoding, WordPieces};
