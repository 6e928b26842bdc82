//! `pami serve` (part of the `pami` binary): explanations over HTTP.
//!
//! Handlers decode images on tokio's blocking threads and put them in one
//! queue; a single worker thread owns the model and the device and takes
//! from the queue as many waiting images as share a configuration (up to
//! `--images-per-batch`), so concurrent clients share model batches. At most
//! one image per core is decoded at a time. Every
//! failure is a JSON `{"error": …}` with its status: 413 (body too large),
//! 422 (undecodable image, bad parameter), 503 (queue full), 504 (timeout),
//! 500 (the device failed; the worker goes on).

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use clap::{Args, Parser};
use image::RgbImage;
use pami::{ExplainConfig, Explainer, Explanation, Model, Zoo, io};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::{MethodArgs, StrategyArg, config, targets};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    #[arg(long, value_enum, default_value = "efficientnet-lite0")]
    model: Zoo,
    #[arg(long, value_enum, default_value = "auto")]
    device: pami::DeviceChoice,
    /// Images of different requests (same method and options) that share model batches.
    #[arg(long, default_value_t = 4)]
    images_per_batch: usize,
    /// Requests waiting for the device beyond which new ones get 503.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Largest request body in bytes (413 beyond).
    #[arg(long, default_value_t = 32 << 20)]
    max_body: usize,
    /// Seconds from a request's arrival to its answer (504 beyond).
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
}

/// A request's method options: the CLI's own flags, given as query parameters
/// (`?strategy=occlusion&window=56&stride=56&top_k=2&target=967`).
#[derive(Parser)]
#[command(no_binary_name = true, disable_help_flag = true)]
struct QueryArgs {
    #[arg(long, value_enum, default_value = "window")]
    strategy: StrategyArg,
    /// Class ids or exact names; repeat for several.
    #[arg(long = "target", conflicts_with = "top_k")]
    targets: Vec<String>,
    #[arg(long)]
    top_k: Option<usize>,
    #[command(flatten)]
    method: MethodArgs,
}

/// How a map comes back.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    /// Little-endian f32, row-major, base64.
    F32,
    /// The map over the image (inferno colours), PNG, base64.
    Png,
    /// Scores only.
    None,
}

/// A client's error: its status and a one-line reason.
struct Failure(StatusCode, String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1, "status": self.0.as_u16() }))).into_response()
    }
}

fn unprocessable(reason: impl ToString) -> Failure {
    Failure(StatusCode::UNPROCESSABLE_ENTITY, reason.to_string())
}

/// One image waiting for the device.
struct Job {
    image: RgbImage,
    config: ExplainConfig,
    /// Jobs with equal keys share model batches.
    key: String,
    deadline: Instant,
    arrived: Instant,
    reply: oneshot::Sender<Result<Done, Failure>>,
}

/// What the worker hands back for one job.
struct Done {
    explanation: Explanation,
    queued: f64,
    batch_images: usize,
}

struct Shared {
    jobs: mpsc::Sender<Job>,
    /// Images decoded at once: one per core, so a burst of large images
    /// queues for the decoder instead of holding many decoded images in memory.
    decoders: tokio::sync::Semaphore,
    /// Accepted and not yet started.
    waiting: AtomicUsize,
    worker_alive: AtomicBool,
    served: AtomicUsize,
    failed: AtomicUsize,
    queue: usize,
    timeout: Duration,
    /// Composites per forward pass, from the device's limits (a request's `batch` overrides it).
    batch: usize,
    class_names: Vec<String>,
    info: Value,
}

/// Parses the query into the explanation config, the map format and the map size.
fn parse_query(pairs: &[(String, String)], class_names: &[String], batch: usize) -> Result<(ExplainConfig, Format, bool), Failure> {
    let mut argv = Vec::new();
    let (mut format, mut model_size) = (Format::F32, false);
    for (key, value) in pairs {
        match key.as_str() {
            "format" => {
                format = match value.as_str() {
                    "f32" => Format::F32,
                    "png" => Format::Png,
                    "none" => Format::None,
                    other => return Err(unprocessable(format!("format `{other}`: use f32, png or none"))),
                }
            }
            "size" => {
                model_size = match value.as_str() {
                    "image" => false,
                    "model" => true,
                    other => return Err(unprocessable(format!("size `{other}`: use image or model"))),
                }
            }
            _ => {
                argv.push(format!("--{}", key.replace('_', "-")));
                if !(key == "second_run" && (value.is_empty() || value == "true")) {
                    argv.push(value.clone());
                }
            }
        }
    }
    let args = QueryArgs::try_parse_from(&argv).map_err(|e| {
        let text = e.to_string();
        unprocessable(text.lines().next().unwrap_or("bad parameters").trim_start_matches("error: ").to_owned())
    })?;
    let targets = targets(&args.targets, args.top_k, class_names).map_err(unprocessable)?;
    let mut config = config(args.strategy, &args.method, targets).map_err(|e| unprocessable(format!("{e:#}")))?;
    config.batch = args.method.batch.unwrap_or(batch);
    Ok((config, format, model_size))
}

