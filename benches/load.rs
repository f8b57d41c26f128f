//! Load benchmark of `catup dev`'s local Function URL (being written).
fn main() {}
