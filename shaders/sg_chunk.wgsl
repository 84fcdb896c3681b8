// Inner products of the llvmpipe subgroup GEMM entries (matmul.wgsl and rmsnorm.wgsl `gemm_sg`): one 8-element
// chunk of an x row, held as two vec4 halves (ra, rb) broadcast from the lane that loaded it, against decoded
// weight chunks (mat2x4: elements 0..3 and 4..7).

fn sg_dot8(ra: vec4<f32>, rb: vec4<f32>, wv: mat2x4<f32>) -> f32 {
  return dot(ra, wv[0]) + dot(rb, wv[1]);
}

// The chunk against the lane's 4 weight rows: one vec4 of partial outputs.
fn sg_dot8x4(ra: vec4<f32>, rb: vec4<f32>, w0: mat2x4<f32>, w1: mat2x4<f32>, w2: mat2x4<f32>, w3: mat2x4<f32>) -> vec4<f32> {
  return vec4<f32>(sg_dot8(ra, rb, w0), sg_dot8(ra, rb, w1), sg_dot8(ra, rb, w2), sg_dot8(ra, rb, w3));
}
