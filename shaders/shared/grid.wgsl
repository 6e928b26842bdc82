// Image-grid kernels (16×16 tiles over x, y; images along z) keep width,
// height and image count first in their params.
fn outside(gid: vec3<u32>) -> bool {
    return gid.x >= params[0] || gid.y >= params[1] || gid.z >= params[2];
}
