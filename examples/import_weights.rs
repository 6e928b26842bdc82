//! Converts the PyTorch checkpoint of EfficientNet-Lite0 into the Burn record
//! pami embeds: `cargo run --release --example import_weights -- PTH OUT.bpk`
//! (models/README.md has the whole recipe).

use std::path::PathBuf;

use burn::tensor::Device;
use pami::EfficientNetLite0;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(pth), Some(out)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: import_weights PTH OUT.bpk");
    };
    let model = EfficientNetLite0::from_pytorch(&pth, &Device::flex())?;
    model.save_burnpack(&out)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
