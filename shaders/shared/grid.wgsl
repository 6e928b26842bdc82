// Image-grid kernels (16×16 tiles over x, y; images along z): their params
// struct has `width`, `height` and `images` members.
fn outside(gid: vec3<u32>) -> bool {
    return gid.x >= params.width || gid.y >= params.height || gid.z >= params.images;
}
