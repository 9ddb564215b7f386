// The benchmark harness: each bench/*.bench.ts exports `suite`, a name and a function that returns
// rows; a row is one case measured by several contenders (our WASM builds, a plain-JS baseline,
// tfjs-wasm) in the same process, so ratios are fair on whatever machine runs them.
import { Bench } from 'tinybench';

export interface BenchRow {
  case: string;
  /** What the numbers measure, e.g. 'GFLOP/s', 'GB/s', 'samples/s', 'ms'. */
  unit: string;
  /** Contender name -> value in `unit` (missing when a contender cannot run the case). */
  values: Record<string, number>;
  /** Text columns after the contenders' (e.g. a ratio, a target met or missed), by column name. */
  cells?: Record<string, string>;
  note?: string;
}

export interface BenchSuite {
  name: string;
  run(options: BenchOptions): Promise<BenchRow[]>;
}

export interface BenchOptions {
  /** Milliseconds to spend per measured function (after warm-up). */
  time: number;
  /** Quick mode: fewer and smaller cases (used by the smoke test of the suite itself). */
  quick: boolean;
  /** Measure PyTorch live beside ours where a suite can (`--pytorch`; needs a python3 with torch). */
  pytorch?: boolean;
  /** The Python interpreter for `--pytorch` (`--python EXE`); else the first of python3 on PATH and the system's that imports torch. */
  python?: string;
  /**
   * Threads (`--threads N`, default 1) for the suites that compare at equal threads: the model zoo
   * (ours and PyTorch both at N) and the threads suite (one thread against N, at least 2).
   */
  threads?: number;
  /** Only these models in the suites that run the zoo (`--models m5,tcy`); all when absent. */
  models?: string[];
}

/** n deterministic values in [-1, 1) (the bench must not import test code: it is built with the package). */
export function randArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Median seconds per call of `fn`, measured by tinybench after a warm-up. */
export async function secondsPerCall(fn: () => unknown, options: BenchOptions): Promise<number> {
  const bench = new Bench({ time: options.time, warmupTime: Math.min(200, options.time), iterations: 3, warmupIterations: 2 });
  bench.add('f', fn);
  await bench.run();
  const r = bench.tasks[0].result as unknown as { latency?: { p50?: number }; error?: unknown; state?: string };
  if (r?.error) throw r.error;
  const p50 = r?.latency?.p50;
  if (p50 === undefined || !Number.isFinite(p50)) throw new Error('tinybench returned no latency');
  return p50 / 1000;
}

const fmt = (v: number | undefined): string =>
  v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);

/** Renders rows as a text table: one column per contender, then the text columns, then the note. */
export function formatTable(title: string, rows: BenchRow[]): string {
  const contenders = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
  const texts = [...new Set(rows.flatMap((r) => Object.keys(r.cells ?? {})))];
  const header = ['case', 'unit', ...contenders, ...texts, 'note'];
  const body = rows.map((r) => [r.case, r.unit, ...contenders.map((c) => fmt(r.values[c])), ...texts.map((t) => r.cells?.[t] ?? ''), r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [`## ${title}`, line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
}
