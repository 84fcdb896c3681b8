/**
 * Numeric comparison with a report that says how far off a result is and where: max abs error, max rel error,
 * rel-L2 (‖a−b‖₂ / ‖b‖₂), and the first mismatching flat indices with both values.
 */
export interface CompareReport {
  n: number;
  maxAbs: number;
  maxAbsIndex: number;
  relL2: number;
  mismatches: { index: number; actual: number; expected: number }[];
  nonFinite: number;
}

type NumArray = ArrayLike<number>;

/** The first index where a and b differ in bits (NaN-safe, −0 ≠ +0), or −1; the shorter length when they differ in length. */
export function firstBitDiff(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

/** Throws, naming `what` and the first differing index and values, unless a and b are the same bits. */
export function expectSameBits(a: Float32Array, b: Float32Array, what: string): void {
  const i = firstBitDiff(a, b);
  if (i >= 0) throw new Error(`${what}: ${a.length !== b.length ? `lengths ${a.length} vs ${b.length}` : `first differing value [${i}] ${a[i]} vs ${b[i]}`}`);
}

export function compareArrays(actual: NumArray, expected: NumArray, atol = 0, rtol = 0, maxReport = 8): CompareReport {
  if (actual.length !== expected.length) {
    throw new Error(`length mismatch: actual ${actual.length}, expected ${expected.length}`);
  }
  let maxAbs = 0;
  let maxAbsIndex = -1;
  let diff2 = 0;
  let ref2 = 0;
  let nonFinite = 0;
  const mismatches: CompareReport['mismatches'] = [];
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(a) && Number.isFinite(e)) nonFinite++;
    const d = Math.abs(a - e);
    diff2 += d * d;
    ref2 += e * e;
    if (!(d <= maxAbs)) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      maxAbsIndex = i;
    }
    if (!(d <= atol + rtol * Math.abs(e)) && mismatches.length < maxReport) {
      mismatches.push({ index: i, actual: a, expected: e });
    }
  }
  const relL2 = ref2 > 0 ? Math.sqrt(diff2 / ref2) : Math.sqrt(diff2);
  return { n: actual.length, maxAbs, maxAbsIndex, relL2: Number.isNaN(relL2) ? Infinity : relL2, mismatches, nonFinite };
}

export function formatReport(label: string, r: CompareReport): string {
  const head = `${label}: n=${r.n} max_abs=${r.maxAbs.toExponential(3)} (at ${r.maxAbsIndex}) rel_l2=${r.relL2.toExponential(3)}`;
  if (r.mismatches.length === 0 && r.nonFinite === 0) return head;
  const list = r.mismatches.map((m) => `[${m.index}] got ${m.actual} want ${m.expected}`).join('; ');
  return `${head}${r.nonFinite ? ` non_finite=${r.nonFinite}` : ''}\n  first mismatches: ${list}`;
}

export interface CloseOptions {
  /** Element-wise bound: |a−e| ≤ atol + rtol·|e| for every element. */
  atol?: number;
  rtol?: number;
  /** Whole-tensor bound on ‖a−e‖₂/‖e‖₂. */
  relL2?: number;
  label?: string;
}

/**
 * Throws with the full report when `actual` is not close to `expected`. Pass element-wise bounds, a rel-L2
 * bound, or both; with neither, exact equality is required.
 */
export function expectClose(actual: NumArray, expected: NumArray, opts: CloseOptions = {}): CompareReport {
  const elementwise = opts.atol !== undefined || opts.rtol !== undefined || opts.relL2 === undefined;
  const r = compareArrays(actual, expected, opts.atol ?? 0, opts.rtol ?? 0);
  const label = opts.label ?? 'tensor';
  const failElem = elementwise && r.mismatches.length > 0;
  const failL2 = opts.relL2 !== undefined && !(r.relL2 <= opts.relL2);
  if (failElem || failL2 || r.nonFinite > 0) {
    const bounds = `atol=${opts.atol ?? 0} rtol=${opts.rtol ?? 0}${opts.relL2 !== undefined ? ` relL2<=${opts.relL2}` : ''}`;
    throw new Error(`${formatReport(label, r)}\n  bounds: ${bounds}`);
  }
  return r;
}
