// Feature extraction of one 1-second clip, the first step of every inference: the M5 waveform (resampled
// to 4 kHz) and the 60x134 log-mel spectrogram (and its MFCC) with the spectra from the WASM SIMD FFT
// (both builds), from the TypeScript twin of meyda's FFT, and from meyda itself, all in the same run;
// the spectra alone beside a plain-JS radix-2 FFT and a naive DFT; and WAV decoding beside the wavefile
// package (docs/audio.md: why the core has its own reader).
import './setup.js';
import * as wavefile from 'wavefile';
import { extractFeatures } from '../src/audio/features.js';
import { featuresFor } from '../src/models/zoo.js';
import { type LogMelSettings } from '../src/audio/settings.js';
import { type PowerSpectra, meydaSpectra, typescriptSpectra } from '../src/audio/spectrum.js';
import { decodeWav, encodeWav } from '../src/audio/wav.js';
import { EngineSpectra } from '../src/kernels/fft.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

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

/** What a typed-array FFT would cost in place of meyda's: iterative radix-2, twiddles and bit reversal
 *  tabulated, no allocation per frame (the imaginary input is zero; no real-input packing). */
function radix2(frameSize: number): (frame: Float32Array, power: Float32Array) => void {
  const bits = Math.log2(frameSize);
  const reversed = Int32Array.from({ length: frameSize }, (_, i) => {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    return r;
  });
  const cos = Float64Array.from({ length: frameSize / 2 }, (_, i) => Math.cos((2 * Math.PI * i) / frameSize));
  const sin = Float64Array.from({ length: frameSize / 2 }, (_, i) => -Math.sin((2 * Math.PI * i) / frameSize));
  const window = Float64Array.from({ length: frameSize }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / frameSize));
  const re = new Float64Array(frameSize), im = new Float64Array(frameSize);
  return (frame, power) => {
    for (let i = 0; i < frameSize; i++) { re[reversed[i]] = frame[i] * window[i]; im[i] = 0; }
    for (let size = 2; size <= frameSize; size *= 2) {
      const halfSize = size / 2, step = frameSize / size;
      for (let start = 0; start < frameSize; start += size)
        for (let k = 0; k < halfSize; k++) {
          const a = start + k, b = a + halfSize, wr = cos[k * step], wi = sin[k * step];
          const tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr; im[b] = im[a] - ti;
          re[a] += tr; im[a] += ti;
        }
    }
    for (let k = 0; k < power.length; k++) power[k] = re[k] * re[k] + im[k] * im[k];
  };
}

const ms = (s: number) => s * 1e3;
// wavefile ships CommonJS: Node's ESM interop puts its exports under `default`.
const WaveFile = ((wavefile as unknown as { default?: typeof wavefile }).default ?? wavefile).WaveFile;

/** The same 16-bit mono WAV with each sample doubled into two channels. */
function stereo(mono: Uint8Array): Uint8Array {
  const frames = (mono.length - 44) / 2;
  const out = new Uint8Array(44 + frames * 4);
  out.set(mono.subarray(0, 44));
  const v = new DataView(out.buffer);
  v.setUint32(4, out.length - 8, true);
  v.setUint16(22, 2, true);
  v.setUint32(28, v.getUint32(24, true) * 4, true);
  v.setUint16(32, 4, true);
  v.setUint32(40, frames * 4, true);
  for (let i = 0; i < frames; i++) {
    const lo = mono[44 + 2 * i], hi = mono[45 + 2 * i];
    out.set([lo, hi, lo, hi], 44 + 4 * i);
  }
  return out;
}

/** The spectra backends compared: the WASM FFT of each build (each on its own engine), the TS FFT, meyda. */
async function backends(size: number): Promise<[string, PowerSpectra][]> {
  const list: [string, PowerSpectra][] = [];
  for (const flavor of ['simd', 'relaxed'] as const)
    list.push([`WASM FFT ${flavor}`, new EngineSpectra(size, await engineFor(flavor))]);
  list.push(['TS FFT', typescriptSpectra(size)], ['meyda', meydaSpectra(size)]);
  return list;
}

