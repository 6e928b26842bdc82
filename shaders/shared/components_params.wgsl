// Parameters of the components_* stages. Keep in sync with ComponentsParams
// in src/gpu/components.rs (tests/params.rs compares the layouts).
struct ComponentsParams {
    width: u32,
    height: u32,
    images: u32,
    blocks: u32,   // blocks of BLOCK pixels per image
}

// Keep in sync with BLOCK in src/gpu/components.rs.
const BLOCK: u32 = 256u;
