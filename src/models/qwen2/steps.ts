/**
 * One LLM runtime shared by several sequences at once (concurrent syntheses on one pipeline), with their decode
 * steps batched.
 *
 * A Qwen2Runtime step leaves its results in the runtime's scratch: the top-k candidates come back through one
 * staging buffer, and the full logits stay in `scratch.logits` until the next step, for the samplers that need them
 * (RAS falls back to them when the top k are not enough). Two sequences stepping the runtime on their own would
 * map that staging buffer twice (Dawn rejects the second mapAsync with an OperationError) and read each other's
 * logits. So every step goes through this queue: it runs, and each caller's `then` reads its result, before the
 * next step is submitted.
 *
 * Decode steps of different sequences that wait together run as ONE step (Qwen2Runtime.decodeBatch, up to
 * maxBatch rows): the projections read each weight once for all of them, which is most of a decode step's cost,
 * and the step is one submit and one readback whoever asked. When more sequences are live than have asked, the
 * queue first gives the others one turn of the event loop to ask (their consumers run between steps); a single
 * stream never waits. A prefill runs alone; with `prefillChunk`, a prompt longer than it runs in parts of that
 * many rows (Qwen2Runtime.prefillPart, no readback), and the decode steps waiting meanwhile run between the parts,
 * so a new request holds the running streams for one part at a time, not its whole prompt. The parts are the same
 * with or without other streams, so a sequence's numbers do not depend on what else runs.
 */
import { nextTurn } from '../../event-loop.js';
import type { KvSequence } from './paged-kv.js';
import type { Qwen2Runtime, StepResult } from './forward.js';
import { concatRows } from './weights.js';

/** What a step's caller does with the result while it is still in scratch: `logits()` reads its logits row. */
export type StepThen<T> = (result: StepResult, logits: () => Promise<Float32Array>) => T | Promise<T>;

interface Job {
  seq: KvSequence;
  rows: Float32Array;
  decode: boolean;
  /** Prefill rows already fed (parts of prefillChunk rows). */
  fed: number;
  then: StepThen<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface LlmStepsOptions {
  /** Batch waiting decode steps of different sequences (default true; false: one sequence a step). */
  batch?: boolean;
  /**
   * Most prompt rows one step feeds (default: the runtime's maxPrefill, as Qwen2Runtime.prefill parts them): a
   * longer prompt is fed in parts, with other sequences' waiting decode steps between them.
   */
  prefillChunk?: number;
}

/** Steps run and rows they decoded, since construction (benches and tests read them). */
export interface LlmStepCounts {
  steps: number;
  prefills: number;
  /** Decode rows over all steps: decodeRows / (steps − prefills) is the mean batch. */
  decodeRows: number;
  /** Prefill parts fed before a prompt's last part (prefillChunk), each a step of its own (not in `steps`). */
  prefillParts: number;
}

export class LlmSteps {
  private readonly queue: Job[] = [];
  private pumping = false;
  private readonly slotWaiters: ((seq: KvSequence) => void)[] = [];
  readonly batch: boolean;
  readonly counts: LlmStepCounts = { steps: 0, prefills: 0, decodeRows: 0, prefillParts: 0 };
  readonly prefillChunk: number;

  constructor(
    private readonly rt: Qwen2Runtime,
    opts: LlmStepsOptions = {},
  ) {
    this.batch = (opts.batch ?? true) && rt.maxBatch > 1;
    this.prefillChunk = opts.prefillChunk ?? rt.scratch.maxRows;
    if (!(Number.isInteger(this.prefillChunk) && this.prefillChunk >= 1 && this.prefillChunk <= rt.scratch.maxRows)) {
      throw new RangeError(`prefillChunk ${opts.prefillChunk}: a whole number of rows in [1, ${rt.scratch.maxRows}] (maxPrefill)`);
    }
  }

  /**
   * A new sequence of the runtime's KV cache; when all its slots (kv.maxSeqs) are in use, waits for one that
   * `close` frees, in order of asking.
   */
  async open(): Promise<KvSequence> {
    const { kv } = this.rt;
    if (kv.liveSequences < kv.opts.maxSeqs && !this.slotWaiters.length) return this.rt.createSequence();
    return new Promise<KvSequence>((r) => this.slotWaiters.push(r));
  }

