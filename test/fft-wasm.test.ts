// The WASM SIMD power spectra (kernels/fft.ts) against meyda's own powerSpectrum, with meyda's Hann
// window applied on both sides: every bin within 1e-5 of the frame's largest bin (and, on speech,
// of itself for bins within 30 dB of the largest), on noise, tones,
// silence, tiny and large values, batches that end in a partial group of four, and every frame of a
// real recording. And the dispatch: the TypeScript FFT before an engine runs, the engine's after.
import { readFileSync } from 'node:fs';
import MeydaModule from 'meyda';
import { expect, it } from 'vitest';
import { decodeWav } from '../src/audio/wav.js';
import { logMelSpectrogram, melEnergies } from '../src/audio/logmel.js';
import { LOGMEL_60x134 } from '../src/audio/settings.js';
import { type PowerSpectra, meydaSpectra, spectraFor } from '../src/audio/spectrum.js';
import { EngineSpectra, engineSpectra } from '../src/kernels/fft.js';
import { describeEachBuild, randArray } from './helpers.js';

interface MeydaApi { bufferSize: number; windowingFunction: string; extract(f: string, s: Float32Array): unknown }
const Meyda = ((MeydaModule as unknown as { default?: MeydaApi }).default ?? MeydaModule) as unknown as MeydaApi;

/** meyda's power spectrum with its own Hann window ('hanning': 0.5 - 0.5 cos(2 pi i / (N - 1))). */
function meydaPower(frame: Float32Array): Float32Array {
  Meyda.bufferSize = frame.length;
  Meyda.windowingFunction = 'hanning';
  return Meyda.extract('powerSpectrum', frame) as Float32Array;
}

/** The same window, as meyda computes it: given to the kernel (or applied by us, for frames given windowed). */
const hanning = (size: number) => Float32Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1)));

/**
 * Largest |ours - meyda| over the bins of each frame, relative to that frame's largest meyda bin; and
 * relative to the bin itself, over bins within 30 dB (in power) of their frame's largest.
 */
function errors(frames: Float32Array[], spectra: EngineSpectra, windowedByUs = false): { peak: number; bin: number } {
  const size = spectra.size, half = size / 2, w = hanning(size);
  const input = spectra.frames(frames.length);
  // The kernel applies the window as it loads the frames; or is given frames we windowed.
  frames.forEach((f, i) => { for (let k = 0; k < size; k++) input[i * size + k] = windowedByUs ? f[k] * w[k] : f[k]; });
  const ours = spectra.compute(frames.length, windowedByUs ? undefined : w).slice();
  let worst = 0, bin = 0;
  frames.forEach((f, i) => {
    const ref = meydaPower(f);
    const peak = Math.max(...ref);
    for (let k = 0; k < half; k++) {
      const d = Math.abs(ours[i * half + k] - ref[k]);
      worst = Math.max(worst, peak > 0 ? d / peak : d);
      if (ref[k] > 1e-3 * peak) bin = Math.max(bin, d / ref[k]);
    }
  });
  return { peak: worst, bin };
}

const WAV = new URL('./fixtures/kws-words.wav', import.meta.url);

it('uses the TypeScript FFT before an engine runs', () => {
  expect(engineSpectra(512)).toBeNull();
  expect(spectraFor(512)).not.toBeInstanceOf(EngineSpectra);
});

