// Per-call lengths shared by every flow/DiT kernel (included, not a kernel family of its own).
//
// The model writes this one uniform before each call (frames T of the current sequence, batch B, rows M = B·T,
// static attention chunk in frames, 0 = full attention); kernels are planned once for the maximum length and read
// the live length from here, so a new length costs one 32-byte write instead of new bind groups.
// The DiT prefix cache (src/models/flow/prefix-cache.ts) runs a call's rows as sub-ranges of the whole sequence:
// q0 = absolute frame of live row 0, full = frames of the whole sequence (the stride of [C, full] tensors),
// lead = rows before those kept, keep = end of the frames stored into the cache. A whole-sequence call has
// q0 = 0, full = T, lead = 0, keep = 0.
struct Dims {
  T: u32,
  B: u32,
  M: u32,
  chunk: u32,
  q0: u32,
  full: u32,
  lead: u32,
  keep: u32,
}

// Index of a 256-thread workgroup's thread in a 1-D grid split over x/y (kernels/flow-dims.ts flatGrid).
fn flat_gid(wid: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * 65535u) * 256u + lid;
}
