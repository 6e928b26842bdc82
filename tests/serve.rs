//! `pami serve` on loopback: concurrent clients, corrupt, oversized and
//! giant inputs, bad parameters, a full queue and timeouts, each answered
//! with its status and a JSON error, and the server healthy afterwards.
//! The server runs the embedded synthetic-shapes model on the CPU, whose
//! explanations are checked against the shapes' boxes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `pami serve` on a free port with `extra` options; returns once it listens.
fn server(extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pami"))
        .args(["serve", "--addr", "127.0.0.1:0", "--model", "synthetic-shapes", "--device", "cpu"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("pami: listening on ") {
            break addr.to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(300))).build().into()
}

/// POSTs `body` to `/explain?query`: (status, JSON).
fn post(server: &Server, query: &str, body: &[u8]) -> (u16, Value) {
    let mut response = agent().post(format!("{}/explain?{query}", server.url)).send(body).expect("an HTTP answer");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

fn healthy(server: &Server) -> Value {
    let mut response = agent().get(format!("{}/healthz", server.url)).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let json: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(json["status"], "ok", "{json}");
    json
}

fn png(image: &image::RgbImage) -> Vec<u8> {
    pami::io::png_bytes(image).unwrap()
}

fn sample(k: u64) -> pami::synthetic::Sample {
    pami::synthetic::sample(pami::synthetic::HELD_OUT + 900 + k)
}

const OCCLUSION: &str = "strategy=occlusion&window=12&stride=6";

#[test]
fn concurrent_clients_get_maps_that_point_at_their_shapes() {
    let server = server(&["--images-per-batch", "4"]);
    healthy(&server);
    let answers: Vec<(pami::synthetic::Sample, u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|k| {
                let server = &server;
                scope.spawn(move || {
                    let s = sample(k);
                    let (status, json) = post(server, OCCLUSION, &png(&s.image));
                    (s, status, json)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut hits = 0;
    let mut largest_batch = 0;
    for (s, status, json) in &answers {
        assert_eq!(*status, 200, "{json}");
        assert_eq!(json["targets"][0]["class"], s.class, "the model names the shape: {json}");
        assert_eq!(json["map_size"], serde_json::json!([64, 64]));
        let bytes = base64::engine::general_purpose::STANDARD.decode(json["maps"][0]["data"].as_str().unwrap()).unwrap();
        let map: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        assert_eq!(map.len(), 64 * 64);
        // 15 px at 224² (the pointing game's tolerance), scaled to the 64² shapes.
        hits += pami::metrics::pointing_game(&map, 64, &[s.bbox], 15.0 * 64.0 / 224.0) as usize;
        largest_batch = largest_batch.max(json["batch_images"].as_u64().unwrap());
        assert!(json["timings"]["queued"].as_f64().unwrap() >= 0.0);
    }
    assert!(hits >= 7, "{hits}/8 maps point at their shape");
    assert!(largest_batch >= 2, "requests waiting together share model batches (largest batch {largest_batch})");
    // The same request as a PNG overlay at the model's size.
    let (status, json) = post(&server, &format!("{OCCLUSION}&format=png&size=model"), &png(&sample(0).image));
    assert_eq!(status, 200, "{json}");
    let overlay = base64::engine::general_purpose::STANDARD.decode(json["maps"][0]["data"].as_str().unwrap()).unwrap();
    assert_eq!(image::load_from_memory(&overlay).unwrap().width(), 64);
    // A gradient method through the same queue: integrated gradients points
    // at the shape and reports its completeness gap.
    let mut hits = 0;
    for k in 0..4 {
        let s = sample(k);
        let (status, json) = post(&server, "strategy=integrated-gradients&steps=16&baseline=black", &png(&s.image));
        assert_eq!(status, 200, "{json}");
        assert!(json["completeness_gap"][0].as_f64().unwrap() < 0.05, "{json}");
        let bytes = base64::engine::general_purpose::STANDARD.decode(json["maps"][0]["data"].as_str().unwrap()).unwrap();
        let map: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        hits += pami::metrics::pointing_game(&map, 64, &[s.bbox], 15.0 * 64.0 / 224.0) as usize;
    }
    assert!(hits >= 3, "integrated gradients: {hits}/4 maps point at their shape");
    assert_eq!(healthy(&server)["served"], 13);
}

#[test]
fn bad_requests_get_json_errors_and_the_server_stays_healthy() {
    let server = server(&["--max-body", "100000"]);
    let good = png(&sample(1).image);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (OCCLUSION, b"definitely not an image".to_vec(), 422, "not a readable image"),
        (OCCLUSION, good[..good.len() / 2].to_vec(), 422, "not a readable image"),
        (OCCLUSION, Vec::new(), 422, "empty"),
        (OCCLUSION, vec![7u8; 200_000], 413, "length limit"),
        (OCCLUSION, png(&image::RgbImage::new(1, 1)), 422, "1×1"),
        ("strategy=bogus", good.clone(), 422, "bogus"),
        ("strategy=occlusion&window=0", good.clone(), 422, "window"),
        ("strategy=occlusion&wndow=12", good.clone(), 422, "wndow"),
        ("target=9999", good.clone(), 422, "9999"),
        ("target=square&top_k=2", good.clone(), 422, "cannot be used with"),
        ("format=jpeg", good.clone(), 422, "format"),
    ];
    for (query, body, status, needle) in cases {
        let (got, json) = post(&server, query, &body);
        assert_eq!(got, status, "{query}: {json}");
        assert_eq!(json["status"], status);
        let error = json["error"].as_str().unwrap();
        assert!(error.contains(needle), "{query}: `{error}` lacks `{needle}`");
    }
    let mut response = agent().get(format!("{}/nowhere", server.url)).call().unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.body_mut().read_to_string().unwrap().contains("POST /explain"));
    // Still answering, and correctly.
    let s = sample(2);
    let (status, json) = post(&server, &format!("{OCCLUSION}&target={}", s.class), &png(&s.image));
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["targets"][0]["class"], s.class);
    let health = healthy(&server);
    assert_eq!(health["served"], 1, "{health}");
}

#[test]
fn a_full_queue_answers_503_and_a_late_answer_504() {
    // One request computing, one waiting; each takes about 8 s (8,000 RISE masks), the timeout is 2 s.
    let server = server(&["--queue", "1", "--images-per-batch", "1", "--timeout", "2"]);
    let slow = "strategy=rise&masks=8000";
    let statuses: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..5)
            .map(|k| {
                let server = &server;
                scope.spawn(move || post(server, slow, &png(&sample(10 + k).image)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let count = |code: u16| statuses.iter().filter(|(s, _)| *s == code).count();
    assert!(statuses.iter().all(|(s, _)| [503, 504].contains(s)), "{statuses:?}");
    assert!(count(503) >= 3, "beyond one waiting request the queue is full: {statuses:?}");
    assert!(count(504) >= 1, "the computing request outlives the 2 s timeout: {statuses:?}");
    for (status, json) in &statuses {
        assert!(json["error"].as_str().unwrap().contains(if *status == 503 { "queue is full" } else { "timeout" }));
    }
    // Once the device is free again, a quick request is answered in time.
    healthy(&server);
    let quick = |_| post(&server, "strategy=occlusion&window=32&stride=32", &png(&sample(3).image)).0;
    let answered = (0..120).map(quick).inspect(|_| std::thread::sleep(Duration::from_millis(250))).any(|s| s == 200);
    assert!(answered, "the server answers again after the slow requests");
    healthy(&server);
}
