// Inner products of the llvmpipe subgroup entries (matmul.wgsl / rmsnorm.wgsl `gemm_sg`, dit_linear.wgsl
// `sgblock`, dit_attn_gemm.wgsl `scores_sg`): a chunk of one row, broadcast from the lane that loaded it,
// against the chunks of the lane's 4 own rows.

// 4 elements: r against b0..b3, one vec4 of partial outputs.
fn sg_dot4x4(r: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(dot(r, b0), dot(r, b1), dot(r, b2), dot(r, b3));
}

// 8 elements held as two vec4 halves (ra, rb) against decoded weight chunks (mat2x4: elements 0..3 and 4..7).

fn sg_dot8(ra: vec4<f32>, rb: vec4<f32>, wv: mat2x4<f32>) -> f32 {
  return dot(ra, wv[0]) + dot(rb, wv[1]);
}

// The chunk against the lane's 4 weight rows: one vec4 of partial outputs.
fn sg_dot8x4(ra: vec4<f32>, rb: vec4<f32>, w0: mat2x4<f32>, w1: mat2x4<f32>, w2: mat2x4<f32>, w3: mat2x4<f32>) -> vec4<f32> {
  return vec4<f32>(sg_dot8(ra, rb, w0), sg_dot8(ra, rb, w1), sg_dot8(ra, rb, w2), sg_dot8(ra, rb, w3));
}