  /** Frees a sequence from `open`; the next waiting `open` gets a sequence in its slot. */
  close(seq: KvSequence): void {
    this.rt.free(seq);
    this.slotWaiters.shift()?.(this.rt.createSequence());
  }

  /** Feeds `rows` [M, d] after the sequence's cached positions (rt.prefill), then runs `then` on the last row. */
  prefill<T>(seq: KvSequence, rows: Float32Array, then: StepThen<T>): Promise<T> {
    return this.ask(seq, rows, false, then);
  }

  /** One decode step of one row [d] (rt.decode, or a row of rt.decodeBatch), then `then` on its result. */
  decode<T>(seq: KvSequence, row: Float32Array, then: StepThen<T>): Promise<T> {
    return this.ask(seq, row, true, then);
  }

  /** One row goes through decode, more through prefill. */
  feed<T>(seq: KvSequence, rows: Float32Array, then: StepThen<T>): Promise<T> {
    return rows.length === this.rt.cfg.hidden ? this.decode(seq, rows, then) : this.prefill(seq, rows, then);
  }

  private ask<T>(seq: KvSequence, rows: Float32Array, decode: boolean, then: StepThen<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ seq, rows, decode, fed: 0, then, resolve: resolve as (v: unknown) => void, reject });
      if (!this.pumping) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length) {
        if (this.batch && this.queue[0].decode && this.waitingDecodes() < Math.min(this.rt.kv.liveSequences, this.rt.maxBatch)) await nextTurn();
        await this.run(this.take());
      }
    } finally {
      this.pumping = false;
    }
  }

  private waitingDecodes(): number {
    return this.queue.filter((j) => j.decode).length;
  }

  /** The next step's jobs: the first prefill alone, or up to maxBatch decodes of distinct sequences. */
  private take(): Job[] {
    if (!this.queue[0].decode || !this.batch) return [this.queue.shift()!];
    const jobs: Job[] = [];
    for (let i = 0; i < this.queue.length && jobs.length < this.rt.maxBatch; ) {
      const j = this.queue[i];
      if (j.decode && !jobs.some((k) => k.seq === j.seq)) jobs.push(...this.queue.splice(i, 1));
      else i++;
    }
    return jobs;
  }

  private async run(jobs: Job[]): Promise<void> {
    const { rt } = this;
    let results: StepResult[];
    try {
      if (!jobs[0].decode) {
        const j = jobs[0], d = rt.cfg.hidden;
        const left = j.rows.length / d - j.fed;
        if (left > this.prefillChunk) {
          // A part, then back in the queue behind the decode steps waiting now (before any later prefill).
          rt.prefillPart(j.seq, j.rows.subarray(j.fed * d, (j.fed + this.prefillChunk) * d));
          j.fed += this.prefillChunk;
          this.counts.prefillParts++;
          const at = this.queue.findIndex((q) => !q.decode);
          this.queue.splice(at < 0 ? this.queue.length : at, 0, j);
          return;
        }
        results = [await rt.prefill(j.seq, j.rows.subarray(j.fed * d))];
      }
      else if (jobs.length === 1) results = [await rt.decode(jobs[0].seq, jobs[0].rows)];
      else results = await rt.decodeBatch(jobs.map((j) => j.seq), concatRows(jobs.map((j) => j.rows)));
    } catch (e) {
      // A batch fails as a whole (e.g. one sequence at maxContext): run each alone, so only the faulty one fails.
      if (jobs.length > 1) {
        for (const j of jobs) await this.run([j]);
        return;
      }
      jobs[0].reject(e);
      return;
    }
    this.counts.steps++;
    if (jobs[0].decode) this.counts.decodeRows += jobs.length;
    else this.counts.prefills++;
    let logits: Promise<Float32Array> | undefined;
    const V = rt.cfg.speechVocab;
    for (const [i, j] of jobs.entries()) {
      const row = async () => {
        logits ??= rt.readLogits();
        return (await logits).subarray(i * V, (i + 1) * V); // [rows of this step, V]
      };
      try {
        j.resolve(await j.then(results[i], row));
      } catch (e) {
        j.reject(e);
      }
    }
  }
}