describeEachBuild('WASM power spectra', () => {
  for (const size of [2, 4, 8, 256, 512, 1024]) {
    it(`equal meyda's powerSpectrum to 1e-5 at ${size} points`, () => {
      const spectra = new EngineSpectra(size);
      let s = size;
      const noise = () => Float32Array.from({ length: size }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5));
      const frames = [
        noise(), noise(), noise(),
        Float32Array.from({ length: size }, (_, i) => 0.7 * Math.sin(i * 0.3) + 0.2 * Math.cos(i * 2.1)),
        new Float32Array(size),
        Float32Array.from({ length: size }, (_, i) => 1e-20 * Math.sin(i)),
        Float32Array.from({ length: size }, (_, i) => 3e4 * Math.sin(i * 0.01)),
      ]; // 7 frames: one group of four, one of three
      expect(errors(frames, spectra).peak).toBeLessThan(1e-5);
      // Each frame alone (the streaming path's batches of one) too, and frames windowed before the call.
      expect(errors([frames[3]], spectra).peak).toBeLessThan(1e-5);
      expect(errors(frames, spectra, true).peak).toBeLessThan(1e-5);
    });
  }

  it("equal meyda's powerSpectrum to 1e-5 on every 512-sample frame of a real recording", () => {
    const { samples } = decodeWav(readFileSync(WAV), 'kws-words.wav');
    const frames: Float32Array[] = [];
    for (let at = 0; at + 512 <= samples.length; at += 120) frames.push(samples.slice(at, at + 512));
    expect(frames.length).toBeGreaterThan(1400);
    const { peak, bin } = errors(frames, new EngineSpectra(512));
    expect(peak).toBeLessThan(1e-5); // measured 4e-7
    expect(bin).toBeLessThan(1e-5); // measured 4e-6: float32 rounding, relative to a bin 1e-3 of the peak

  });

  it('gives the log-mel features of the spectra through meyda, to float rounding, and is the dispatch choice', () => {
    const { samples } = decodeWav(readFileSync(WAV), 'kws-words.wav');
    expect(spectraFor(512)).toBeInstanceOf(EngineSpectra);
    let worst = 0;
    for (const second of [1, 4.5, 8]) {
      const clip = samples.slice(second * 16000, second * 16000 + 16000);
      let peak = 0;
      for (const v of clip) peak = Math.max(peak, Math.abs(v));
      for (let i = 0; i < clip.length; i++) clip[i] /= peak;
      const wasm = logMelSpectrogram(clip, LOGMEL_60x134);
      const meyda = logMelSpectrogram(clip, LOGMEL_60x134, meydaSpectra(512));
      for (let i = 0; i < wasm.length; i++) worst = Math.max(worst, Math.abs(wasm[i] - meyda[i]));
    }
    // Standardised units (z-scores, +-5): rounding of the faintest bins only.
    expect(worst).toBeLessThan(1e-3);
  });

  it('sums the mel bank as the TypeScript loop does, to the bit, for any frame count', () => {
    const spectra = new EngineSpectra(512);
    // The bank log-mel features use: energies of a one-frame-per-call spectra backend (no mel()) are the reference.
    const plain: PowerSpectra = { size: 512, frames: (n) => spectra.frames(n), compute: (n, w) => spectra.compute(n, w) };
    const signal = randArray(16000, 5);
    for (const count of [1, 3, 4, 7, 134]) {
      const ours = new Float64Array(count * 60), reference = new Float64Array(count * 60);
      melEnergies(signal, LOGMEL_60x134, 0, count, ours, 0, 1, 60, spectra);
      melEnergies(signal, LOGMEL_60x134, 0, count, reference, 0, 1, 60, plain);
      expect(Array.from(ours)).toEqual(Array.from(reference));
      expect(reference.some((v) => v > 0)).toBe(true);
    }
    const fresh = new EngineSpectra(512);
    fresh.frames(2);
    const bank = { firstBin: Int32Array.of(0), bandStart: Int32Array.of(0, 2), weights: Float32Array.of(1, 1) };
    expect(() => fresh.mel(1, bank)).toThrow(/mel\(1\) after compute\(0\)/);
    fresh.compute(2);
    expect(() => fresh.mel(2, { ...bank, firstBin: Int32Array.of(255) })).toThrow(/mel band 0 reaches past bin 255/);
    expect(() => fresh.mel(2, { ...bank, weights: Float32Array.of(1) })).toThrow(/1 bands needs 2 band starts and 2 weights/);
  });

  it('refuses sizes that are not powers of two and compute() past the frames made room for', () => {
    expect(() => new EngineSpectra(500)).toThrow(/power of two/);
    const spectra = new EngineSpectra(8);
    spectra.frames(2);
    expect(() => spectra.compute(3)).toThrow(/made room for 2/);
  });
});
