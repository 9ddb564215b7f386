// `npx tsx bench/compare-builds.ts <before.wasm> <after.wasm> [--models m5:cnn,tcresnet8:snn] [--rounds 9] [--steps 10]`:
// two builds of the kernels (their relaxed-SIMD modules) timed on the zoo's training steps in one
// process, round by round in turn, so that each ratio comes from one stretch of time. Separate
// processes do not compare here: on the 2-core machine one binary ran a layer at 25 GFLOP/s in one
// process and at 42 in the next. A build of another commit comes from a worktree:
//
//   git worktree add ../before <commit> && (cd ../before && npm ci && npm run build:wasm)
//   npx tsx bench/compare-builds.ts ../before/build/relaxed.wasm build/relaxed.wasm --models m5:cnn
import './setup.js';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createEngine, type Engine, useEngine } from '../src/engine/engine.js';
import { MODEL_NAMES } from '../src/models/config.js';
import type { ModelName } from '../src/models/types.js';
import { median, rig, type Variant } from './models.bench.js';

const USAGE = 'usage: npx tsx bench/compare-builds.ts <before.wasm> <after.wasm> [--models m5:cnn,tcresnet8:snn] [--rounds 9] [--steps 10]';

function option(argv: readonly string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value\n${USAGE}`);
  return value;
}

function variants(list: string): Variant[] {
  return list.split(',').map((item) => {
    const [name, kind] = item.trim().split(':');
    if (!(MODEL_NAMES as readonly string[]).includes(name) || (kind !== 'cnn' && kind !== 'snn'))
      throw new Error(`--models: '${item}' is not <model>:cnn or <model>:snn with a model of ${MODEL_NAMES.join(', ')}`);
    const spiking = kind === 'snn';
    return { name: name as ModelName, spiking, steps: spiking ? 5 : 1 };
  });
}

function positive(text: string, name: string): number {
  const n = Number(text);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${name} must be a positive integer, got ${text}`);
  return n;
}

const argv = process.argv.slice(2);
const files = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--')));
if (files.length !== 2) throw new Error(USAGE);
const models = variants(option(argv, '--models', 'm5:cnn,tcresnet8:cnn,tcresnet8:snn'));
const rounds = positive(option(argv, '--rounds', '9'), '--rounds');
const steps = positive(option(argv, '--steps', '10'), '--steps');
const engines: Engine[] = [];
for (const file of files) engines.push(await createEngine({ flavor: 'relaxed', bytes: readFileSync(file) }));

console.log(`before: ${files[0]}\nafter: ${files[1]}\n${rounds} rounds of ${steps} training steps at batch 16 each, the two builds in turn`);
console.log('| model | before, ms | after, ms | before / after, median (range over rounds) |\n|---|---|---|---|');
for (const v of models) {
  const rigs = engines.map((engine) => {
    useEngine(engine);
    return rig(v);
  });
  const time = (k: number, n: number): number => {
    useEngine(engines[k]);
    const start = performance.now();
    for (let i = 0; i < n; i++) rigs[k].trainStep();
    return (performance.now() - start) / n;
  };
  time(0, 3);
  time(1, 3);
  const before: number[] = [], after: number[] = [], ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    before.push(time(0, steps));
    after.push(time(1, steps));
    ratios.push(before[r] / after[r]);
  }
  const label = `${v.name} ${v.spiking ? `SNN T=${v.steps}` : 'CNN'}`;
  console.log(`| ${label} | ${median(before).toFixed(2)} | ${median(after).toFixed(2)} | ${median(ratios).toFixed(3)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}) |`);
  rigs.forEach((r, k) => {
    useEngine(engines[k]);
    r.dispose();
  });
}
