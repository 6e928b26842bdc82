//! `pami serve` under a bounded loopback load: C closed-loop clients (each
//! sends its next request when the last is answered), with and without
//! batching requests together (`--images-per-batch 4` against 1). Reports
//! throughput and latency percentiles as a markdown table.
//!
//! The server runs the synthetic-shapes CNN with occlusion of 16 × 16 squares
//! (16 parts per image: one image fills a batch badly); `PAMI_BENCH_DEVICE=cpu|wgpu` picks its device.
//! `cargo bench --bench serve` (not criterion: a latency distribution, not a
//! mean, is the result).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const REQUESTS: usize = 48;
const QUERY: &str = "strategy=occlusion&window=16&stride=16&baseline=zero&format=none";

fn main() {
    let device = std::env::var("PAMI_BENCH_DEVICE").unwrap_or_else(|_| "cpu".into());
    let bodies: Vec<Vec<u8>> =
        (0..16).map(|i| pami::io::png_bytes(&pami::synthetic::sample(pami::synthetic::HELD_OUT + i).image).unwrap()).collect();
    println!("| clients | images per batch | requests | requests/s | p50 ms | p90 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|---|---|");
    for per_batch in [1, 4] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pami"))
            .args(["serve", "--addr", "127.0.0.1:0", "--model", "synthetic-shapes", "--device", &device])
            .args(["--images-per-batch", &per_batch.to_string(), "--queue", "256"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("pami serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("the server prints its address").unwrap();
            if let Some(addr) = line.strip_prefix("pami: listening on ") {
                break addr.to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(600))).build().into();
        let send = |body: &[u8]| {
            let start = Instant::now();
            let ok = agent.post(format!("{url}/explain?{QUERY}")).send(body).map(|r| r.status().as_u16() == 200).unwrap_or(false);
            (start.elapsed(), ok)
        };
        // Warm-up, untimed: every batch shape the runs below meet gets its kernels compiled and tuned.
        std::thread::scope(|scope| {
            for c in 0..16 {
                let (send, bodies) = (&send, &bodies);
                scope.spawn(move || (0..3).for_each(|_| { let _ = send(&bodies[c]); }));
            }
        });
        for clients in [1, 4, 16] {
            let start = Instant::now();
            let results: Vec<(Duration, bool)> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..clients)
                    .map(|c| {
                        let (send, bodies) = (&send, &bodies);
                        scope.spawn(move || (c..REQUESTS).step_by(clients).map(|r| send(&bodies[r % bodies.len()])).collect::<Vec<_>>())
                    })
                    .collect();
                handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
            });
            let wall = start.elapsed().as_secs_f64();
            let mut latencies: Vec<f64> = results.iter().map(|(d, _)| d.as_secs_f64() * 1e3).collect();
            latencies.sort_by(f64::total_cmp);
            let pct = |p: f64| latencies[((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1];
            let errors = results.iter().filter(|(_, ok)| !ok).count();
            println!(
                "| {clients} | {per_batch} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {errors} |",
                results.len(),
                results.len() as f64 / wall,
                pct(0.5),
                pct(0.9),
                pct(0.99)
            );
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
