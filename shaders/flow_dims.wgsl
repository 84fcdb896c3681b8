// Per-call lengths shared by every flow/DiT kernel (included, not a kernel family of its own).
//
// The model writes this one uniform before each call (frames T of the current sequence, batch B, rows M = B·T,
// static attention chunk in frames, 0 = full attention); kernels are planned once for the maximum length and read
// the live length from here, so a new length costs one 16-byte write instead of new bind groups.
struct Dims {
  T: u32,
  B: u32,
  M: u32,
  chunk: u32,
}
