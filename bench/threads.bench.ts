// Two threads against one: the training step of every zoo model (batch 16, CNN and SNN T=5) on a
// one-thread engine and on a two-thread engine (worker_threads over one shared memory; --threads N
// for more), measured in the same run, interleaved round by round, and the speed-up checked against
// the 1.8x.
import './setup.js';
import { availableParallelism, loadavg } from 'node:os';
import { useEngine } from '../src/engine/engine.js';
import { MODEL_NAMES } from '../src/models/config.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { BATCH, label, median, rig, type Variant } from './models.bench.js';
import { engineFor } from './setup.js';

const TARGET = 1.8;

function variants(quick: boolean): Variant[] {
  if (quick) return [{ name: 'tcresnet8', spiking: true, steps: 5 }];
  return MODEL_NAMES.flatMap((name) => [
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
    for (const v of variants(all.quick)) {
      const rigs = THREADS.map((n) => {
        useEngine(engines.get(n)!);
        const r = rig(v);
        r.trainStep();
        return r;
      });
      const ms: number[][] = THREADS.map(() => []);
      const ratios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < THREADS.length; i++) {
          useEngine(engines.get(THREADS[i])!);
          ms[i].push((await secondsPerCall(rigs[i].trainStep, options)) * 1000);
        }
        ratios.push(ms[0][round] / ms[1][round]);
      }
      THREADS.forEach((n, i) => {
        useEngine(engines.get(n)!);
        rigs[i].dispose();
      });
      const ratio = median(ratios);
      rows.push({
        case: `${label(v)} training step`,
        unit: 'ms',
        values: { '1 thread': median(ms[0]), [`${THREADS[1]} threads`]: median(ms[1]) },
        cells: {
          speed_up: `${ratio.toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
          target: `${TARGET}x ${ratio >= TARGET ? 'met' : 'missed'}`,
        },
        note: load(),
      });
    }
    return rows;
  },
};
