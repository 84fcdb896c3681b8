// The uniform of the paged attention entries (shaders/paged_attention.wgsl, shaders/paged_attention_sg.wgsl),
// packed by kernels/paged-attention.ts: M query rows, Hq / Hkv heads, the pool's page size, the block table's row
// length, the softmax scale, the threads per grid row of the 1-D grids (flattened over x/y), and the key splits
// of paged_flash.wgsl FL_SPLIT.
struct Params {
  M: u32,
  Hq: u32,
  Hkv: u32,
  pageSize: u32,
  maxPages: u32,
  scale: f32,
  rowStride: u32,
  splits: u32,
}
