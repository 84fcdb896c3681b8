/**
 * MT19937 (32-bit Mersenne Twister), the engine behind PyTorch's CPU generator (`at::mt19937`).
 *
 * Seeding is the standard `init_genrand` recurrence on the low 32 bits of the seed, which is what
 * `torch.manual_seed(seed)` does for the default CPU generator (seeds ≥ 2^32 keep only their low word).
 * Output is the standard tempered 32-bit stream, identical to C++ `std::mt19937`.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed: number | bigint = 5489) {
    this.seed(seed);
  }

  /** Re-initialises the state from the low 32 bits of `seed`. */
  seed(seed: number | bigint): void {
    const s = this.state;
    s[0] = typeof seed === 'bigint' ? Number(seed & 0xffffffffn) : seed >>> 0;
    for (let j = 1; j < N; j++) {
      const prev = s[j - 1] ^ (s[j - 1] >>> 30);
      // 1812433253 * prev + j, modulo 2^32 (Math.imul keeps the low 32 bits exactly).
      s[j] = (Math.imul(1812433253, prev) + j) >>> 0;
    }
    this.index = N;
  }

  /** Regenerates all 624 words at once (the classic "twist"). */
  private twist(): void {
    const s = this.state;
    let k = 0;
    for (; k < N - M; k++) {
      const y = (s[k] & UPPER) | (s[k + 1] & LOWER);
      s[k] = s[k + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; k < N - 1; k++) {
      const y = (s[k] & UPPER) | (s[k + 1] & LOWER);
      s[k] = s[k + M - N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (s[N - 1] & UPPER) | (s[0] & LOWER);
    s[N - 1] = s[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.index = 0;
  }

  /** Next tempered 32-bit output as an unsigned number in [0, 2^32). */
  nextU32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Snapshot of the engine (state words + position), e.g. to fork a generator. */
  getState(): { state: Uint32Array; index: number } {
    return { state: this.state.slice(), index: this.index };
  }

  setState(st: { state: Uint32Array; index: number }): void {
    if (st.state.length !== N || st.index < 0 || st.index > N) {
      throw new RangeError(`Mt19937.setState: expected ${N} state words and index in [0, ${N}]`);
    }
    this.state.set(st.state);
    this.index = st.index;
  }
}
