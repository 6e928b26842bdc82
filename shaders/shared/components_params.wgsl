// Parameters of the connected-components stages.
// Keep in sync with ComponentsParams in src/gpu/components.rs.
const P_WIDTH: u32 = 0u;
const P_HEIGHT: u32 = 1u;
const P_IMAGES: u32 = 2u;
const P_BLOCKS: u32 = 3u;   // blocks of BLOCK pixels per image
const BLOCK: u32 = 256u;
