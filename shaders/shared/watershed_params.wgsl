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
