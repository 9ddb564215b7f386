// Feature extraction of one 1-second clip, the first step of every inference: the M5 waveform (resampled
// to 4 kHz) and the 60x134 log-mel spectrogram, beside a plain-JS naive DFT of the same frames.
import { extractFeatures, featuresFor, type LogMelSettings } from '../src/audio/features.js';
import { logMelSpectrogram } from '../src/audio/logmel.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';

/** A deterministic speech-like second: two harmonics and a little noise. */
function clip(rate: number): Float32Array {
  const x = new Float32Array(rate);
  let seed = 7;
  for (let i = 0; i < x.length; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const t = i / rate;
    x[i] = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 1320 * t) + 0.02 * (seed / 2 ** 32 - 0.5);
  }
  return x;
}

/** The baseline: power spectrum of a Hann-windowed frame by the O(N^2) DFT, twiddles from a table. */
function naiveDft(frameSize: number): (frame: Float32Array, power: Float32Array) => void {
  const cos = Float64Array.from({ length: frameSize }, (_, i) => Math.cos((2 * Math.PI * i) / frameSize));
  const sin = Float64Array.from({ length: frameSize }, (_, i) => Math.sin((2 * Math.PI * i) / frameSize));
  const window = Float64Array.from({ length: frameSize }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / frameSize));
  return (frame, power) => {
    for (let k = 0; k < power.length; k++) {
      let re = 0, im = 0;
      for (let n = 0, at = 0; n < frameSize; n++, at = (at + k) % frameSize) {
        const x = frame[n] * window[n];
        re += x * cos[at];
        im -= x * sin[at];
      }
      power[k] = re * re + im * im;
    }
  };
}

const ms = (s: number) => s * 1e3;

export const suite: BenchSuite = {
  name: 'Features of one 1-second clip',
  async run(options) {
    const rows: BenchRow[] = [];
    const rates = options.quick ? [16000] : [16000, 48000];
    for (const rate of rates) {
      const x = clip(rate);
      for (const model of ['m5', 'hjh'] as const) {
        const settings = featuresFor(model);
        const seconds = await secondsPerCall(() => extractFeatures(x, rate, settings), options);
        const what = settings.kind === 'waveform' ? 'waveform [1,4000] at 4 kHz' : 'log-mel [1,60,134]';
        rows.push({ case: `${model}: ${what} from ${rate / 1000} kHz`, unit: 'ms/clip', values: { ours: ms(seconds) }, note: `${(1 / seconds).toFixed(0)} clips/s` });
      }
    }
    // The spectra alone: meyda's (inside logMelSpectrogram, with mel bank and log) against a naive DFT.
    const settings = featuresFor('hjh') as LogMelSettings;
    const x = clip(settings.sampleRate);
    const dft = naiveDft(settings.frameSize);
    const frame = x.subarray(0, settings.frameSize);
    const power = new Float32Array(settings.frameSize / 2);
    const dftFrame = await secondsPerCall(() => dft(frame, power), options);
    const ourClip = await secondsPerCall(() => logMelSpectrogram(x, settings), options);
    rows.push({
      case: `${settings.frames} frames of ${settings.frameSize} at ${settings.sampleRate / 1000} kHz`, unit: 'ms/clip',
      values: { ours: ms(ourClip), 'naive DFT': ms(dftFrame * settings.frames) },
      note: `ours: meyda spectra + mel bank + log + standardisation; naive DFT: spectra only, ${(dftFrame * 1e6).toFixed(0)} us/frame x ${settings.frames}`,
    });
    return rows;
  },
};
