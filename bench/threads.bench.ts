// Two threads against one: the training step of every zoo model (batch 16, CNN and SNN T=5) on a
// one-thread engine and on a two-thread engine (worker_threads over one shared memory; --threads N
// for more), measured in the same run, interleaved round by round, and the speed-up checked against
// the 1.8x, beside the most N threads could give by Amdahl's law from the share of the
// one-thread step spent in the calls that are split. Two rows come first to say what the machine offers at the time: a plain-JS loop
// split over worker threads (no WASM, no engine: the cores' spare capacity) and one large GEMM split
// into bands (the pool on its best case).
import './setup.js';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Engine, useEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { matmul } from '../src/kernels/gemm.js';
import type { ModelName } from '../src/models/types.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { BATCH, label, median, rig, type Variant, zooModels } from './models.bench.js';
import { engineFor } from './setup.js';

const TARGET = 1.8;

// A loop of dependent floating-point steps: no memory traffic, nothing to share.
const LOOP = 'let x = 0; for (let i = 0; i < n; i++) x = (x * 1.0000001 + 1) % 1e9; return x;';
const spin = new Function('n', LOOP) as (n: number) => number;

/**
 * Milliseconds per call of `fn` (median of a few calls), and of the part of it outside the calls
 * `engine` splits over its threads (timed from the outside): the part more threads leave as it is.
 */
function unsplitMs(engine: Engine, fn: () => void): [number, number] {
  let inSplit = 0;
  const parallel = engine.parallel.bind(engine);
  engine.parallel = (shares) => {
    if (shares.length < 2) return parallel(shares);
    const start = performance.now();
    const results = parallel(shares);
    inSplit += performance.now() - start;
    return results;
  };
  try {
    const [all, outside]: number[][] = [[], []];
    for (let i = 0; i < 5; i++) {
      inSplit = 0;
      const start = performance.now();
      fn();
      all.push(performance.now() - start);
      outside.push(all[i] - inSplit);
    }
    return [median(all), median(outside)];
  } finally {
    delete (engine as { parallel?: unknown }).parallel;
  }
}

/** Seconds for `n` loop steps on this thread, and for the same steps split over it and `helpers` workers. */
async function loopControl(helpers: Worker[], n: number): Promise<[number, number]> {
  let start = performance.now();
  spin(n);
  const one = (performance.now() - start) / 1000;
  start = performance.now();
  const share = n / (helpers.length + 1);
  const done = helpers.map((w) => new Promise((resolve) => { w.once('message', resolve); w.postMessage(share); }));
  spin(share);
  await Promise.all(done);
  return [one, (performance.now() - start) / 1000];
}

function variants(quick: boolean, models: readonly ModelName[]): Variant[] {
  if (quick) return [{ name: 'tcresnet8', spiking: true, steps: 5 }];
  return models.flatMap((name) => [
    ...(name === 'hjh-scnn' ? [] : [{ name, spiking: false, steps: 1 }]),
    { name, spiking: true, steps: 5 },
  ]);
}

