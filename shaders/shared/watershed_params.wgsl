// Parameters of the watershed stages. Keep in sync with WatershedParams in src/gpu/watershed.rs.
const P_WIDTH: u32 = 0u;
const P_HEIGHT: u32 = 1u;
const P_IMAGES: u32 = 2u;   // images × markers of this group, for the per-marker stages
const P_GROUP: u32 = 3u;    // markers in this group
const P_FIRST: u32 = 4u;    // index of the group's first marker
const P_BATCH: u32 = 5u;    // images
const UNREACHED: u32 = 0xffffffffu;
