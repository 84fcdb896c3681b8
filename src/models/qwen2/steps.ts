/**
 * One LLM runtime shared by several sequences at once (concurrent syntheses on one pipeline).
 *
 * A Qwen2Runtime step leaves its results in the runtime's scratch: the top-k candidates come back through one
 * staging buffer, and the full logits stay in `scratch.logits` until the next step, for the samplers that need them
 * (RAS falls back to them when the top k are not enough). Two sequences stepping the runtime independently would
 * map that staging buffer twice (Dawn rejects the second mapAsync with an OperationError) and read each other's
 * logits. So every step goes through this queue: it runs, and its caller's `then` reads its result, before the
 * next step is submitted. Steps run in the order they were asked for.
 */
import type { KvSequence } from './paged-kv.js';
import type { Qwen2Runtime, StepResult } from './forward.js';

/** What a step's caller does with the result while it is still in scratch: `logits()` reads its logits row. */
export type StepThen<T> = (result: StepResult, logits: () => Promise<Float32Array>) => T | Promise<T>;

export class LlmSteps {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly rt: Qwen2Runtime) {}

  /** Feeds `rows` [M, d] after the sequence's cached positions (rt.prefill), then runs `then` on the last row. */
  prefill<T>(seq: KvSequence, rows: Float32Array, then: StepThen<T>): Promise<T> {
    return this.exclusive(async () => then(await this.rt.prefill(seq, rows), () => this.rt.readLogits()));
  }

  /** One decode step of one row [d] (rt.decode), then `then` on its result. */
  decode<T>(seq: KvSequence, row: Float32Array, then: StepThen<T>): Promise<T> {
    return this.exclusive(async () => then(await this.rt.decode(seq, row), () => this.rt.readLogits()));
  }

  /** One row goes through decode, more through prefill. */
  feed<T>(seq: KvSequence, rows: Float32Array, then: StepThen<T>): Promise<T> {
    return rows.length === this.rt.cfg.hidden ? this.decode(seq, rows, then) : this.prefill(seq, rows, then);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