/// The worker: takes waiting jobs, groups those of one configuration, explains each group.
fn work(explainer: Explainer<Box<dyn Model>>, jobs: mpsc::Receiver<Job>, shared: Arc<Shared>, per_batch: usize) {
    let mut pending: VecDeque<Job> = VecDeque::new();
    loop {
        if pending.is_empty() {
            match jobs.recv() {
                Ok(job) => pending.push_back(job),
                Err(_) => return,
            }
        }
        pending.extend(jobs.try_iter());
        // The oldest job's configuration goes first, with the next waiting jobs that share it.
        let key = pending[0].key.clone();
        let mut group = Vec::new();
        let mut rest = VecDeque::new();
        for job in pending.drain(..) {
            if job.key == key && group.len() < per_batch {
                group.push(job);
            } else {
                rest.push_back(job);
            }
        }
        pending = rest;
        shared.waiting.fetch_sub(group.len(), Ordering::SeqCst);
        let now = Instant::now();
        let (live, expired): (Vec<Job>, Vec<Job>) = group.into_iter().partition(|j| j.deadline > now && !j.reply.is_closed());
        for job in expired {
            let _ = job.reply.send(Err(timed_out(&shared)));
        }
        if live.is_empty() {
            continue;
        }
        let images: Vec<RgbImage> = live.iter().map(|j| j.image.clone()).collect();
        let config = live[0].config.clone();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| explainer.explain_batch(&images, &config)));
        let n = live.len();
        match outcome {
            Ok(Ok(explanations)) => {
                for (job, explanation) in live.into_iter().zip(explanations) {
                    let queued = (now - job.arrived).as_secs_f64();
                    let _ = job.reply.send(Ok(Done { explanation, queued, batch_images: n }));
                }
            }
            Ok(Err(e)) => {
                let status = match e {
                    pami::Error::Device(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                for job in live {
                    let _ = job.reply.send(Err(Failure(status, e.to_string())));
                }
            }
            Err(_) => {
                for job in live {
                    let _ = job.reply.send(Err(Failure(StatusCode::INTERNAL_SERVER_ERROR, "the explanation panicked; the server goes on".into())));
                }
            }
        }
    }
}

fn timed_out(shared: &Shared) -> Failure {
    Failure(StatusCode::GATEWAY_TIMEOUT, format!("no answer within the server's {:.0} s timeout", shared.timeout.as_secs_f64()))
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let alive = shared.worker_alive.load(Ordering::SeqCst);
    let status = if alive { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut body = shared.info.clone();
    body["status"] = json!(if alive { "ok" } else { "worker stopped" });
    body["waiting"] = json!(shared.waiting.load(Ordering::SeqCst));
    body["served"] = json!(shared.served.load(Ordering::SeqCst));
    body["failed"] = json!(shared.failed.load(Ordering::SeqCst));
    (status, Json(body)).into_response()
}

async fn explain(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // The timeout covers the whole request: decoding, waiting and explaining. A
    // request dropped here closes its reply channel, and the worker skips it.
    let result = match tokio::time::timeout(shared.timeout, answer(&shared, query, body)).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(&shared)),
    };
    let counter = if result.is_ok() { &shared.served } else { &shared.failed };
    counter.fetch_add(1, Ordering::SeqCst);
    match result {
        Ok(json) => Json(json).into_response(),
        Err(failure) => failure.into_response(),
    }
}

