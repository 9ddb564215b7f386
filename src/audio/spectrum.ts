// Where log-mel and MFCC features get their spectra: one dispatch for every caller (offline clips,
// the streaming recognizer, the feature cache). Once a WASM engine runs, the kernels floor provides
// its SIMD FFT (kernels/fft.ts, checked against meyda's spectra); before that, or without the engine,
// the TypeScript twin of meyda's FFT (audio/fft.ts, bit for bit meyda's values). meyda's own
// extract() stays available as a backend: the reference the tests and benchmarks compare with.
import MeydaModule from 'meyda';
import { AmplitudeSpectrum } from './fft.js';

/**
 * Power spectra of many frames in one call: the caller writes frames into frames(count), [count, size]
 * row-major, then compute(count, window) returns [count, size/2], bins 0 .. size/2 - 1 of |DFT|^2 of
 * each frame times the window (float32 products, as a windowed copy would hold). Both buffers are the
 * backend's own (for the WASM one, views of its memory: the frames are written where the kernel reads
 * them) and are valid until the next call; compute() may overwrite the frames. A window is a constant
 * table: a backend may keep its own copy of the array it was last given.
 */
export interface PowerSpectra {
  readonly size: number;
  frames(count: number): Float32Array;
  compute(count: number, window?: Float32Array): Float32Array;
  /**
   * Optional: the mel energies of the frames of the last compute(), through `bank`: f64 [count, bands],
   * the backend's buffer (valid until its next call), to the bit what audio/logmel.ts sums without it.
   * A bank is a constant table: a backend may keep its own copy of the one it was last given.
   */
  mel?(count: number, bank: MelBank): Float64Array;
}

/**
 * A mel filter bank over the bins of one spectrum: band b weighs bins firstBin[b], firstBin[b] + 1, ...
 * by weights[bandStart[b]] .. weights[bandStart[b + 1] - 1].
 */
export interface MelBank {
  firstBin: Int32Array;
  bandStart: Int32Array;
  weights: Float32Array;
}

interface MeydaApi {
  bufferSize: number;
  sampleRate: number;
  windowingFunction: string;
  extract(feature: string, signal: Float32Array): unknown;
}
// Node's CommonJS interop hands over meyda's object itself, a bundler may wrap it as { default }; its
// type declarations describe neither under NodeNext resolution.
const Meyda = ((MeydaModule as unknown as { default?: MeydaApi }).default ?? MeydaModule) as unknown as MeydaApi;

/** A backend computing one frame's amplitude spectrum at a time; power = amplitude^2 in float32. */
class PerFrame implements PowerSpectra {
  private input = new Float32Array(0);
  private power = new Float32Array(0);

  constructor(
    readonly size: number,
    private readonly amplitude: (frame: Float32Array) => Float32Array,
    /** Wraps a whole compute() (meyda: set its shared settings, restore them after). */
    private readonly around: (body: () => void) => void = (body) => body(),
  ) {}

  frames(count: number): Float32Array {
    if (this.input.length < count * this.size) this.input = new Float32Array(count * this.size);
    return this.input;
  }

  compute(count: number, window?: Float32Array): Float32Array {
    const size = this.size, half = size / 2;
    if (this.power.length < count * half) this.power = new Float32Array(count * half);
    const { input, power } = this;
    if (window) for (let i = 0; i < count * size; i++) input[i] *= window[i % size];
    this.around(() => {
      for (let f = 0; f < count; f++) {
        const amplitude = this.amplitude(input.subarray(f * size, (f + 1) * size));
        for (let k = 0; k < half; k++) power[f * half + k] = amplitude[k] * amplitude[k];
      }
    });
    return power;
  }
}

const typescript = new Map<number, PowerSpectra>();

/**
 * The TypeScript twin of meyda's FFT for `size` (one per size; no allocation per frame; meyda's bits).
 * The same in every thread, engine or not: the feature cache computes with it, so what it stores does
 * not depend on which thread, or how many, made it.
 */
export function typescriptSpectra(size: number): PowerSpectra {
  let spectra = typescript.get(size);
  if (!spectra) {
    const fft = new AmplitudeSpectrum(size);
    typescript.set(size, (spectra = new PerFrame(size, (frame) => fft.compute(frame))));
  }
  return spectra;
}

/** meyda's extract('amplitudeSpectrum') per frame, its own windowing off (ours is applied first). */
export function meydaSpectra(size: number): PowerSpectra {
  return new PerFrame(
    size,
    (frame) => Meyda.extract('amplitudeSpectrum', frame) as Float32Array,
    (body) => {
      // meyda is one shared object: restore its settings for anyone else in the page using it.
      const saved = { bufferSize: Meyda.bufferSize, windowingFunction: Meyda.windowingFunction };
      Meyda.bufferSize = size;
      Meyda.windowingFunction = 'rect';
      try {
        body();
      } finally {
        Object.assign(Meyda, saved);
      }
    },
  );
}

/** Given a frame size, the engine's spectra, or null while no engine runs. */
export type SpectraProvider = (size: number) => PowerSpectra | null;

let engineSpectra: SpectraProvider | null = null;

/** Installs the engine's spectra (kernels/fft.ts does, when it is loaded; the floors keep audio from importing it). */
export function provideSpectra(provider: SpectraProvider): void {
  engineSpectra = provider;
}

/** The spectra features are computed with: the engine's when it runs, else the TypeScript FFT. */
export function spectraFor(size: number): PowerSpectra {
  return engineSpectra?.(size) ?? typescriptSpectra(size);
}
