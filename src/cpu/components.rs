//! CPU twin of the connected-components stages `shaders/components_*.wgsl`:
//! the same union–find with min-linking, so the same roots and labels.

use crate::gpu::components::{BLOCK, ComponentsParams};

fn find(parent: &[i32], x: i32) -> i32 {
    let mut r = x;
    while parent[r as usize] != r {
        r = parent[r as usize];
    }
    r
}

/// Links the larger root under the smaller, as atomicMin does on the GPU.
fn unite(parent: &mut [i32], a: i32, b: i32) {
    let (a, b) = (find(parent, a), find(parent, b));
    if a < b {
        parent[b as usize] = a;
    } else if b < a {
        parent[a as usize] = b;
    }
}

pub fn components_init(parent: &mut [i32], p: &ComponentsParams) {
    let pixels = (p.width * p.height) as usize;
    for (i, v) in parent.iter_mut().enumerate().take(p.images as usize * pixels) {
        *v = (i % pixels) as i32;
    }
}

pub fn components_merge(labels: &[i32], parent: &mut [i32], p: &ComponentsParams) {
    let (w, h) = (p.width as usize, p.height as usize);
    for image in 0..p.images as usize {
        let base = image * w * h;
        let (labels, parent) = (&labels[base..base + w * h], &mut parent[base..base + w * h]);
        for y in 0..h {
            for x in 0..w {
                let pixel = y * w + x;
                if x + 1 < w && labels[pixel + 1] == labels[pixel] {
                    unite(parent, pixel as i32, pixel as i32 + 1);
                }
                if y + 1 < h && labels[pixel + w] == labels[pixel] {
                    unite(parent, pixel as i32, (pixel + w) as i32);
                }
            }
        }
    }
}

pub fn components_compress(parent: &mut [i32], p: &ComponentsParams) {
    let pixels = (p.width * p.height) as usize;
    for image in 0..p.images as usize {
        let parent = &mut parent[image * pixels..(image + 1) * pixels];
        for i in 0..pixels {
            parent[i] = find(parent, parent[i]);
        }
    }
}

pub fn components_count(parent: &[i32], blocks: &mut [i32], p: &ComponentsParams) {
    let pixels = (p.width * p.height) as usize;
    for image in 0..p.images as usize {
        for block in 0..p.blocks as usize {
            let start = block * BLOCK as usize;
            let end = (start + BLOCK as usize).min(pixels);
            let roots = (start..end).filter(|&i| parent[image * pixels + i] == i as i32).count();
            blocks[image * p.blocks as usize + block] = roots as i32;
        }
    }
}

pub fn components_scan(blocks: &mut [i32], counts: &mut [i32], p: &ComponentsParams) {
    let n = p.blocks as usize;
    for image in 0..p.images as usize {
        let mut running = 0;
        for b in &mut blocks[image * n..(image + 1) * n] {
            let roots = *b;
            *b = running;
            running += roots;
        }
        counts[image] = running;
    }
}

pub fn components_relabel(parent: &[i32], blocks: &[i32], output: &mut [i32], p: &ComponentsParams) {
    let pixels = (p.width * p.height) as usize;
    for image in 0..p.images as usize {
        let base = image * pixels;
        for pixel in 0..pixels {
            let root = parent[base + pixel] as usize;
            let block = root / BLOCK as usize;
            let before = (block * BLOCK as usize..root).filter(|&i| parent[base + i] == i as i32).count();
            output[base + pixel] = blocks[image * p.blocks as usize + block] + before as i32;
        }
    }
}

/// Labels `[images, H, W]` → (components numbered 0..n per image in order of
/// first appearance, n per image).
pub fn connected_components(labels: &[i32], p: &ComponentsParams) -> (Vec<i32>, Vec<i32>) {
    let mut parent = vec![0; labels.len()];
    let mut blocks = vec![0; (p.images * p.blocks) as usize];
    let mut counts = vec![0; p.images as usize];
    let mut output = vec![0; labels.len()];
    components_init(&mut parent, p);
    components_merge(labels, &mut parent, p);
    components_compress(&mut parent, p);
    components_count(&parent, &mut blocks, p);
    components_scan(&mut blocks, &mut counts, p);
    components_relabel(&parent, &blocks, &mut output, p);
    (output, counts)
}
