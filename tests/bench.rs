//! `pami bench`: the quick workload writes every stable row with its device
//! work, and a missing adapter is a one-line error.

use std::collections::BTreeSet;
use std::process::Command;

fn bench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pami")).arg("bench").args(args).output().unwrap()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pami-bench-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const QUICK_IDS: &[&str] = &[
    "kernel/blur",
    "kernel/compose",
    "kernel/aggregate",
    "kernel/connected-components",
    "segment/felzenszwalb/1",
    "segment/slic/1",
    "segment/seeds/1",
    "segment/watershed/1",
    "segment/table3/1",
    "model/efficientnet-lite0/1",
    "model/efficientnet-lite0/16",
    "model/resnet50/1",
    "model/resnet50/16",
    "method/segments",
    "method/ablation",
    "dataset/in-flight-1",
    "dataset/in-flight-4",
];

#[test]
fn quick_bench_on_the_cpu_path_writes_every_row_and_its_ratios() {
    let out = scratch("cpu");
    let run = bench(&["--quick", "--device", "cpu", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(report["quick"], true);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "--device cpu runs the CPU path only");
    let cpu = &targets[0];
    assert_eq!(cpu["kind"], "cpu");
    assert!(cpu["error"].is_null(), "{}", cpu["error"]);
    let rows = cpu["results"].as_array().unwrap();
    let ids: BTreeSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, QUICK_IDS.iter().copied().collect(), "the quick workload's ids are stable");
    for row in rows {
        let seconds = row["seconds"].as_f64().unwrap();
        assert!(seconds > 0.0 && seconds >= row["min_seconds"].as_f64().unwrap(), "{row}");
        // The CPU path dispatches no kernel.
        assert_eq!(row["work"]["dispatches"], 0, "{row}");
    }
    let strategy_two = rows.iter().find(|r| r["id"] == "method/segments").unwrap();
    let stages: Vec<&str> = strategy_two["stages"].as_array().unwrap().iter().map(|s| s[0].as_str().unwrap()).collect();
    assert!(stages.contains(&"partition") && stages.contains(&"model"), "{stages:?}");
    // The forward passes are most of a CPU explanation, never all of it.
    let outside = cpu["ratios"]["outside_model_share"].as_f64().unwrap();
    assert!((0.0..0.9).contains(&outside), "{outside}");
    assert!(cpu["ratios"]["segmentation_vs_model"].as_f64().unwrap() > 0.0);
    let dataset = rows.iter().find(|r| r["id"] == "dataset/in-flight-4").unwrap();
    assert_eq!(dataset["items"], 8);

    let md = std::fs::read_to_string(out.join("bench.md")).unwrap();
    for id in QUICK_IDS {
        assert!(md.contains(&format!("| `{id}` |")), "bench.md lacks {id}");
    }
    assert!(md.contains("CPU path"));
}

#[test]
fn an_adapter_that_does_not_exist_is_a_one_line_error() {
    let out = scratch("none");
    let run = bench(&["--quick", "--device", "wgpu", "--adapter", "no-such-gpu", "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("no wgpu adapter matches `no-such-gpu`"), "{}", errors[0]);
    assert!(!out.join("bench.json").exists(), "nothing is written for a run that did not start");
}
