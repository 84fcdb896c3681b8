// Inner products of the llvmpipe subgroup entries (matmul.wgsl / rmsnorm.wgsl `gemm_sg` and `gemm_sg32`, dit_linear.wgsl
// `sgblock` and `sgblock32`, dit_attn_gemm.wgsl `scores_sg`, `scores_sg32` and `pv_sg32`): a chunk of one row, broadcast from the lane that loaded it,
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

// 32 rows of vec4 chunks against the lane's 4 rows b0..b3, added to acc: row 8g + s is lane s's chunk xg (g < 4),
// broadcast to every lane (dit_linear.wgsl `sgblock32`, dit_attn_gemm.wgsl `scores_sg32`).
fn sg_rows32_dot4x4(acc: ptr<function, array<vec4<f32>, 32>>, x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>,
                    b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) {
  (*acc)[0] += sg_dot4x4(subgroupBroadcast(x0, 0u), b0, b1, b2, b3);
  (*acc)[1] += sg_dot4x4(subgroupBroadcast(x0, 1u), b0, b1, b2, b3);
  (*acc)[2] += sg_dot4x4(subgroupBroadcast(x0, 2u), b0, b1, b2, b3);
  (*acc)[3] += sg_dot4x4(subgroupBroadcast(x0, 3u), b0, b1, b2, b3);
  (*acc)[4] += sg_dot4x4(subgroupBroadcast(x0, 4u), b0, b1, b2, b3);
  (*acc)[5] += sg_dot4x4(subgroupBroadcast(x0, 5u), b0, b1, b2, b3);
  (*acc)[6] += sg_dot4x4(subgroupBroadcast(x0, 6u), b0, b1, b2, b3);
  (*acc)[7] += sg_dot4x4(subgroupBroadcast(x0, 7u), b0, b1, b2, b3);
  (*acc)[8] += sg_dot4x4(subgroupBroadcast(x1, 0u), b0, b1, b2, b3);
  (*acc)[9] += sg_dot4x4(subgroupBroadcast(x1, 1u), b0, b1, b2, b3);
  (*acc)[10] += sg_dot4x4(subgroupBroadcast(x1, 2u), b0, b1, b2, b3);
  (*acc)[11] += sg_dot4x4(subgroupBroadcast(x1, 3u), b0, b1, b2, b3);
  (*acc)[12] += sg_dot4x4(subgroupBroadcast(x1, 4u), b0, b1, b2, b3);
  (*acc)[13] += sg_dot4x4(subgroupBroadcast(x1, 5u), b0, b1, b2, b3);
  (*acc)[14] += sg_dot4x4(subgroupBroadcast(x1, 6u), b0, b1, b2, b3);
  (*acc)[15] += sg_dot4x4(subgroupBroadcast(x1, 7u), b0, b1, b2, b3);
  (*acc)[16] += sg_dot4x4(subgroupBroadcast(x2, 0u), b0, b1, b2, b3);
  (*acc)[17] += sg_dot4x4(subgroupBroadcast(x2, 1u), b0, b1, b2, b3);
  (*acc)[18] += sg_dot4x4(subgroupBroadcast(x2, 2u), b0, b1, b2, b3);
  (*acc)[19] += sg_dot4x4(subgroupBroadcast(x2, 3u), b0, b1, b2, b3);
  (*acc)[20] += sg_dot4x4(subgroupBroadcast(x2, 4u), b0, b1, b2, b3);
  (*acc)[21] += sg_dot4x4(subgroupBroadcast(x2, 5u), b0, b1, b2, b3);
  (*acc)[22] += sg_dot4x4(subgroupBroadcast(x2, 6u), b0, b1, b2, b3);
  (*acc)[23] += sg_dot4x4(subgroupBroadcast(x2, 7u), b0, b1, b2, b3);
  (*acc)[24] += sg_dot4x4(subgroupBroadcast(x3, 0u), b0, b1, b2, b3);
  (*acc)[25] += sg_dot4x4(subgroupBroadcast(x3, 1u), b0, b1, b2, b3);
  (*acc)[26] += sg_dot4x4(subgroupBroadcast(x3, 2u), b0, b1, b2, b3);
  (*acc)[27] += sg_dot4x4(subgroupBroadcast(x3, 3u), b0, b1, b2, b3);
  (*acc)[28] += sg_dot4x4(subgroupBroadcast(x3, 4u), b0, b1, b2, b3);
  (*acc)[29] += sg_dot4x4(subgroupBroadcast(x3, 5u), b0, b1, b2, b3);
  (*acc)[30] += sg_dot4x4(subgroupBroadcast(x3, 6u), b0, b1, b2, b3);
  (*acc)[31] += sg_dot4x4(subgroupBroadcast(x3, 7u), b0, b1, b2, b3);
}

