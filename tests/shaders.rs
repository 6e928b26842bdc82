//! Every WGSL kernel parses and validates with naga (no adapter needed), and
//! has a CPU twin of the same name in src/cpu/.

use std::fs;
use std::path::Path;

#[test]
fn every_shader_validates_and_has_a_cpu_twin() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in fs::read_dir(dir.join("shaders")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
            continue;
        }
        let source = fs::read_to_string(&path).unwrap();
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
        let mut validator =
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
        validator
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
        let entry_points: Vec<_> = module.entry_points.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(entry_points, ["main"], "{}: one entry point named main", path.display());
        let name = path.file_stem().unwrap().to_str().unwrap();
        assert!(dir.join("src/cpu").join(format!("{name}.rs")).is_file(), "{name}.wgsl has no src/cpu/{name}.rs");
        count += 1;
    }
    assert!(count >= 3, "expected the blur, compose and aggregate shaders, found {count}");
}
