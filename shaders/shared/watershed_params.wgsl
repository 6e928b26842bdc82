// Parameters of the watershed_* stages. Keep in sync with WatershedParams in
// src/gpu/watershed.rs (tests/params.rs compares the layouts).
struct WatershedParams {
    width: u32,
    height: u32,
    images: u32,   // images × markers of this group, for the per-marker stages
    group: u32,    // markers in this group
    first: u32,    // index of the group's first marker
    batch: u32,    // images
    rounds: u32,   // flooding: at most this many rounds of four passes
    step: u32,     // flooding: this dispatch's first step (pass, diagonal)
    steps: u32,    // flooding: steps in this dispatch
}

// Keep in sync with UNREACHED in src/gpu/watershed.rs.
const UNREACHED: u32 = 0xffffffffu;

// A marker's row in the markers table: where it is, the setting it belongs
// to, and its index within that setting (its label). Keep in sync with
// MARKER_FIELDS in src/gpu/watershed.rs.
const MARKER_FIELDS: u32 = 4u;
const MARKER_Y: u32 = 0u;
const MARKER_X: u32 = 1u;
const MARKER_SETTING: u32 = 2u;
const MARKER_INDEX: u32 = 3u;

// Entries of one setting's distance table: every squared distance on the image.
fn distances(width: u32, height: u32) -> u32 {
    return (width - 1u) * (width - 1u) + (height - 1u) * (height - 1u) + 1u;
}
