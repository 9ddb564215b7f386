// End to end: training time per epoch of Hjh as CNN and SNN (T=5) on the built-in data set, and the
// latency of classifying one 1-second clip (feature extraction included) for every zoo model at batch 1,
// for hjh also with meyda's spectra in place of the WASM FFT (the baseline, in the same run).
import './setup.js';
import { existsSync } from 'node:fs';
import { extractFeatures } from '../src/audio/features.js';
import { type LogMelSettings, featureShape } from '../src/audio/settings.js';
import { type PowerSpectra, meydaSpectra, typescriptSpectra } from '../src/audio/spectrum.js';
import { featuresFor } from '../src/models/zoo.js';
import type { Dataset } from '../src/data/dataset.js';
import { DEFAULT_CLIPS_PER_WORD, builtinDataDir } from '../src/data/synth-node.js';
import { splitSpeakers } from '../src/data/speakers.js';
import { WORDS } from '../src/data/words.js';
import { loadSpeechCommands } from '../src/data/speech-commands-node.js';
import { Tensor } from '../src/engine/tensor.js';
import type { ModelName } from '../src/models/types.js';
import { createModel } from '../src/models/zoo.js';
import { train } from '../src/train/trainer.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

const FLAVORS = ['relaxed', 'simd'] as const;
const MODELS: readonly ModelName[] = ['m5', 'piczak', 'hjh', 'hjh-scnn', 'tcy'];
const SAMPLE_RATE = 16000;
const SPECTRUM_SIZE = (featuresFor('hjh') as LogMelSettings).frameSize;

/** A 1-second test signal: a vowel-like harmonic tone with a little noise, deterministic. */
function clip(): Float32Array {
  const x = new Float32Array(SAMPLE_RATE);
  let seed = 1;
  for (let i = 0; i < x.length; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const t = i / SAMPLE_RATE;
    x[i] = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 660 * t) + 0.02 * (seed / 2 ** 32 - 0.5);
  }
  return x;
}

/** Hjh's training split of the built-in set, or a stand-in of the same size and shape when it is absent. */
async function hjhTrainingData(quick: boolean): Promise<{ data: Dataset; label: string }> {
  const settings = featuresFor('hjh');
  const root = builtinDataDir();
  if (existsSync(root)) {
    const splits = await loadSpeechCommands(root, settings, { limitPerClass: quick ? 4 : undefined });
    // npm start makes a set of the ten commands; `snn-voice synth` adds the other 25 words.
    const words = `${splits.train.classes.length} words`;
    return { data: splits.train, label: quick ? `built-in set, ${words}, 4 clips per word` : `built-in set, ${words}` };
  }
  // Stand-in: as many samples as the default built-in training split would have. Timing does not
  // depend on the values, so every sample shares one deterministic row (11,200 distinct rows would be 1 GB).
  const shape = featureShape(settings);
  const row = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < row.length; i++) row[i] = Math.sin(i * 12.9898) * 0.5;
  const n = WORDS.length * (quick ? 4 : splitSpeakers(1, DEFAULT_CLIPS_PER_WORD).train.length);
  const data: Dataset = {
    size: n,
    classes: WORDS,
    featureShape: shape,
    labels: Int32Array.from({ length: n }, (_, i) => i % WORDS.length),
    features: () => row,
    skipped: [],
  };
  return { data, label: `synthetic stand-in, ${n} samples (built-in set absent)` };
}

export const suite: BenchSuite = {
  name: 'End to end: training epoch and inference latency',
  async run(options) {
    const rows: BenchRow[] = [];
    const batchSize = 32;
    const { data, label } = await hjhTrainingData(options.quick);
    const batchesPerEpoch = Math.ceil(data.size / batchSize);
    // Time a few batches of a real train() call and scale to a whole epoch (one epoch is too long to repeat).
    const measuredBatches = Math.min(batchesPerEpoch, options.quick ? 2 : 8);
    for (const spiking of [false, true]) {
      const values: Record<string, number> = {};
      for (const flavor of FLAVORS) {
        await engineFor(flavor);
        const model = createModel('hjh', { classes: data.classes.length, spiking, steps: 5 });
        const seconds = await secondsPerCall(
          () => train(model, { train: data }, { epochs: 1, batchSize, maxBatchesPerEpoch: measuredBatches, patience: Infinity }),
          { ...options, time: Math.min(options.time, 200) },
        );
        values[flavor] = (seconds / measuredBatches) * batchesPerEpoch;
        model.dispose();
      }
      rows.push({ case: `hjh ${spiking ? 'SNN T=5' : 'CNN'} epoch, ${data.size} clips, batch ${batchSize}`, unit: 's/epoch', values, note: `${label}; from ${measuredBatches} batches` });
    }

    const audio = clip();
    for (const name of options.quick ? (['hjh'] as ModelName[]) : MODELS) {
      const settings = featuresFor(name);
      // hjh-scnn is spiking by definition: its CNN is hjh's.
      for (const spiking of name === 'hjh-scnn' ? [true] : [false, true]) {
        const values: Record<string, number> = {};
        for (const flavor of FLAVORS) {
          await engineFor(flavor);
          const model = createModel(name, { spiking, steps: 5 });
          model.eval();
          const x = Tensor.empty([1, ...model.inputShape]);
          // The default spectra (the WASM FFT, engine running); for hjh also meyda's, as the baseline.
          const backends: [string, PowerSpectra | undefined][] = [[flavor, undefined]];
          if (name === 'hjh' && flavor === 'relaxed') backends.push([`${flavor}, meyda spectra`, meydaSpectra(SPECTRUM_SIZE)]);
          for (const [column, spectra] of backends)
            values[column] =
              1000 *
              (await secondsPerCall(() => {
                const features = extractFeatures(audio, SAMPLE_RATE, settings, spectra); // before the view: it may grow memory
                x.f32.set(features);
                return model.forward(x);
              }, options));
          x.free();
          model.dispose();
        }
        rows.push({ case: `${name} ${spiking ? 'SNN T=5' : 'CNN'}: 1 s clip, features + forward, batch 1`, unit: 'ms', values, note: name === 'hjh' && spiking ? 'target <= 3 ms' : undefined });
      }
    }
    await engineFor('relaxed');
    const values: Record<string, number> = {};
    for (const [column, spectra] of [['WASM FFT relaxed', undefined], ['TS FFT', typescriptSpectra(SPECTRUM_SIZE)], ['meyda', meydaSpectra(SPECTRUM_SIZE)]] as const)
      values[column] = 1000 * (await secondsPerCall(() => extractFeatures(audio, SAMPLE_RATE, featuresFor('hjh'), spectra), options));
    rows.push({ case: 'hjh features alone (log-mel of 1 s)', unit: 'ms', values, note: 'target <= 1 ms' });
    return rows;
  },
};
