// The cost of listening: CPU time per second of audio for a Recognizer at a 100 ms hop (13 log-mel
// frames, 97.5 ms), features and resampling included, audio pushed in 1024-sample chunks as a microphone
// delivers it; as a share of one core (target: at most 5% for the SNN). CPU time (process.cpuUsage over
// 30 s of audio after 3 s of warm-up), not wall time, so other processes on the machine do not count.
// Then memory over one hour of
// simulated audio (ten minutes with --quick): engine bytes in use, linear memory and the JS heap at the
// start and the end of the hour, which must not grow.
import './setup.js';
import v8 from 'node:v8';
import vm from 'node:vm';
import { featuresFor } from '../src/models/zoo.js';
import { FeatureStream } from '../src/listen/feature-stream.js';
import { Recognizer } from '../src/listen/recognizer.js';
import type { ModelName } from '../src/models/types.js';
import { createModel } from '../src/models/zoo.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { engineFor } from './setup.js';

const FLAVORS = ['relaxed', 'simd'] as const;
const CLASSES = ['_silence_', '_unknown_', 'yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];
const CHUNK = 1024;
/** The SNN the target is about: TC-ResNet8's spiking twin at T = 5, and the study's Hjh SCNN. */
const CASES: ReadonlyArray<{ label: string; name: ModelName; spiking: boolean; steps: number; rate: number }> = [
  { label: 'tcresnet8 CNN', name: 'tcresnet8', spiking: false, steps: 1, rate: 16000 },
  { label: 'tcresnet8 SNN T=5', name: 'tcresnet8', spiking: true, steps: 5, rate: 16000 },
  { label: 'tcresnet8 SNN T=5, 48 kHz input', name: 'tcresnet8', spiking: true, steps: 5, rate: 48000 },
  { label: 'hjh-scnn T=5', name: 'hjh-scnn', spiking: true, steps: 5, rate: 16000 },
  { label: 'm5 CNN (waveform)', name: 'm5', spiking: false, steps: 1, rate: 16000 },
];

/** Speech-like audio that never repeats exactly: harmonics gliding under an envelope, and noise. */
function audio(seconds: number, rate: number, seed: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * rate));
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const t = i / rate;
    const f0 = 120 + 60 * Math.sin(2 * Math.PI * 0.3 * t + seed);
    x[i] = Math.abs(Math.sin(Math.PI * t * 0.8)) * (0.3 * Math.sin(2 * Math.PI * f0 * t) + 0.1 * Math.sin(6 * Math.PI * f0 * t)) + 0.01 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

function pushSecond(push: (chunk: Float32Array) => void, second: Float32Array): void {
  for (let at = 0; at < second.length; at += CHUNK) push(second.subarray(at, at + CHUNK));
}

/** CPU time per second of audio, in % of one core: `seconds` distinct seconds pushed after a warm-up. */
function cpuPercent(push: (chunk: Float32Array) => void, rate: number, seconds: number): number {
  for (let s = 0; s < 3; s++) pushSecond(push, audio(1, rate, 100 + s));
  const pool = Array.from({ length: 5 }, (_, i) => audio(1, rate, 200 + i));
  const started = process.cpuUsage();
  for (let s = 0; s < seconds; s++) pushSecond(push, pool[s % pool.length]);
  const used = process.cpuUsage(started);
  return (100 * (used.user + used.system)) / 1e6 / seconds;
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

export const suite: BenchSuite = {
  name: 'Streaming: the cost of listening (100 ms hop)',
  async run(options) {
    const rows: BenchRow[] = [];
    const seconds = options.quick ? 5 : 30;
    // Features alone: what every model pays per second of audio.
    const stream = new FeatureStream(featuresFor('hjh'), 1600);
    rows.push({
      case: 'log-mel features only',
      unit: '% of a core',
      values: { js: cpuPercent((c) => stream.push(c, () => {}), 16000, seconds) },
      note: '10.3 windows per second: 13 new frames, 5 edge frames and the standardisation each',
    });
    for (const c of CASES) {
      const values: Record<string, number> = {};
      for (const flavor of FLAVORS) {
        await engineFor(flavor);
        const model = createModel(c.name, { classes: CLASSES.length, spiking: c.spiking, steps: c.steps, seed: 1 });
        const r = new Recognizer(model, { classNames: CLASSES, features: featuresFor(c.name) }, { overlapFactor: 0.9 });
        values[flavor] = cpuPercent((chunk) => r.push(chunk, c.rate), c.rate, seconds);
        r.dispose();
        model.dispose();
      }
      const best = Math.min(...Object.values(values));
      rows.push({ case: c.label, unit: '% of a core', values, cells: { 'target <= 5%': c.spiking ? (best <= 5 ? 'met' : 'missed') : '' }, note: 'CPU time per second of audio, features included' });
    }
    rows.push(await memoryOverTime(options.quick ? 600 : 3600));
    return rows;
  },
};

/** Streams `seconds` of audio through the T=5 TC-ResNet8 SNN; reports memory at the start and the end. */
async function memoryOverTime(seconds: number): Promise<BenchRow> {
  const engine = await engineFor('relaxed');
  const model = createModel('tcresnet8', { classes: CLASSES.length, spiking: true, steps: 5, seed: 1 });
  const r = new Recognizer(model, { classNames: CLASSES, features: featuresFor('tcresnet8') });
  // Ten distinct seconds, cycled: the content does not matter to memory, generating an hour would.
  const pool = Array.from({ length: 10 }, (_, i) => audio(1, 16000, 10 + i));
  // The collector, so the heap is compared without garbage (the flag takes effect for new contexts).
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const snapshot = () => {
    gc();
    return { bytes: engine.bytesInUse, memory: engine.memoryBytes, heap: process.memoryUsage().heapUsed };
  };
  for (let s = 0; s < 5; s++) pushSecond((c) => r.push(c, 16000), pool[s]);
  const start = snapshot();
  const started = process.cpuUsage();
  for (let s = 5; s < seconds; s++) pushSecond((c) => r.push(c, 16000), pool[s % pool.length]);
  const cpu = process.cpuUsage(started);
  const end = snapshot();
  r.dispose();
  model.dispose();
  const flat = end.bytes === start.bytes && end.memory === start.memory;
  return {
    case: `memory over ${seconds >= 3600 ? `${seconds / 3600} hour` : `${seconds / 60} min`} of audio (tcresnet8 SNN T=5)`,
    unit: 'MiB',
    values: { start: start.bytes / 2 ** 20, end: end.bytes / 2 ** 20 },
    cells: { flat: flat ? 'yes' : 'NO' },
    note:
      `engine bytes in use; linear memory ${mib(start.memory)} -> ${mib(end.memory)}; JS heap after GC ${mib(start.heap)} -> ${mib(end.heap)}; ` +
      `${((100 * (cpu.user + cpu.system)) / 1e6 / (seconds - 5)).toFixed(2)}% of a core over the run`,
  };
}
