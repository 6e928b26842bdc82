//! Every kernel's parameter block is declared twice: as a WGSL struct in
//! `shaders/shared/*_params.wgsl` and as its `#[repr(C)]` mirror in
//! `src/gpu/`. The launch uploads the Rust struct's bytes and the kernel reads
//! them through the WGSL struct, so both must have the same size and the same
//! members at the same offsets. This test computes the WGSL layout with naga
//! and compares it with the Rust one, member by member, for the explicit list
//! below; a struct in a `*_params.wgsl` file without an entry fails it.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::mem::{align_of, offset_of, size_of};
use std::path::Path;

use naga::proc::{Alignment, Layouter};
use pami::gpu::{
    aggregate::AggregateParams, blur::BlurParams, components::ComponentsParams, compose::ComposeParams,
    felzenszwalb::FelzenszwalbParams, fill::FillParams, segment::SegmentParams, rank::RankParams, render::RenderParams, seeds::SeedsParams,
    slic::SlicParams, watershed::WatershedParams,
};

/// A Rust params struct: the WGSL file that mirrors it, its name, size,
/// alignment and every field's name and offset in declaration order.
struct Mirror {
    file: &'static str,
    name: &'static str,
    size: usize,
    align: usize,
    fields: Vec<(&'static str, usize)>,
}

/// `mirror!(file, Type { field, … })`: the Rust side of one entry. List every
/// field of the struct, in order (the comparison catches a missing one: the
/// WGSL struct then has a member the list lacks).
macro_rules! mirror {
    ($file:literal, $ty:ident { $($field:ident),* $(,)? }) => {
        Mirror {
            file: $file,
            name: stringify!($ty),
            size: size_of::<$ty>(),
            align: align_of::<$ty>(),
            fields: vec![$((stringify!($field), offset_of!($ty, $field))),*],
        }
    };
}

fn mirrors() -> Vec<Mirror> {
    vec![
        mirror!("aggregate_params.wgsl", AggregateParams { width, height, parts, targets, runs, kind, first, count }),
        mirror!("blur_params.wgsl", BlurParams { width, height, planes, radius, axis, padding }),
        mirror!("components_params.wgsl", ComponentsParams { width, height, images, blocks }),
        mirror!("compose_params.wgsl", ComposeParams { width, height, batch, first, kind, invert, runs, images, mean, deviation }),
        mirror!(
            "felzenszwalb_params.wgsl",
            FelzenszwalbParams { width, height, images, radius, settings, sort_first, merge_pass, sort_steps, rounds }
        ),
        mirror!("fill_params.wgsl", FillParams { len, value }),
        mirror!("segment_params.wgsl", SegmentParams { width, height, images, min_size, rounds }),
        mirror!("rank_params.wgsl", RankParams { plane, span, maps, block, step }),
        mirror!("render_params.wgsl", RenderParams { width, height, images, objects }),
        mirror!(
            "seeds_params.wgsl",
            SeedsParams { width, height, items, level, count, first, steps, double_step, prior }
        ),
        mirror!("slic_params.wgsl", SlicParams { width, height, images, clusters, window, w_space, w_color, band, finish, first_round, round_count, rounds, settings }),
        mirror!("watershed_params.wgsl", WatershedParams { width, height, images, group, first, batch, rounds, step, steps }),
    ]
}

/// The structs a WGSL file declares, parsed and laid out by naga: (name, size,
/// alignment, members as (name, offset)).
fn wgsl_structs(path: &Path) -> Vec<(String, u32, Alignment, Vec<(String, u32)>)> {
    let source = fs::read_to_string(path).unwrap();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
    let mut layouter = Layouter::default();
    layouter.update(module.to_ctx()).unwrap_or_else(|e| panic!("{}: layout: {e}", path.display()));
    module
        .types
        .iter()
        .filter_map(|(handle, ty)| match &ty.inner {
            naga::TypeInner::Struct { members, span } => {
                let layout = layouter[handle];
                assert_eq!(layout.size, *span, "{}: naga's struct span and layout disagree", path.display());
                let members = members.iter().map(|m| (m.name.clone().unwrap_or_default(), m.offset)).collect();
                Some((ty.name.clone().unwrap_or_default(), layout.size, layout.alignment, members))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn every_params_struct_has_the_layout_of_its_rust_mirror() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/shared");
    let mirrors = mirrors();
    let mut checked = BTreeSet::new();
    let mut files: Vec<_> = fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("_params.wgsl")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no shaders/shared/*_params.wgsl");
    for path in &files {
        let file = path.file_name().unwrap().to_str().unwrap();
        let structs = wgsl_structs(path);
        assert!(!structs.is_empty(), "{file} declares no struct");
        for (name, size, alignment, members) in structs {
            let mirror = mirrors
                .iter()
                .find(|m| m.file == file && m.name == name)
                .unwrap_or_else(|| panic!("struct {name} in {file} has no Rust entry in tests/params.rs"));
            assert_eq!(size as usize, mirror.size, "{name}: WGSL size {size}, Rust size {}", mirror.size);
            assert_eq!(
                Some(alignment),
                Alignment::new(mirror.align as u32),
                "{name}: WGSL alignment {alignment}, Rust alignment {}",
                mirror.align
            );
            let rust: Vec<(String, u32)> = mirror.fields.iter().map(|&(f, o)| (f.to_owned(), o as u32)).collect();
            assert_eq!(members, rust, "{name}: WGSL members (left) and Rust fields (right), name and offset");
            checked.insert(name);
        }
    }
    for m in &mirrors {
        assert!(checked.contains(m.name), "{} ({}) is listed but not declared in shaders/shared/{}", m.name, m.file, m.file);
    }
}

/// Every kernel binds its parameter block as one of the structs above, in the
/// uniform address space (the launch's info uniform), after all its other
/// bindings.
#[test]
fn every_kernel_binds_a_listed_params_struct_last() {
    let names: BTreeSet<&str> = mirrors().iter().map(|m| m.name).collect();
    for (path, _, module) in common::kernels() {
        let bound: Vec<_> = module.global_variables.iter().filter(|(_, v)| v.binding.is_some()).map(|(_, v)| v).collect();
        let params = bound
            .iter()
            .find(|v| v.name.as_deref() == Some("params"))
            .unwrap_or_else(|| panic!("{}: no `params` binding", path.display()));
        let ty = &module.types[params.ty];
        assert!(
            matches!(ty.inner, naga::TypeInner::Struct { .. }) && names.contains(ty.name.as_deref().unwrap_or("")),
            "{}: `params` is {:?}, not a struct of tests/params.rs",
            path.display(),
            ty.name
        );
        assert_eq!(
            params.space,
            naga::AddressSpace::Uniform,
            "{}: `params` must be var<uniform>",
            path.display()
        );
        let last = bound.iter().map(|v| v.binding.as_ref().unwrap().binding).max().unwrap();
        assert_eq!(params.binding.as_ref().unwrap().binding, last, "{}: `params` is not the last binding", path.display());
    }
}

/// The named values that travel in the params structs (and the constants a
/// kernel and its launch share) are the same on both sides.
#[test]
fn shared_constants_match_their_rust_twins() {
    use pami::gpu::{blur, components, felzenszwalb as fz, watershed};
    let expected: &[(&str, &str, u32)] = &[
        ("blur_params.wgsl", "AXIS_X", blur::AXIS_X),
        ("blur_params.wgsl", "AXIS_Y", blur::AXIS_Y),
        ("blur_params.wgsl", "PADDING_ZERO", blur::PADDING_ZERO),
        ("blur_params.wgsl", "PADDING_REFLECT", blur::PADDING_REFLECT),
        ("components_params.wgsl", "BLOCK", components::BLOCK),
        ("felzenszwalb_params.wgsl", "MERGE_JOIN", fz::MERGE_JOIN),
        ("felzenszwalb_params.wgsl", "MERGE_MIN_SIZE", fz::MERGE_MIN_SIZE),
        ("felzenszwalb_params.wgsl", "NO_EDGE", fz::NO_EDGE),
        ("felzenszwalb_params.wgsl", "DIGITS", fz::DIGITS),
        ("felzenszwalb_params.wgsl", "COUNTS", fz::COUNTS),
        ("felzenszwalb_params.wgsl", "DIGIT_BITS", fz::DIGIT_BITS),
        ("felzenszwalb_params.wgsl", "SORT_THREADS", fz::SORT_THREADS),
        ("felzenszwalb_params.wgsl", "TOTAL", fz::TOTAL),
        ("watershed_params.wgsl", "UNREACHED", watershed::UNREACHED),
        ("watershed_params.wgsl", "MARKER_FIELDS", watershed::MARKER_FIELDS as u32),
    ];
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/shared");
    for &(file, name, value) in expected {
        let source = fs::read_to_string(shared.join(file)).unwrap();
        let module = naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| panic!("{file}: {}", e.emit_to_string(&source)));
        let constant = module
            .constants
            .iter()
            .map(|(_, c)| c)
            .find(|c| c.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{file} declares no {name}"));
        match module.global_expressions[constant.init] {
            naga::Expression::Literal(naga::Literal::U32(v)) => assert_eq!(v, value, "{file}: {name}"),
            ref other => panic!("{file}: {name} is {other:?}, not a u32 literal"),
        }
    }
}
