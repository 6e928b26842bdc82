//! `examples/embed.rs` run as a test: pami on a wgpu device the caller
//! opened, with the caller's own Burn model, explaining an image that never
//! left the device.

#[path = "../examples/embed.rs"]
mod embed;

#[test]
fn an_applications_own_model_on_its_own_device_points_at_the_red_disc() {
    let setup = match embed::application_device() {
        Ok(setup) => setup,
        Err(e) if std::env::var("PAMI_REQUIRE_GPU").as_deref() == Ok("1") => panic!("PAMI_REQUIRE_GPU=1: {e}"),
        Err(e) => return eprintln!("skipping: {e}"),
    };
    let outcome = embed::run(setup).expect("explains on the caller's device");
    assert!(outcome.probability > 0.9, "the model sees the red disc: {outcome:?}");
    let (x, y) = outcome.peak;
    let (cx, cy, r) = embed::RED;
    let distance = ((x as f32 - cx as f32).powi(2) + (y as f32 - cy as f32).powi(2)).sqrt();
    assert!(distance <= r as f32, "the map peaks inside the red disc: {outcome:?}");
}

#[test]
fn a_tensor_of_the_wrong_size_is_an_error() {
    let device = burn::tensor::Device::flex();
    let explainer = pami::Explainer::new(embed::RedSpotter::new(&device), device.clone());
    let wrong = burn::tensor::Tensor::<4>::zeros([1, 3, 50, 50], &device);
    let error = explainer.explain_tensor(wrong, &pami::ExplainConfig::default()).err().expect("an error");
    assert!(error.to_string().contains("[1, 3, 50, 50]"), "{error}");
}

#[test]
fn a_device_without_the_adapters_features_is_refused_with_a_reason() {
    use pami::device::burn_wgpu as wgpu;
    let Ok(mut setup) = embed::application_device() else { return eprintln!("skipping: no adapter") };
    let wanted = setup.adapter.features().difference(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
    if wanted.is_empty() {
        return eprintln!("skipping: the adapter offers no optional feature");
    }
    // The same adapter, but a device opened with WebGPU's defaults only.
    let (device, queue) = pollster::block_on(setup.adapter.request_device(&wgpu::DeviceDescriptor::default())).unwrap();
    (setup.device, setup.queue) = (device, queue);
    let error = pami::device::init_device(setup).err().expect("refused");
    assert!(error.to_string().contains("lacks adapter features"), "{error}");
}