// m · v as a sum of scaled columns (llvmpipe: cheaper than its matrix product).
fn sg_mat4_mul(m: mat4x4<f32>, v: vec4<f32>) -> vec4<f32> {
  return v.x * m[0] + v.y * m[1] + v.z * m[2] + v.w * m[3];
}

// 32 rows of 4 weights against the 4 vec4 columns of m, added to acc: acc[8g + s] += m · (lane s's xg) (g < 4),
// i.e. Σ_c xg[c]·m[c] (dit_attn_gemm.wgsl `pv_sg32`: P[i, j..j+3] against V rows j..j+3).
fn sg_rows32_mat4(acc: ptr<function, array<vec4<f32>, 32>>, x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>, m: mat4x4<f32>) {
  (*acc)[0] += sg_mat4_mul(m, subgroupBroadcast(x0, 0u));
  (*acc)[1] += sg_mat4_mul(m, subgroupBroadcast(x0, 1u));
  (*acc)[2] += sg_mat4_mul(m, subgroupBroadcast(x0, 2u));
  (*acc)[3] += sg_mat4_mul(m, subgroupBroadcast(x0, 3u));
  (*acc)[4] += sg_mat4_mul(m, subgroupBroadcast(x0, 4u));
  (*acc)[5] += sg_mat4_mul(m, subgroupBroadcast(x0, 5u));
  (*acc)[6] += sg_mat4_mul(m, subgroupBroadcast(x0, 6u));
  (*acc)[7] += sg_mat4_mul(m, subgroupBroadcast(x0, 7u));
  (*acc)[8] += sg_mat4_mul(m, subgroupBroadcast(x1, 0u));
  (*acc)[9] += sg_mat4_mul(m, subgroupBroadcast(x1, 1u));
  (*acc)[10] += sg_mat4_mul(m, subgroupBroadcast(x1, 2u));
  (*acc)[11] += sg_mat4_mul(m, subgroupBroadcast(x1, 3u));
  (*acc)[12] += sg_mat4_mul(m, subgroupBroadcast(x1, 4u));
  (*acc)[13] += sg_mat4_mul(m, subgroupBroadcast(x1, 5u));
  (*acc)[14] += sg_mat4_mul(m, subgroupBroadcast(x1, 6u));
  (*acc)[15] += sg_mat4_mul(m, subgroupBroadcast(x1, 7u));
  (*acc)[16] += sg_mat4_mul(m, subgroupBroadcast(x2, 0u));
  (*acc)[17] += sg_mat4_mul(m, subgroupBroadcast(x2, 1u));
  (*acc)[18] += sg_mat4_mul(m, subgroupBroadcast(x2, 2u));
  (*acc)[19] += sg_mat4_mul(m, subgroupBroadcast(x2, 3u));
  (*acc)[20] += sg_mat4_mul(m, subgroupBroadcast(x2, 4u));
  (*acc)[21] += sg_mat4_mul(m, subgroupBroadcast(x2, 5u));
  (*acc)[22] += sg_mat4_mul(m, subgroupBroadcast(x2, 6u));
  (*acc)[23] += sg_mat4_mul(m, subgroupBroadcast(x2, 7u));
  (*acc)[24] += sg_mat4_mul(m, subgroupBroadcast(x3, 0u));
  (*acc)[25] += sg_mat4_mul(m, subgroupBroadcast(x3, 1u));
  (*acc)[26] += sg_mat4_mul(m, subgroupBroadcast(x3, 2u));
  (*acc)[27] += sg_mat4_mul(m, subgroupBroadcast(x3, 3u));
  (*acc)[28] += sg_mat4_mul(m, subgroupBroadcast(x3, 4u));
  (*acc)[29] += sg_mat4_mul(m, subgroupBroadcast(x3, 5u));
  (*acc)[30] += sg_mat4_mul(m, subgroupBroadcast(x3, 6u));
  (*acc)[31] += sg_mat4_mul(m, subgroupBroadcast(x3, 7u));
}
