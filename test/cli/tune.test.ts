/**
 * `tune` writes a tuning table for this adapter (on lavapipe an empty one: the CPU-adapter forms have no tuned
 * choices) that `synth --tuning` accepts; a table from another adapter, a malformed one and a missing file are
 * refused by name, with no WAV written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { TuningTable } from '../../src/gpu/tuning.js';
import { defaultTuningPath } from '../../src/tune/file.js';

const dir = mkdtempSync(join(tmpdir(), 'cv-tune-'));
// The default tuning file lives under XDG_CACHE_HOME: a temporary one here, never the user's.
const cacheBefore = process.env.XDG_CACHE_HOME;
process.env.XDG_CACHE_HOME = join(dir, 'cache');
afterAll(() => {
  if (cacheBefore === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = cacheBefore;
  rmSync(dir, { recursive: true, force: true });
});

const run = runCli;

describe('cosyvoice-webgpu tune', () => {
  it('without --out: writes this adapter\'s default file (merging with an earlier run), which synth then reads by itself', async () => {
    const args = ['tune', '--size', 'tiny', '--quick', '--prefill', '32', '--context', '64', '--frames', '80'];
    const r = await run(args);
    expect(r.err).toBe('');
    const table = TuningTable.parse(readFileSync(defaultTuningPath(r.out.match(/adapter: (.*); model/)![1]), 'utf8'), 'default');
    expect(r.out).toContain(`wrote ${defaultTuningPath(table.adapter)}`);
    expect(defaultTuningPath(table.adapter).startsWith(join(dir, 'cache', 'cosyvoice-webgpu', 'tuning-'))).toBe(true);
    expect((await run(args)).code).toBe(0); // a second run merges into the same file
    const wav = join(dir, 'd.wav');
    const s = await run(['synth', '--text', 'Hi.', '--out', wav, '--tokens', '5']);
    expect(s.out).toContain(`tuning: ${defaultTuningPath(table.adapter)} (`);
    const n = await run(['synth', '--text', 'Hi.', '--out', wav, '--tokens', '5', '--no-tuning']);
    expect(n.code).toBe(0);
    expect(n.out).not.toContain('tuning:');
  });

  it('tiny synthetic model: writes a table for this adapter, which synth --tuning runs with', async () => {
    const file = join(dir, 'tuning.json');
    const r = await run(['tune', '--size', 'tiny', '--out', file, '--quick', '--prefill', '32', '--context', '64', '--frames', '80']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote .*tuning\.json: \d+ decisions/);
    const table = TuningTable.parse(readFileSync(file, 'utf8'), file);
    expect(r.out).toContain(`adapter: ${table.adapter}`);
    const wav = join(dir, 'a.wav');
    const s = await run(['synth', '--text', 'Hi.', '--out', wav, '--tokens', '5', '--tuning', file]);
    expect(s.err).toBe('');
    expect(s.out).toMatch(/tuning: .*tuning\.json \(\d+ decisions\)/);
    expect(existsSync(wav)).toBe(true);
  });

  it('refuses another adapter\'s table, a malformed one and a missing file, naming the file', async () => {
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify(new TuningTable('NVIDIA H200 (not this one)')));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format": "cosyvoice-webgpu-tuning", "version": 1}');
    for (const [file, msg] of [
      [other, /TuningFileError: .*other\.json was measured on "NVIDIA H200 \(not this one\)"/],
      [bad, /TuningFileError: .*bad\.json: needs a string "adapter"/],
      [join(dir, 'missing.json'), /TuningFileError: .*missing\.json: cannot read the tuning file \(ENOENT\)/],
    ] as const) {
      const wav = join(dir, 'b.wav');
      const r = await run(['synth', '--text', 'Hi.', '--out', wav, '--tokens', '5', '--tuning', file]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(msg);
      expect(existsSync(wav)).toBe(false);
    }
    expect((await run(['synth', '--text', 'Hi.', '--out', join(dir, 'c.wav'), '--tuning', other, '--no-tuning'])).err).toMatch(/--tuning and --no-tuning exclude each other/);
    expect((await run(['tune', '--out', join(dir, 'x.json'), '--models', 'vocoder'])).err).toMatch(/--models vocoder: a list of llm, flow and hift/);
  });
});
