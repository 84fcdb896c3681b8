// The LLM's per-step uniform, rewritten before every prefill/decode submit (src/models/qwen2/forward.ts):
// `start` = position of the step's first row (the sequence length so far), `slot` = the sequence's row in the
// block table. Shared by the K/V append and the paged attention so both read the same layout.
struct Step {
  start: u32,
  slot: u32,
  _s0: u32,
  _s1: u32,
}
