//! `report.html`: one self-contained page (inline styles, SVG and PNG data
//! URIs; nothing fetched): the diverging chart of each cluster's delta with
//! its interval, a gallery of exemplar crops per cluster, the per-class
//! breakdown, and both models' maps side by side for the images where they
//! differ most.

use std::fmt::Write;

use base64::Engine;
use image::RgbImage;

use super::{Comparison, Summary};
use crate::Error;

/// Blue for clusters model A attributes more, red for model B.
pub const COLOUR_A: &str = "#2166ac";
pub const COLOUR_B: &str = "#b2182b";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn data_uri(image: &RgbImage) -> Result<String, Error> {
    let png = crate::io::png_bytes(image).map_err(|e| Error::Output { path: "report.html".into(), reason: e.to_string() })?;
    Ok(format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)))
}

/// The diverging bar chart: one row per cluster, bars from 0 to delta, the
/// interval as a whisker.
fn chart(summary: &Summary) -> String {
    let rows = summary.clusters.len();
    let (label, half, row) = (150.0, 260.0, 22.0);
    let width = label + 2.0 * half + 20.0;
    let height = 30.0 + row * rows as f32;
    let extent = summary.clusters.iter().flat_map(|c| [c.delta.abs(), c.ci[0].abs(), c.ci[1].abs()]).fold(1e-6f32, f32::max);
    let x = |v: f32| label + half + v / extent * half;
    let mut svg = format!(
        "<svg id=\"delta-chart\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"delta per cluster\">\n"
    );
    let _ = writeln!(svg, "<line x1=\"{0}\" y1=\"10\" x2=\"{0}\" y2=\"{1}\" stroke=\"#444\"/>", x(0.0), height - 10.0);
    let _ = writeln!(svg, "<text x=\"{}\" y=\"12\" font-size=\"11\" text-anchor=\"start\">← A attributes more</text>", label);
    let _ = writeln!(svg, "<text x=\"{}\" y=\"12\" font-size=\"11\" text-anchor=\"end\">B attributes more →</text>", label + 2.0 * half);
    for (i, c) in summary.clusters.iter().enumerate() {
        let y = 22.0 + row * i as f32;
        let (x0, x1) = (x(0.0).min(x(c.delta)), x(0.0).max(x(c.delta)));
        let colour = if c.delta >= 0.0 { COLOUR_B } else { COLOUR_A };
        let _ = writeln!(
            svg,
            "<a href=\"#cluster-{id}\"><text x=\"{tx}\" y=\"{ty}\" font-size=\"12\" text-anchor=\"end\">cluster {id} ({size})</text></a>\
             <rect class=\"bar\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"14\" fill=\"{colour}\"><title>delta {d:+.4} [{lo:+.4}, {hi:+.4}]</title></rect>\
             <line class=\"ci\" x1=\"{l:.1}\" x2=\"{h:.1}\" y1=\"{m:.1}\" y2=\"{m:.1}\" stroke=\"#111\" stroke-width=\"1.5\"/>",
            id = c.id,
            size = c.size,
            tx = label - 8.0,
            ty = y + 11.0,
            w = (x1 - x0).max(1.0),
            d = c.delta,
            lo = c.ci[0],
            hi = c.ci[1],
            l = x(c.ci[0]),
            h = x(c.ci[1]),
            m = y + 7.0,
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The page.
pub fn html(comparison: &Comparison) -> Result<String, Error> {
    let s = &comparison.summary;
    let models = |side: &str| escape(&s.models[side]["model"].as_str().map(str::to_owned).unwrap_or_else(|| s.models[side].to_string()));
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pami compare: {a} vs {b}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 24px; color: #222; }}\n\
         table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}\n\
         .gallery img, .differ img {{ image-rendering: pixelated; margin: 2px; border: 1px solid #999; }}\n\
         .cluster {{ margin-bottom: 18px; }} .pos {{ color: {cb}; }} .neg {{ color: {ca}; }}\n\
         </style></head><body>\n<h1>Model A: {a} · model B: {b}</h1>\n\
         <p>{method} attributions over {images} images; {features} salient features in {clusters} clusters. \
         A cluster's share is the part of a model's attribution mass over all kept features that falls in it; delta = share B − share A, \
         with a 95 % bootstrap interval over images.</p>\n",
        a = models("a"),
        b = models("b"),
        cb = COLOUR_B,
        ca = COLOUR_A,
        method = escape(&s.method),
        images = s.images,
        features = s.features,
        clusters = s.clusters.len(),
    );
    page.push_str("<h2>Delta per cluster</h2>\n");
    page.push_str(&chart(s));

    page.push_str("<h2>Clusters</h2>\n<section id=\"galleries\">\n");
    for c in &s.clusters {
        let sign = if c.delta >= 0.0 { "pos" } else { "neg" };
        let _ = write!(
            page,
            "<div class=\"cluster\" id=\"cluster-{}\"><h3>Cluster {} · {} features · share A {:.3}, share B {:.3}, <span class=\"{sign}\">delta {:+.3}</span> [{:+.3}, {:+.3}]</h3><div class=\"gallery\">",
            c.id, c.id, c.size, c.share_a, c.share_b, c.delta, c.ci[0], c.ci[1]
        );
        for &e in &c.exemplars {
            let m = &c.members[e];
            let title = format!("{} box {:?} attr A {:.3} B {:.3}", m.image.display(), m.bbox, m.attr_a, m.attr_b);
            let _ = write!(page, "<img class=\"exemplar\" width=\"64\" height=\"64\" alt=\"exemplar\" title=\"{}\" src=\"{}\">", escape(&title), data_uri(&comparison.thumbnails[c.features[e]])?);
        }
        page.push_str("</div></div>\n");
    }
    page.push_str("</section>\n");

    page.push_str("<h2>Per class</h2>\n<table id=\"classes\"><tr><th>class</th><th>images</th>");
    let shown: Vec<usize> = s.clusters.iter().take(6).map(|c| c.id).collect();
    for id in &shown {
        let _ = write!(page, "<th>delta, cluster {id}</th>");
    }
    page.push_str("</tr>\n");
    for class in &s.classes {
        let _ = write!(page, "<tr><td>{} {}</td><td>{}</td>", class.class, escape(&class.name), class.images);
        for share in class.clusters.iter().take(shown.len()) {
            let sign = if share.delta >= 0.0 { "pos" } else { "neg" };
            let _ = write!(page, "<td class=\"{sign}\">{:+.3}</td>", share.delta);
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n");

    page.push_str("<h2>Where the models differ most</h2>\n<section id=\"differ\">\n");
    for d in &s.differ {
        let Some(pictures) = &d.pictures else { continue };
        let _ = write!(page, "<div class=\"differ\"><p>{} · class {} · distance {:.3}</p>", escape(&d.image.display().to_string()), d.class, d.distance);
        for (picture, what) in pictures.iter().zip(["image", "model A", "model B"]) {
            let _ = write!(page, "<img alt=\"{what}\" title=\"{what}\" src=\"{}\">", data_uri(picture)?);
        }
        page.push_str("</div>\n");
    }
    page.push_str("</section>\n");
    if !s.failures.is_empty() {
        let _ = write!(page, "<p>{} images could not be compared (listed in summary.json).</p>\n", s.failures.len());
    }
    // Marks on <body> what rendered: images decoded, chart bars laid out
    // (read by the headless-browser test; harmless anywhere else).
    page.push_str(
        "<script>window.addEventListener('load', function () {\n\
         var images = Array.prototype.slice.call(document.images);\n\
         var decoded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });\n\
         var bars = Array.prototype.filter.call(document.querySelectorAll('#delta-chart rect.bar'), function (b) { return b.getBoundingClientRect().width > 0; });\n\
         document.body.setAttribute('data-images', images.length);\n\
         document.body.setAttribute('data-decoded', decoded.length);\n\
         document.body.setAttribute('data-bars', bars.length);\n\
         });</script>\n",
    );
    page.push_str("</body></html>\n");
    Ok(page)
}
