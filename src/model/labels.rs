//! The 1000 ImageNet class names (torchvision's `_IMAGENET_CATEGORIES`, BSD-3).

static IMAGENET: &str = include_str!("../../models/imagenet_classes.txt");

pub fn imagenet() -> Vec<String> {
    IMAGENET.lines().map(str::to_owned).collect()
}

/// Class names from a text file, one per line (`--labels`): trailing blank
/// lines are ignored, a blank line before the last name is an error.
pub fn read(path: &std::path::Path) -> Result<Vec<String>, crate::Error> {
    let text = std::fs::read_to_string(path).map_err(|error| crate::Error::Io { path: path.to_owned(), error })?;
    let names: Vec<String> = text.trim_end().lines().map(|l| l.trim().to_owned()).collect();
    if let Some(line) = names.iter().position(String::is_empty) {
        return Err(crate::Error::InvalidParameter(format!("{}: line {} is blank; give one class name per line", path.display(), line + 1)));
    }
    Ok(names)
}
