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
import { LOGMEL_60x134, MFCC_20x134 } from '../src/audio/settings.js';
import { FeatureStream } from '../src/listen/feature-stream.js';
import { Recognizer } from '../src/listen/recognizer.js';
import { loadPretrained } from '../src/models/pretrained-node.js';
import type { ModelMeta } from '../src/models/serialize.js';
import type { Model, ModelName } from '../src/models/types.js';
import { createModel, featuresFor } from '../src/models/zoo.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { engineFor } from './setup.js';

const FLAVORS = ['relaxed', 'simd'] as const;
const CLASSES = ['_silence_', '_unknown_', 'yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];
const CHUNK = 1024;
type Listener = { model: Model; meta: Pick<ModelMeta, 'classNames' | 'features'> };
const zoo = (name: ModelName, spiking: boolean, steps: number) => async (): Promise<Listener> => ({
  model: createModel(name, { classes: CLASSES.length, spiking, steps, seed: 1 }),
  meta: { classNames: CLASSES, features: featuresFor(name) },
});
/**
 * The shipped keyword spotters first (TC-ResNet8 on MFCC, as a listener runs them), then the zoo's
 * models on their own features: TC-ResNet8's SNN at T = 5 is the one the target is about.
 */
const CASES: ReadonlyArray<{ label: string; spiking: boolean; rate: number; make: () => Promise<Listener> }> = [
  { label: 'pretrained kws-cnn (MFCC)', spiking: false, rate: 16000, make: () => loadPretrained('kws-cnn') },
  { label: 'pretrained kws-snn T=8 (MFCC)', spiking: true, rate: 16000, make: () => loadPretrained('kws-snn') },
  { label: 'tcresnet8 CNN', spiking: false, rate: 16000, make: zoo('tcresnet8', false, 1) },
  { label: 'tcresnet8 SNN T=5', spiking: true, rate: 16000, make: zoo('tcresnet8', true, 5) },
  { label: 'tcresnet8 SNN T=5, 48 kHz input', spiking: true, rate: 48000, make: zoo('tcresnet8', true, 5) },
  { label: 'hjh-scnn T=5', spiking: true, rate: 16000, make: zoo('hjh-scnn', true, 5) },
  { label: 'm5 CNN (waveform)', spiking: false, rate: 16000, make: zoo('m5', false, 1) },
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

/** Wall time of `classify` on a 1-s clip, median of 30 after 3 warm-up calls. */
function clipMs(r: Recognizer, rate: number): number {
  const clip = audio(1, rate, 7);
  const times: number[] = [];
  for (let i = 0; i < 33; i++) {
    const t = performance.now();
    r.classify(clip, rate);
    if (i >= 3) times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[times.length >> 1];
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

export const suite: BenchSuite = {
  name: 'Streaming: the cost of listening (100 ms hop)',
  async run(options) {
    const rows: BenchRow[] = [];
    const seconds = options.quick ? 5 : 30;
    // Features alone: what every model pays per second of audio.
    for (const [label, settings, note] of [
      ['log-mel features only', LOGMEL_60x134, '10.3 windows per second: 13 new frames, 5 edge frames and the standardisation each'],
      ['MFCC features only', MFCC_20x134, 'the same log-mel, then a 20-term DCT of each of the window\'s 134 frames'],
    ] as const) {
      const stream = new FeatureStream(settings, 1600);
      rows.push({ case: label, unit: '% of a core', values: { js: cpuPercent((c) => stream.push(c, () => {}), 16000, seconds) }, note });
    }
    for (const c of CASES) {
      const values: Record<string, number> = {};
      const latency: Record<string, number> = {};
      for (const flavor of FLAVORS) {
        await engineFor(flavor);
        const { model, meta } = await c.make();
        const r = new Recognizer(model, meta, { overlapFactor: 0.9 });
        values[flavor] = cpuPercent((chunk) => r.push(chunk, c.rate), c.rate, seconds);
        latency[flavor] = clipMs(r, c.rate);
        r.dispose();
        model.dispose();
      }
      const best = Math.min(...Object.values(values));
      rows.push({ case: c.label, unit: '% of a core', values, cells: { 'target <= 5%': c.spiking ? (best <= 5 ? 'met' : 'missed') : '' }, note: 'CPU time per second of audio, features included' });
      rows.push({ case: `${c.label}: one clip`, unit: 'ms', values: latency, note: 'classify() of one 1-s clip, features included: the inference in an event\'s latency (median of 30)' });
    }
    rows.push(await memoryOverTime(options.quick ? 600 : 3600));
    return rows;
  },
};

/** Streams `seconds` of audio through the pretrained SNN; reports memory at the start and the end. */
async function memoryOverTime(seconds: number): Promise<BenchRow> {
  const engine = await engineFor('relaxed');
  const { model, meta } = await loadPretrained('kws-snn');
  const r = new Recognizer(model, meta);
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
    case: `memory over ${seconds >= 3600 ? `${seconds / 3600} hour` : `${seconds / 60} min`} of audio (pretrained kws-snn)`,
    unit: 'MiB',
    values: { start: start.bytes / 2 ** 20, end: end.bytes / 2 ** 20 },
    cells: { flat: flat ? 'yes' : 'NO' },
    note:
      `engine bytes in use; linear memory ${mib(start.memory)} -> ${mib(end.memory)}; JS heap after GC ${mib(start.heap)} -> ${mib(end.heap)}; ` +
      `${((100 * (cpu.user + cpu.system)) / 1e6 / (seconds - 5)).toFixed(2)}% of a core over the run`,
  };
}
