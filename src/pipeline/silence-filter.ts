/**
 * Upstream's silent-token filter (cli/model.py llm_job, spec §3.6): after `maxRun` consecutive silent tokens,
 * further consecutive silent tokens are not forwarded to the flow. The LLM still consumes them (its KV cache and
 * repetition window are unaffected); the run counter resets on any other token.
 */
export const COSYVOICE3_SILENT_TOKENS: ReadonlySet<number> = new Set([1, 2, 28, 29, 55, 248, 494, 2241, 2242, 2322, 2323]);

export class SilenceFilter {
  private run = 0;
  constructor(
    private readonly silent: ReadonlySet<number> = COSYVOICE3_SILENT_TOKENS,
    private readonly maxRun = 5,
  ) {}

  /** Whether `token` goes on to the flow. */
  accept(token: number): boolean {
    if (!this.silent.has(token)) {
      this.run = 0;
      return true;
    }
    this.run++;
    return this.run <= this.maxRun;
  }
}
