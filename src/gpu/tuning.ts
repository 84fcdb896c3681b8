/**
 * Measured kernel choices for one adapter: the tile or form each tunable kernel takes at a given shape, found by
 * timing the candidates on that adapter (src/tune/tuner.ts, `cosyvoice-webgpu tune`) instead of from the defaults
 * one card's measurements set. A kernel wrapper consults `ctx.tuning` only where its caller names no form; while
 * `ctx.tunePoints` is set it also reports each such decision (a TunePoint: the candidates, and how to build the
 * op with each), which is how the tuner finds the decisions a model's plan takes.
 *
 * File format (JSON): { format: "cosyvoice-webgpu-tuning", version: 1, adapter: "<adapterLabel>", entries: [
 *   { key: "<family>:<shape>", choice: {…}, us: <µs of the choice>, tried: [{ name, us | null, note? }] } ] }.
 * A table is tied to the adapter that measured it: loading one from another adapter is refused.
 */
import type { GpuContext } from './context.js';
import { adapterLabel } from './device.js';
import type { DispatchRecord } from './dispatch.js';
import { GpuError } from './errors.js';
import type { GpuTensor } from './tensor.js';

/** A kernel's tunable options at one decision: tile sizes, entry or form names. */
export type TuneChoice = Readonly<Record<string, number | string | boolean>>;

/** What the tuner measured for one candidate: GPU µs, or null with a note (it threw, or its output disagreed). */
export interface TuneTrial {
  name: string;
  us: number | null;
  note?: string;
}

export interface TuneEntry {
  choice: TuneChoice;
  us: number;
  tried: TuneTrial[];
}

export type TuneShape = readonly (number | string | boolean)[];

/** A decision a wrapper took from its defaults, as the tuner needs it. */
export interface TunePoint {
  family: string;
  shape: TuneShape;
  /** The candidates; the first is what the wrapper chose without a table (the reference output). */
  candidates: readonly { name: string; choice: TuneChoice }[];
  /** The op's records with `choice` forced. */
  build: (choice: TuneChoice) => DispatchRecord[];
  /** Every tensor the op writes: saved before and restored after each trial (some ops update in place). */
  writes: readonly GpuTensor[];
  /** The tensor the candidates must agree on. */
  out: GpuTensor;
  /** The op's tag in the model's plan, for logs. */
  tag: string;
}

/** A tuning file that cannot be used: unreadable, malformed, or measured on another adapter. */
export class TuningFileError extends GpuError {}

export const TUNING_FORMAT = 'cosyvoice-webgpu-tuning';

export class TuningTable {
  private readonly entries = new Map<string, TuneEntry>();

  /** The file it was read from, for errors (TuningTable.parse sets it). */
  source = 'tuning table';

  constructor(readonly adapter: string) {}

  static forContext(ctx: GpuContext): TuningTable {
    return new TuningTable(adapterLabel(ctx.handle.info));
  }

  static key(family: string, shape: TuneShape): string {
    return `${family}:${shape.join('x')}`;
  }

  get size(): number {
    return this.entries.size;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  get(family: string, shape: TuneShape): TuneChoice | undefined {
    return this.entries.get(TuningTable.key(family, shape))?.choice;
  }

  entry(key: string): TuneEntry | undefined {
    return this.entries.get(key);
  }

  set(family: string, shape: TuneShape, e: TuneEntry): void {
    this.entries.set(TuningTable.key(family, shape), e);
  }

  /** Adds `other`'s entries (measured on the same adapter), replacing those with the same key. */
  merge(other: TuningTable): this {
    if (other.adapter !== this.adapter) throw new TuningFileError(`${other.source} was measured on "${other.adapter}", not on "${this.adapter}": cannot merge`);
    for (const [k, e] of other.entries) this.entries.set(k, e);
    return this;
  }

  toJSON(): object {
    // (source is where this copy came from, not part of the table)
    return { format: TUNING_FORMAT, version: 1, adapter: this.adapter, entries: [...this.entries].map(([key, e]) => ({ key, ...e })) };
  }

  /** Parses a tuning file's text; `source` names it in errors. */
  static parse(text: string, source: string): TuningTable {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new TuningFileError(`${source}: not JSON (${(e as Error).message})`);
    }
    const o = j as { format?: unknown; version?: unknown; adapter?: unknown; entries?: unknown };
    if (!o || typeof o !== 'object' || o.format !== TUNING_FORMAT) throw new TuningFileError(`${source}: not a ${TUNING_FORMAT} file (format field ${JSON.stringify(o?.format)})`);
    if (o.version !== 1) throw new TuningFileError(`${source}: version ${JSON.stringify(o.version)} (this runtime reads version 1)`);
    if (typeof o.adapter !== 'string' || !Array.isArray(o.entries)) throw new TuningFileError(`${source}: needs a string "adapter" and an "entries" array`);
    const t = new TuningTable(o.adapter);
    t.source = source;
    o.entries.forEach((e: unknown, i: number) => {
      const r = e as { key?: unknown; choice?: unknown; us?: unknown; tried?: unknown };
      const scalar = (v: unknown) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
      if (!r || typeof r.key !== 'string' || !/^[\w-]+:/.test(r.key) || typeof r.us !== 'number' || !r.choice || typeof r.choice !== 'object' || !Object.values(r.choice).every(scalar)) {
        throw new TuningFileError(`${source}: entry ${i} needs a "family:shape" key, a choice of numbers / strings / booleans and a number "us"`);
      }
      t.entries.set(r.key, { choice: r.choice as TuneChoice, us: r.us, tried: Array.isArray(r.tried) ? (r.tried as TuneTrial[]) : [] });
    });
    return t;
  }
}

/** Puts `table` on `ctx` (null clears it); a table measured on another adapter is refused. */
export function useTuning(ctx: GpuContext, table: TuningTable | null, source = table?.source): void {
  const here = adapterLabel(ctx.handle.info);
  if (table && table.adapter !== here) {
    throw new TuningFileError(`${source} was measured on "${table.adapter}", not on this adapter ("${here}"): run \`cosyvoice-webgpu tune\` here`);
  }
  ctx.tuning = table;
}

/**
 * The measured choice for this decision, if the context's table holds one, and the decision reported to a tuner
 * collecting them. `point` is built only when a tuner collects.
 */
export function tunedChoice(ctx: GpuContext, family: string, shape: TuneShape, point: () => Omit<TunePoint, 'family' | 'shape'>): TuneChoice | undefined {
  if (ctx.tunePoints) ctx.tunePoints.push({ family, shape, ...point() });
  return ctx.tuning?.get(family, shape);
}

/** Rows bucketed to the next power of two (at least 8): plans for 300 and 500 rows share one tuned choice. */
export function rowBucket(rows: number): number {
  return Math.max(8, 2 ** Math.ceil(Math.log2(Math.max(1, rows))));
}