async fn answer(shared: &Arc<Shared>, query: Result<Query<Vec<(String, String)>>, QueryRejection>, body: Result<Bytes, BytesRejection>) -> Result<Value, Failure> {
    let arrived = Instant::now();
    let deadline = arrived + shared.timeout;
    let body = body.map_err(|e| Failure(e.status(), e.body_text()))?;
    let Query(pairs) = query.map_err(unprocessable)?;
    let (config, format, model_size) = parse_query(&pairs, &shared.class_names, shared.batch)?;
    if body.is_empty() {
        return Err(unprocessable("the request body is empty: send the image's bytes"));
    }
    let permit = shared.decoders.acquire().await.map_err(|e| Failure(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let image = tokio::task::spawn_blocking(move || io::decode_image(&body, "request body".as_ref()))
        .await
        .map_err(|e| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(unprocessable)?;
    drop(permit);
    let decoded = arrived.elapsed().as_secs_f64();

    // Admission: a bounded number of accepted, unstarted jobs.
    if shared.waiting.fetch_add(1, Ordering::SeqCst) >= shared.queue {
        shared.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(Failure(StatusCode::SERVICE_UNAVAILABLE, format!("the queue is full ({} requests waiting); retry later", shared.queue)));
    }
    let key = serde_json::to_string(&config).unwrap_or_default();
    let (reply, answer) = oneshot::channel();
    let kept = (format == Format::Png).then(|| image.clone());
    let job = Job { image, config: config.clone(), key, deadline, arrived, reply };
    if shared.jobs.send(job).is_err() {
        shared.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(Failure(StatusCode::SERVICE_UNAVAILABLE, "the worker has stopped".into()));
    }
    let done = answer.await.map_err(|_| Failure(StatusCode::INTERNAL_SERVER_ERROR, "the worker dropped the request".into()))??;
    let e = &done.explanation;
    let ([h, w], maps): ([usize; 2], Vec<&[f32]>) = if model_size {
        (e.map_size, (0..e.targets.len()).map(|t| e.map(t)).collect())
    } else {
        (e.image_size, (0..e.targets.len()).map(|t| e.map_full(t)).collect())
    };
    let encoded: Vec<Value> = e
        .targets
        .iter()
        .zip(&maps)
        .map(|(target, map)| {
            let data = match format {
                Format::F32 => Some(base64::engine::general_purpose::STANDARD.encode(le_bytes(map))),
                Format::Png => kept.as_ref().and_then(|image| {
                    let overlay = if model_size { io::overlay(&resized(image, w, h), map) } else { io::overlay(image, map) };
                    io::png_bytes(&overlay).ok().map(|png| base64::engine::general_purpose::STANDARD.encode(png))
                }),
                Format::None => None,
            };
            json!({ "class": target.class, "name": target.name, "data": data })
        })
        .collect();
    let mut timings = serde_json::to_value(&e.timings).unwrap_or_default();
    timings["decode"] = json!(decoded);
    timings["queued"] = json!(done.queued);
    timings["request"] = json!(arrived.elapsed().as_secs_f64());
    Ok(json!({
        "targets": e.targets,
        "predictions": e.predictions,
        "strategy": config.strategy.name(),
        "map_format": match format { Format::F32 => "f32le-base64", Format::Png => "png-base64", Format::None => "none" },
        "map_size": [h, w],
        "maps": encoded,
        "parts": e.parts,
        "forward_passes": e.forward_passes,
        "batch_images": done.batch_images,
        "timings": timings,
    }))
}

fn resized(image: &RgbImage, w: usize, h: usize) -> RgbImage {
    image::imageops::resize(image, w as u32, h as u32, image::imageops::FilterType::Triangle)
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

async fn not_found() -> Failure {
    Failure(StatusCode::NOT_FOUND, "no such endpoint: POST /explain or GET /healthz".into())
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.images_per_batch >= 1, "--images-per-batch must be at least 1");
    anyhow::ensure!(args.queue >= 1, "--queue must be at least 1");
    anyhow::ensure!(args.timeout > 0.0 && args.timeout.is_finite(), "--timeout must be a positive number of seconds");
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: running on {} ({}): {}", runtime.backend, runtime.adapter, runtime.reason);
    let explainer = Explainer::new(args.model.load(&runtime.device)?, runtime.device.clone());
    let batch = runtime.batch_for(&explainer.model);
    let (sender, receiver) = mpsc::channel();
    let shared = Arc::new(Shared {
        jobs: sender,
        decoders: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        waiting: AtomicUsize::new(0),
        worker_alive: AtomicBool::new(true),
        served: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        queue: args.queue,
        timeout: Duration::from_secs_f64(args.timeout),
        batch,
        class_names: explainer.model.class_names().to_vec(),
        info: json!({
            "model": args.model.name(),
            "backend": runtime.backend,
            "adapter": runtime.adapter,
            "batch": batch,
            "images_per_batch": args.images_per_batch,
            "queue": args.queue,
        }),
    });
    let worker = std::thread::Builder::new().name("pami-device".into()).spawn({
        let shared = shared.clone();
        let per_batch = args.images_per_batch;
        move || {
            work(explainer, receiver, shared.clone(), per_batch);
            shared.worker_alive.store(false, Ordering::SeqCst);
        }
    })?;

    let router = Router::new()
        .route("/explain", post(explain))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(args.max_body))
        .with_state(shared.clone());
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.addr).await.map_err(|e| anyhow::anyhow!("{}: {e}", args.addr))?;
        eprintln!("pami: listening on http://{}", listener.local_addr()?);
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        anyhow::Ok(())
    })?;
    // The worker thread ends with the process; whatever it computes now has no one to answer.
    drop(worker);
    Ok(())
}
