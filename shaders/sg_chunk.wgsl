// Inner products of the llvmpipe subgroup entries (matmul.wgsl / rmsnorm.wgsl `gemm_sg` and `gemm_sg32`, dit_linear.wgsl
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

// 32 rows against the lane's 4 weight rows, added to acc: row 8g + s is lane s's chunk xg (g < 4), broadcast to
// every lane (the gemm_sg32 entries of matmul.wgsl and rmsnorm.wgsl). Broadcast lanes must be constant
// expressions, hence the unrolled body; the accumulators stay indexed by literals.
fn sg_rows32_dot8x4(acc: ptr<function, array<vec4<f32>, 32>>, x0: mat2x4<f32>, x1: mat2x4<f32>, x2: mat2x4<f32>, x3: mat2x4<f32>,
                    w0: mat2x4<f32>, w1: mat2x4<f32>, w2: mat2x4<f32>, w3: mat2x4<f32>) {
  (*acc)[0] += sg_dot8x4(subgroupBroadcast(x0[0], 0u), subgroupBroadcast(x0[1], 0u), w0, w1, w2, w3);
  (*acc)[1] += sg_dot8x4(subgroupBroadcast(x0[0], 1u), subgroupBroadcast(x0[1], 1u), w0, w1, w2, w3);
  (*acc)[2] += sg_dot8x4(subgroupBroadcast(x0[0], 2u), subgroupBroadcast(x0[1], 2u), w0, w1, w2, w3);
  (*acc)[3] += sg_dot8x4(subgroupBroadcast(x0[0], 3u), subgroupBroadcast(x0[1], 3u), w0, w1, w2, w3);
  (*acc)[4] += sg_dot8x4(subgroupBroadcast(x0[0], 4u), subgroupBroadcast(x0[1], 4u), w0, w1, w2, w3);
  (*acc)[5] += sg_dot8x4(subgroupBroadcast(x0[0], 5u), subgroupBroadcast(x0[1], 5u), w0, w1, w2, w3);
  (*acc)[6] += sg_dot8x4(subgroupBroadcast(x0[0], 6u), subgroupBroadcast(x0[1], 6u), w0, w1, w2, w3);
  (*acc)[7] += sg_dot8x4(subgroupBroadcast(x0[0], 7u), subgroupBroadcast(x0[1], 7u), w0, w1, w2, w3);
  (*acc)[8] += sg_dot8x4(subgroupBroadcast(x1[0], 0u), subgroupBroadcast(x1[1], 0u), w0, w1, w2, w3);
  (*acc)[9] += sg_dot8x4(subgroupBroadcast(x1[0], 1u), subgroupBroadcast(x1[1], 1u), w0, w1, w2, w3);
  (*acc)[10] += sg_dot8x4(subgroupBroadcast(x1[0], 2u), subgroupBroadcast(x1[1], 2u), w0, w1, w2, w3);
  (*acc)[11] += sg_dot8x4(subgroupBroadcast(x1[0], 3u), subgroupBroadcast(x1[1], 3u), w0, w1, w2, w3);
  (*acc)[12] += sg_dot8x4(subgroupBroadcast(x1[0], 4u), subgroupBroadcast(x1[1], 4u), w0, w1, w2, w3);
  (*acc)[13] += sg_dot8x4(subgroupBroadcast(x1[0], 5u), subgroupBroadcast(x1[1], 5u), w0, w1, w2, w3);
  (*acc)[14] += sg_dot8x4(subgroupBroadcast(x1[0], 6u), subgroupBroadcast(x1[1], 6u), w0, w1, w2, w3);
  (*acc)[15] += sg_dot8x4(subgroupBroadcast(x1[0], 7u), subgroupBroadcast(x1[1], 7u), w0, w1, w2, w3);
  (*acc)[16] += sg_dot8x4(subgroupBroadcast(x2[0], 0u), subgroupBroadcast(x2[1], 0u), w0, w1, w2, w3);
  (*acc)[17] += sg_dot8x4(subgroupBroadcast(x2[0], 1u), subgroupBroadcast(x2[1], 1u), w0, w1, w2, w3);
  (*acc)[18] += sg_dot8x4(subgroupBroadcast(x2[0], 2u), subgroupBroadcast(x2[1], 2u), w0, w1, w2, w3);
  (*acc)[19] += sg_dot8x4(subgroupBroadcast(x2[0], 3u), subgroupBroadcast(x2[1], 3u), w0, w1, w2, w3);
  (*acc)[20] += sg_dot8x4(subgroupBroadcast(x2[0], 4u), subgroupBroadcast(x2[1], 4u), w0, w1, w2, w3);
  (*acc)[21] += sg_dot8x4(subgroupBroadcast(x2[0], 5u), subgroupBroadcast(x2[1], 5u), w0, w1, w2, w3);
  (*acc)[22] += sg_dot8x4(subgroupBroadcast(x2[0], 6u), subgroupBroadcast(x2[1], 6u), w0, w1, w2, w3);
  (*acc)[23] += sg_dot8x4(subgroupBroadcast(x2[0], 7u), subgroupBroadcast(x2[1], 7u), w0, w1, w2, w3);
  (*acc)[24] += sg_dot8x4(subgroupBroadcast(x3[0], 0u), subgroupBroadcast(x3[1], 0u), w0, w1, w2, w3);
  (*acc)[25] += sg_dot8x4(subgroupBroadcast(x3[0], 1u), subgroupBroadcast(x3[1], 1u), w0, w1, w2, w3);
  (*acc)[26] += sg_dot8x4(subgroupBroadcast(x3[0], 2u), subgroupBroadcast(x3[1], 2u), w0, w1, w2, w3);
  (*acc)[27] += sg_dot8x4(subgroupBroadcast(x3[0], 3u), subgroupBroadcast(x3[1], 3u), w0, w1, w2, w3);
  (*acc)[28] += sg_dot8x4(subgroupBroadcast(x3[0], 4u), subgroupBroadcast(x3[1], 4u), w0, w1, w2, w3);
  (*acc)[29] += sg_dot8x4(subgroupBroadcast(x3[0], 5u), subgroupBroadcast(x3[1], 5u), w0, w1, w2, w3);
  (*acc)[30] += sg_dot8x4(subgroupBroadcast(x3[0], 6u), subgroupBroadcast(x3[1], 6u), w0, w1, w2, w3);
  (*acc)[31] += sg_dot8x4(subgroupBroadcast(x3[0], 7u), subgroupBroadcast(x3[1], 7u), w0, w1, w2, w3);
}
