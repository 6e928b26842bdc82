//! The box plot of a ranking: one horizontal box per concept over its
//! permutations' importances, most important at the top, a line at 0.

use image::RgbImage;
use plotters::prelude::*;

use super::rank::Ranking;
use crate::Error;

/// DejaVu Sans (`assets/DejaVuSans.ttf`), so the labels need no system fonts.
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() -> Result<(), Error> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    ok.then_some(()).ok_or_else(|| Error::InvalidParameter("the bundled font does not parse".into()))
}

/// The plot, `width` pixels wide and 60 + 36 per concept high.
pub fn box_plot(ranking: &Ranking, width: u32) -> Result<RgbImage, Error> {
    register_font()?;
    let rows = ranking.concepts.len().max(1) as u32;
    let height = 90 + 36 * rows;
    let mut buffer = vec![255u8; (width * height * 3) as usize];
    draw(ranking, &mut buffer, (width, height)).map_err(|e| Error::InvalidParameter(format!("box plot: {e}")))?;
    RgbImage::from_raw(width, height, buffer).ok_or_else(|| Error::InvalidParameter("box plot: buffer size".into()))
}

fn draw(ranking: &Ranking, buffer: &mut [u8], size: (u32, u32)) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(buffer, size).into_drawing_area();
    root.fill(&WHITE)?;
    // Most important at the top: the y axis runs bottom-up, so list them reversed.
    let names: Vec<String> = ranking.concepts.iter().rev().map(|c| c.concept.clone()).collect();
    let values = ranking.concepts.iter().flat_map(|c| c.per_permutation.iter().map(|&v| v as f32));
    let (lo, hi) = values.fold((0.0f32, 0.0f32), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.08).max(1e-3);
    let label_area = names.iter().map(|n| n.chars().count()).max().unwrap_or(4) as u32 * 8 + 16;
    let metric = serde_json::to_value(ranking.metric)?.as_str().unwrap_or_default().to_uppercase();
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_area)
        .caption(format!("Concept importance over {} permutations (baseline {metric} {:.3})", ranking.concepts.first().map_or(0, |c| c.per_permutation.len()), ranking.baseline), ("sans-serif", 18))
        .build_cartesian_2d((lo - pad)..(hi + pad), names[..].into_segmented())?;
    let name = |v: &SegmentValue<&String>| match v {
        SegmentValue::CenterOf(n) | SegmentValue::Exact(n) => n.to_string(),
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .x_desc(format!("importance: {metric} drop when the concept is permuted"))
        .y_labels(names.len())
        .y_label_formatter(&name)
        .light_line_style(WHITE)
        .label_style(("sans-serif", 14))
        .draw()?;
    if let Some(first) = names.first() {
        chart.draw_series(std::iter::once(PathElement::new(vec![(0.0f32, SegmentValue::Exact(first)), (0.0f32, SegmentValue::Last)], BLACK.mix(0.6))))?;
    }
    let blue = RGBColor(40, 90, 200);
    chart.draw_series(ranking.concepts.iter().zip(names.iter().rev()).map(|(c, name)| {
        let values: Vec<f32> = c.per_permutation.iter().map(|&v| v as f32).collect();
        Boxplot::new_horizontal(SegmentValue::CenterOf(name), &Quartiles::new(&values)).width(18).whisker_width(0.6).style(blue)
    }))?;
    root.present()?;
    Ok(())
}
