//! `pami serve`: explanations over HTTP.
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
use image::RgbImage;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::method::registry::Values;
use crate::options;
use crate::run::{Batcher, explain_group};
use crate::{Error, ExplainConfig, Explainer, Explanation, Model, Targets, io};

/// How the server runs (`pami serve`'s flags).
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port; the chosen one is printed).
    pub addr: String,
    /// Images of different requests (same method and options) that share model batches.
    pub images_per_batch: usize,
    /// Requests waiting for the device beyond which new ones get 503.
    pub queue: usize,
    /// Largest request body in bytes (413 beyond).
    pub max_body: usize,
    /// From a request's arrival to its answer (504 beyond).
    pub timeout: Duration,
}

/// A request's options: the command line's method options as query
/// parameters (`?strategy=occlusion&window=56&stride=56&top_k=2&target=967`),
/// plus how the maps come back.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryOptions {
    pub strategy: String,
    /// Class ids or exact names.
    pub targets: Vec<String>,
    pub top_k: Option<usize>,
    /// The method's and the common options, as the command line collects them.
    pub options: Values,
    pub format: Format,
    /// Maps at the model's input size instead of the image's.
    pub model_size: bool,
}

/// Reads the query's pairs: `strategy`, `target` (repeatable), `top_k`,
/// `format`, `size` and every method option; an unknown name is an error.
pub fn parse_query(pairs: &[(String, String)]) -> Result<QueryOptions, String> {
    let mut query =
        QueryOptions { strategy: "window".into(), targets: Vec::new(), top_k: None, options: Values::default(), format: Format::F32, model_size: false };
    for (key, value) in pairs {
        match key.replace('-', "_").as_str() {
            "strategy" => query.strategy = value.clone(),
            "target" => query.targets.push(value.clone()),
            "top_k" => query.top_k = Some(value.trim().parse().map_err(|_| format!("top_k `{value}` is not a count"))?),
            "format" => {
                query.format = match value.as_str() {
                    "f32" => Format::F32,
                    "png" => Format::Png,
                    "none" => Format::None,
                    other => return Err(format!("format `{other}`: use f32, png or none")),
                }
            }
            "size" => {
                query.model_size = match value.as_str() {
                    "image" => false,
                    "model" => true,
                    other => return Err(format!("size `{other}`: use image or model")),
                }
            }
            _ => query.options.push(key, value.clone()),
        }
    }
    if let Some(name) = options::unknown(&query.options).first() {
        return Err(format!("unknown parameter `{name}`"));
    }
    if !query.targets.is_empty() && query.top_k.is_some() {
        return Err("`target` cannot be used with `top_k`: give one".into());
    }
    Ok(query)
}

/// How a map comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
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

/// The request's configuration, the map format and the map size.
fn configure(pairs: &[(String, String)], class_names: &[String], batch: usize) -> Result<(ExplainConfig, Format, bool), Failure> {
    let query = parse_query(pairs).map_err(unprocessable)?;
    let targets = Targets::from_classes(&query.targets, query.top_k, class_names).map_err(unprocessable)?;
    let config = options::config(&query.strategy, &query.options, targets, batch).map_err(unprocessable)?;
    Ok((config, query.format, query.model_size))
}

/// The worker: takes waiting jobs, groups those of one configuration, explains each group.
fn work<M: Model>(explainer: Explainer<M>, jobs: mpsc::Receiver<Job>, shared: Arc<Shared>, batcher: Batcher) {
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
        let group = batcher.take(&mut pending, |job| job.key.clone());
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
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| explain_group(&explainer, &images, &config)));
        let n = live.len();
        match outcome {
            Ok(results) => {
                for (job, result) in live.into_iter().zip(results) {
                    let queued = (now - job.arrived).as_secs_f64();
                    let reply = result.map(|explanation| Done { explanation, queued, batch_images: n }).map_err(|e| {
                        let status = match e {
                            Error::Device(_) => StatusCode::INTERNAL_SERVER_ERROR,
                            _ => StatusCode::UNPROCESSABLE_ENTITY,
                        };
                        Failure(status, e.to_string())
                    });
                    let _ = job.reply.send(reply);
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
    let (config, format, model_size) = configure(&pairs, &shared.class_names, shared.batch)?;
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
    let mut response = json!({
        "targets": e.targets,
        "predictions": e.predictions,
        "strategy": config.method.name(),
        "map_format": match format { Format::F32 => "f32le-base64", Format::Png => "png-base64", Format::None => "none" },
        "map_size": [h, w],
        "maps": encoded,
        "parts": e.parts,
        "forward_passes": e.forward_passes,
        "batch_images": done.batch_images,
        "timings": timings,
    });
    // The method's numbers per target (integrated gradients' `completeness_gap`).
    for (name, values) in &e.stats {
        response[*name] = json!(values);
    }
    Ok(response)
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

/// Serves `explainer` until interrupted (Ctrl-C). `info` (the model's name,
/// the backend, …) is shown by `GET /healthz`; `batch` is the composites per
/// forward pass a request gets unless it gives `batch`.
pub fn serve<M: Model + 'static>(options: ServeOptions, explainer: Explainer<M>, batch: usize, info: Value) -> Result<(), Error> {
    let invalid = |m: &str| Err(Error::InvalidParameter(m.into()));
    if options.images_per_batch == 0 {
        return invalid("--images-per-batch must be at least 1");
    }
    if options.queue == 0 {
        return invalid("--queue must be at least 1");
    }
    if options.timeout.is_zero() {
        return invalid("--timeout must be a positive number of seconds");
    }
    let (sender, receiver) = mpsc::channel();
    let mut info = info;
    info["batch"] = json!(batch);
    info["images_per_batch"] = json!(options.images_per_batch);
    info["queue"] = json!(options.queue);
    let shared = Arc::new(Shared {
        jobs: sender,
        decoders: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        waiting: AtomicUsize::new(0),
        worker_alive: AtomicBool::new(true),
        served: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        queue: options.queue,
        timeout: options.timeout,
        batch,
        class_names: explainer.model.class_names().to_vec(),
        info,
    });
    let device_error = |e: std::io::Error| Error::Device(e.to_string());
    let worker = std::thread::Builder::new()
        .name("pami-device".into())
        .spawn({
            let shared = shared.clone();
            let batcher = Batcher::new(options.images_per_batch);
            move || {
                work(explainer, receiver, shared.clone(), batcher);
                shared.worker_alive.store(false, Ordering::SeqCst);
            }
        })
        .map_err(device_error)?;

    let router = Router::new()
        .route("/explain", post(explain))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(options.max_body))
        .with_state(shared.clone());
    let runtime = tokio::runtime::Runtime::new().map_err(device_error)?;
    let addr = options.addr.clone();
    runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(&addr).await.map_err(|e| Error::InvalidParameter(format!("{addr}: {e}")))?;
        eprintln!("pami: listening on http://{}", listener.local_addr().map_err(device_error)?);
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(device_error)
    })?;
    // The worker thread ends with the process; whatever it computes now has no one to answer.
    drop(worker);
    Ok(())
}