export const suite: BenchSuite = {
  name: `Threads: training step at batch ${BATCH}, two threads (or --threads N) against one (relaxed SIMD)`,
  async run(all) {
    const THREADS = [1, Math.max(2, all.threads ?? 1)];
    const options = all.quick ? { ...all, time: 1 } : { ...all, time: Math.min(all.time, 2000) };
    const rounds = all.quick ? 1 : 3;
    const load = () => `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;
    console.log(
      `Rounds of one thread then ${THREADS[1]}, ${rounds} per model; ratio = median over rounds of (one-thread ms / ${THREADS[1]}-thread ms). ${load()} at start.`,
    );
    const engines = new Map((await Promise.all(THREADS.map((n) => engineFor('relaxed', n)))).map((e) => [e.threads, e]));
    const rows: BenchRow[] = [];
    // Rounds of fns[0] on the one-thread engine then fns[1] on the other: ms per call, and the ratios.
    const interleaved = async (fns: Array<() => void>): Promise<[number[][], number[]]> => {
      const ms: number[][] = THREADS.map(() => []);
      const ratios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < THREADS.length; i++) {
          useEngine(engines.get(THREADS[i])!);
          ms[i].push((await secondsPerCall(fns[i], options)) * 1000);
        }
        ratios.push(ms[0][round] / ms[1][round]);
      }
      return [ms, ratios];
    };
    // unsplit: [ms per step on one thread, ms outside the split calls on N], timed the same way, one after the other.
    const row = (name: string, ms: number[][], ratios: number[], target: string, unsplit?: [number, number]): BenchRow => {
      const ratio = median(ratios);
      const cells: Record<string, string> = {
        speed_up: `${ratio.toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
        target: target || `${TARGET}x ${ratio >= TARGET ? 'met' : 'missed'}`,
      };
      if (unsplit !== undefined) {
        // Amdahl: the split share of the one-thread step runs N times faster at best, the rest as it is.
        const split = Math.min(1, Math.max(0, 1 - unsplit[1] / unsplit[0]));
        cells['split share'] = `${(100 * split).toFixed(0)}%`;
        cells['at most'] = `${(1 / (1 - split + split / THREADS[1])).toFixed(2)}x`;
      }
      return { case: name, unit: 'ms', values: { '1 thread': median(ms[0]), [`${THREADS[1]} threads`]: median(ms[1]) }, cells, note: load() };
    };

    const helper = `const { parentPort } = require('node:worker_threads');
      parentPort.on('message', (n) => { ${LOOP.replace('return x;', 'parentPort.postMessage(x);')} });`;
    const helpers = Array.from({ length: THREADS[1] - 1 }, () => new Worker(helper, { eval: true }));
    try {
      const ms: number[][] = [[], []];
      const ratios: number[] = [];
      const steps = all.quick ? 1e6 : 1e8;
      await loopControl(helpers, 1e5);
      for (let round = 0; round < rounds; round++) {
        const [one, split] = await loopControl(helpers, steps);
        ms[0].push(one * 1000);
        ms[1].push(split * 1000);
        ratios.push(one / split);
      }
      rows.push(row(`control: a plain-JS loop over worker threads`, ms, ratios, 'control'));
    } finally {
      for (const w of helpers) void w.terminate();
    }

    const M = all.quick ? 256 : 1024;
    const gemm = THREADS.map((n) => {
      useEngine(engines.get(n)!);
      const [x, w, y] = [[M, 256], [256, 256], [M, 256]].map((shape) => Tensor.zeros(shape));
      return { run: () => matmul(x, w, y), free: () => [x, w, y].forEach((t) => t.free()) };
    });
    const [gemmMs, gemmRatios] = await interleaved(gemm.map((g) => g.run));
    THREADS.forEach((n, i) => {
      useEngine(engines.get(n)!);
      gemm[i].free();
    });
    rows.push(row(`control: one GEMM ${M}x256x256 (matmul) in bands`, gemmMs, gemmRatios, 'control'));

    for (const v of variants(all.quick, zooModels(all))) {
      const rigs = THREADS.map((n) => {
        useEngine(engines.get(n)!);
        const r = rig(v);
        r.trainStep();
        return r;
      });
      const [ms, ratios] = await interleaved(rigs.map((r) => r.trainStep));
      const unsplit = THREADS.map((n, i) => {
        useEngine(engines.get(n)!);
        return unsplitMs(engines.get(n)!, rigs[i].trainStep);
      });
      THREADS.forEach((n, i) => {
        useEngine(engines.get(n)!);
        rigs[i].dispose();
      });
      rows.push(row(`${label(v)} training step`, ms, ratios, '', [unsplit[0][0], unsplit[1][1]]));
    }
    return rows;
  },
};
