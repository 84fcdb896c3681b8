// Eight f16 values packed two a word (low half first) as f32, by unpack2x16float so that no `shader-f16` is
// needed: the decode the f16 weight paths share (included, not a kernel family of its own).
fn half8(q: vec4<u32>) -> mat2x4<f32> {
  return mat2x4<f32>(vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)), vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)));
}
