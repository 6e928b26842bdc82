// Parameters of the slic_* stages. Keep in sync with SlicParams in
// src/gpu/slic.rs (tests/params.rs compares the layouts).
struct SlicParams {
    width: u32,
    height: u32,
    images: u32,
    clusters: u32,   // clusters per image
    window: u32,     // a cluster sees pixels within 2 * window of its centre
    w_space: u32,    // weight of the squared distance in 1/16 px
    w_color: u32,    // weight of the squared Lab distance in 1/4 units
    band: u32,       // slic_update: the band of window rows to add up (when finish is 0)
    finish: u32,     // slic_update: 1 turns the sums into means instead
    first_round: u32, // slic_iterate: this dispatch's first k-means round
    round_count: u32, // slic_iterate: rounds in this dispatch
    rounds: u32,      // slic_iterate: rounds in all (max_num_iter)
    settings: u32,    // slic_iterate: settings in its table
}