export const suite: BenchSuite = {
  name: 'Features of one 1-second clip',
  async run(options) {
    const rows: BenchRow[] = [];
    // The default path (audio/spectrum.ts) with an engine running: the WASM FFT.
    await engineFor('relaxed');
    const rates = options.quick ? [16000] : [16000, 48000];
    for (const rate of rates) {
      const x = clip(rate);
      for (const model of ['m5', 'hjh'] as const) {
        const settings = featuresFor(model);
        const seconds = await secondsPerCall(() => extractFeatures(x, rate, settings), options);
        const what = settings.kind === 'waveform' ? 'waveform [1,4000] at 4 kHz' : 'log-mel [1,60,134], WASM FFT';
        rows.push({ case: `${model}: ${what} from ${rate / 1000} kHz`, unit: 'ms/clip', values: { ours: ms(seconds) }, note: `${(1 / seconds).toFixed(0)} clips/s` });
      }
    }
    const settings = featuresFor('hjh') as LogMelSettings;
    const x = clip(settings.sampleRate);
    const spectra = await backends(settings.frameSize);
    // Hjh's whole input (peak scaling, spectra, mel bank, log, standardisation), and tcy's MFCC of it.
    for (const features of [settings, featuresFor('tcy', 'mfcc')]) {
      const values: Record<string, number> = {};
      for (const [name, backend] of spectra) {
        values[name] = ms(await secondsPerCall(() => extractFeatures(x, settings.sampleRate, features, backend), options));
      }
      const mfcc = features.kind === 'mfcc';
      rows.push({
        case: mfcc ? `mfcc [1,${features.coefficients},134] of 1 s, features alone` : 'hjh log-mel [1,60,134] of 1 s, features alone', unit: 'ms/clip', values,
        note: mfcc ? undefined : `target <= 1 ms; meyda / WASM relaxed ${(values.meyda / values['WASM FFT relaxed']).toFixed(1)}x`,
      });
    }
    // The spectra alone, 134 frames of 512 (windowed frames written into each backend's buffer).
    const frames = settings.frames, size = settings.frameSize;
    const windowed = Float32Array.from({ length: frames * size }, (_, i) => x[(Math.floor(i / size) * settings.hop + (i % size)) % x.length] * (0.5 - 0.5 * Math.cos((2 * Math.PI * (i % size)) / size)));
    const values: Record<string, number> = {};
    for (const [name, backend] of spectra) {
      values[name] = ms(await secondsPerCall(() => {
        backend.frames(frames).set(windowed);
        return backend.compute(frames);
      }, options));
    }
    const dft = naiveDft(size);
    const frame = x.subarray(0, size);
    const power = new Float32Array(size / 2);
    const dftFrame = await secondsPerCall(() => dft(frame, power), options);
    const fft = radix2(size);
    const fftFrame = await secondsPerCall(() => fft(frame, power), options);
    // The two baselines agree with each other (a check that the FFT baseline computes the spectrum).
    const check = new Float32Array(power.length);
    dft(frame, check);
    fft(frame, power);
    if (power.some((p, k) => Math.abs(p - check[k]) > 1e-3 * (1 + check[k]))) throw new Error('features bench: radix-2 baseline disagrees with the DFT');
    rows.push({
      case: `spectra alone: ${frames} frames of ${size} at ${settings.sampleRate / 1000} kHz`, unit: 'ms/clip',
      values: { ...values, 'JS radix-2 f64': ms(fftFrame * frames), 'naive DFT': ms(dftFrame * frames) },
      note: `radix-2 and DFT timed per frame x ${frames}`,
    });
    for (const channels of options.quick ? [1] : [1, 2]) {
      const wav = encodeWav(x, settings.sampleRate, 16);
      const bytes = channels === 1 ? wav : stereo(wav);
      const ours = await secondsPerCall(() => decodeWav(bytes), options);
      const theirs = await secondsPerCall(() => {
        const file = new WaveFile(bytes);
        const per = file.getSamples(false, Float32Array) as unknown as Float32Array | Float32Array[];
        const chans = per instanceof Float32Array ? [per] : per;
        const mono = new Float32Array(chans[0].length);
        for (const c of chans) for (let i = 0; i < mono.length; i++) mono[i] += c[i] / (32768 * chans.length);
        return mono;
      }, options);
      rows.push({ case: `decode 1 s 16-bit ${channels === 1 ? 'mono' : 'stereo'} WAV to mono`, unit: 'ms/clip', values: { ours: ms(ours), wavefile: ms(theirs) } });
    }
    return rows;
  },
};
