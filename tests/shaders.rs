//! Every WGSL kernel, as launched (shared code imported), parses and
//! validates with naga (no adapter needed), and has a CPU twin: a function of
//! the same name in src/cpu/.

mod common;

use std::fs;
use std::path::Path;

#[test]
fn every_shader_validates_and_has_a_cpu_twin() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cpu_sources: Vec<String> = fs::read_dir(dir.join("src/cpu"))
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let mut count = 0;
    for (path, source, module) in common::kernels() {
        let mut validator =
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
        validator
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
        let entry_points: Vec<_> = module.entry_points.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(entry_points, ["main"], "{}: one entry point named main", path.display());
        let name = path.file_stem().unwrap().to_str().unwrap();
        let twin = format!("pub fn {name}(");
        assert!(cpu_sources.iter().any(|s| s.contains(&twin)), "{name}.wgsl has no CPU twin `{twin}` in src/cpu/");
        count += 1;
    }
    assert!(count >= 9, "expected blur, compose, aggregate and the six components stages, found {count}");
}
