//! The 1000 ImageNet class names (torchvision's `_IMAGENET_CATEGORIES`, BSD-3).

static IMAGENET: &str = include_str!("../../models/imagenet_classes.txt");

pub fn imagenet() -> Vec<String> {
    IMAGENET.lines().map(str::to_owned).collect()
}
