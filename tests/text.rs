//! MiniLM-L6 in pami against Hugging Face's: the same token ids, offsets and
//! words as `tokenizers` gives for the shipped tokenizer.json, and the same
//! hidden states as transformers' `BertModel` on the same weights
//! (`tools/minilm_reference.py` wrote the reference), on the CPU and the
//! wgpu device.

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use pami::model::bert::{Bert, MINILM_L6};
use pami::text::WordPieces;

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    tokens: Vec<String>,
    offsets: Vec<(usize, usize)>,
    hidden: Vec<Vec<f32>>,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/text/minilm_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn tokens_ids_and_offsets_equal_hugging_faces() {
    let t = WordPieces::minilm().unwrap();
    for case in cases() {
        let e = t.encode(&case.text).unwrap();
        assert_eq!(e.ids, case.ids, "{:?}", case.text);
        assert_eq!(e.tokens, case.tokens, "{:?}", case.text);
        assert_eq!(e.offsets, case.offsets, "{:?}", case.text);
    }
    assert_eq!(t.id("[MASK]"), Some(103));
}

fn assert_hidden_states_match(device: &Device) {
    let model = Bert::load(MINILM_L6, concat!(env!("CARGO_MANIFEST_DIR"), "/models/minilm_l6_f16.safetensors").as_ref(), device).unwrap();
    let cases = cases();
    // All sentences in one padded batch: padding must not change a sentence's states.
    let longest = cases.iter().map(|c| c.ids.len()).max().unwrap();
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for c in &cases {
        ids.extend(c.ids.iter().map(|&i| i as i64).chain(std::iter::repeat_n(0, longest - c.ids.len())));
        mask.extend((0..longest).map(|k| if k < c.ids.len() { 1.0f32 } else { 0.0 }));
    }
    let n = cases.len();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [n, longest]), device);
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [n, longest]), device);
    let hidden = common::floats(model.forward(ids, mask));
    let mut worst = 0.0f32;
    for (s, c) in cases.iter().enumerate() {
        for (t, row) in c.hidden.iter().enumerate() {
            for (d, &want) in row.iter().enumerate() {
                worst = worst.max((hidden[(s * longest + t) * 384 + d] - want).abs());
            }
        }
    }
    assert!(worst < 1e-3, "largest difference from transformers: {worst}");
}

#[test]
fn hidden_states_equal_transformers_on_the_cpu_and_the_device() {
    assert_hidden_states_match(&Device::flex());
    if let Some(gpu) = common::gpu() {
        assert_hidden_states_match(&gpu);
    }
}
