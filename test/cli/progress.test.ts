/** The CLI's load progress line: bytes over all files, full at done(), notes printed above the bar. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressPrinter } from '../../src/cli/progress.js';

afterEach(() => vi.restoreAllMocks());

describe('progressPrinter', () => {
  it('sums files, draws the bar full at done() (a lazy load never reads some bytes), and clears it around a note', () => {
    const err: string[] = [], out: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    vi.spyOn(console, 'log').mockImplementation((s) => void out.push(String(s)));
    const p = progressPrinter(true);
    p({ file: 'a', loaded: 1 << 20, total: 4 << 20 });
    p({ file: 'b', loaded: 2 << 20, total: 2 << 20 });
    expect(err.at(-1)).toMatch(/loading \[#+\.+\] 3\.0 \/ 6\.0 MiB/);
    p.log('NOTE: hello');
    expect(out).toEqual(['NOTE: hello']);
    expect(err.slice(-2)).toEqual(['\r\x1b[K', expect.stringMatching(/3\.0 \/ 6\.0 MiB/)]);
    p.done();
    expect(err.slice(-2)).toEqual([expect.stringMatching(/\[#{30}\] 6\.0 \/ 6\.0 MiB/), '\n']);
    p.log('after');
    expect(err.at(-1)).toBe('\n');
  });

  it('prints nothing to stderr when disabled (not a terminal)', () => {
    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const p = progressPrinter(false);
    p({ file: 'a', loaded: 1, total: 2 });
    p.log('x');
    p.done();
    expect(err).toEqual([]);
  });
});
