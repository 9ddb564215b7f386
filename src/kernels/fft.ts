// The power spectra of log-mel and MFCC features on the engine: the WASM SIMD FFT of assembly/fft.ts
// (four frames per pass, real input packed into a half-size complex FFT), behind audio's PowerSpectra
// interface. Loading this file installs it as the engine's spectra (audio/spectrum.ts): the audio floor
// cannot import kernels, so the kernels floor hands it down. test/fft-wasm.test.ts holds it to meyda's
// powerSpectrum within 1e-5 of each frame's largest bin.
import { type Engine, getEngine } from '../engine/engine.js';
import { type MelBank, type PowerSpectra, provideSpectra } from '../audio/spectrum.js';

/**
 * The kernel's table for `size`-sample frames, M = size / 2: per stage of half-size h (1, 2, 4, .. M/2)
 * cos and sin of -pi k / h, k < h, then cos and sin of -2 pi k / size, k < M. Evaluated in double, rounded
 * once to float32.
 */
export function fftTwiddles(size: number): Float32Array {
  const m = size / 2;
  const t = new Float32Array(4 * m - 2);
  for (let h = 1; h < m; h *= 2)
    for (let k = 0; k < h; k++) {
      t[h - 1 + k] = Math.cos((-Math.PI * k) / h);
      t[m - 1 + h - 1 + k] = Math.sin((-Math.PI * k) / h);
    }
  for (let k = 0; k < m; k++) {
    t[2 * m - 2 + k] = Math.cos((-2 * Math.PI * k) / size);
    t[3 * m - 2 + k] = Math.sin((-2 * Math.PI * k) / size);
  }
  return t;
}

/**
 * Power spectra on one engine: twiddles, frame and spectrum buffers in its memory (allocated from that
 * engine, whichever is current later), the buffers grown to the largest batch.
 */
export class EngineSpectra implements PowerSpectra {
  private readonly twiddles: number;
  private input = 0;
  private output = 0;
  private capacity = 0;
  /** The engine's copy of the window last given (windows are constant tables: compared by identity). */
  private readonly window: number;
  private windowFrom: Float32Array | null = null;
  /** The engine's copy of the mel bank last given (firstBin, bandStart, weights), likewise, and the energies' buffer. */
  private bank = [0, 0, 0];
  private bankFrom: MelBank | null = null;
  private energies = 0;
  private energiesBytes = 0;
  private computed = 0;

  constructor(
    readonly size: number,
    private readonly engine: Engine = getEngine(),
  ) {
    if (!(size >= 2 && Number.isInteger(Math.log2(size)))) throw new RangeError(`EngineSpectra: size must be a power of two >= 2, got ${size}`);
    const table = fftTwiddles(size);
    this.twiddles = engine.alloc(table.byteLength);
    engine.f32(this.twiddles, table.length).set(table);
    this.window = engine.alloc(size * 4);
  }

  frames(count: number): Float32Array {
    if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`EngineSpectra: frame count must be a positive integer, got ${count}`);
    const { engine, size } = this;
    if (count > this.capacity) {
      if (this.capacity) {
        engine.free(this.input);
        engine.free(this.output);
      }
      this.capacity = Math.max(count, Math.ceil(this.capacity * 1.5));
      this.input = engine.alloc(this.capacity * size * 4);
      this.output = engine.alloc(this.capacity * (size / 2) * 4);
      this.computed = 0;
    }
    return engine.f32(this.input, count * size);
  }

  /** The spectra of the first `count` frames written to frames(); at most the last frames() count. */
  compute(count: number, window?: Float32Array): Float32Array {
    if (!(Number.isInteger(count) && count >= 1 && count <= this.capacity)) throw new RangeError(`EngineSpectra: compute(${count}) after frames() made room for ${this.capacity}`);
    const { engine, size } = this;
    if (window && window !== this.windowFrom) {
      if (window.length !== size) throw new RangeError(`EngineSpectra: a window of ${window.length} values for ${size}-sample frames`);
      engine.f32(this.window, size).set(window);
      this.windowFrom = window;
    }
    engine.kernels.powerSpectra(this.input, this.output, count, size, window ? this.window : 0, this.twiddles, engine.scratch(size * 16));
    this.computed = count;
    return engine.f32(this.output, count * (size / 2));
  }

  /** The mel energies of the frames of the last compute(), by assembly/fft.ts's melFilter. */
  mel(count: number, bank: MelBank): Float64Array {
    if (!(Number.isInteger(count) && count >= 1 && count <= this.computed)) throw new RangeError(`EngineSpectra: mel(${count}) after compute(${this.computed})`);
    const { engine, size } = this;
    const bands = bank.firstBin.length;
    if (bank !== this.bankFrom) {
      if (bank.bandStart.length !== bands + 1 || bank.weights.length !== bank.bandStart[bands])
        throw new RangeError(`EngineSpectra: a mel bank of ${bands} bands needs ${bands + 1} band starts and ${bank.bandStart[bands]} weights`);
      for (let b = 0; b < bands; b++)
        if (bank.firstBin[b] < 0 || bank.firstBin[b] + bank.bandStart[b + 1] - bank.bandStart[b] > size / 2)
          throw new RangeError(`EngineSpectra: mel band ${b} reaches past bin ${size / 2 - 1}`);
      this.bank.forEach((at) => at && engine.free(at));
      this.bank = [bank.firstBin, bank.bandStart, bank.weights].map((table) => {
        const at = engine.alloc(table.byteLength);
        new Uint8Array(engine.memory.buffer, at, table.byteLength).set(new Uint8Array(table.buffer, table.byteOffset, table.byteLength));
        return at;
      });
      this.bankFrom = bank;
    }
    const bytes = count * bands * 8;
    if (bytes > this.energiesBytes) {
      if (this.energies) engine.free(this.energies);
      this.energiesBytes = Math.max(bytes, Math.ceil(this.energiesBytes * 1.5));
      this.energies = engine.alloc(this.energiesBytes);
    }
    const [firstBin, bandStart, weights] = this.bank;
    engine.kernels.melFilter(this.output, count, size / 2, firstBin, bandStart, weights, bands, this.energies);
    return new Float64Array(engine.memory.buffer, this.energies, count * bands);
  }
}

const perEngine = new WeakMap<Engine, Map<number, EngineSpectra>>();

/** The current engine's spectra for `size`, or null before initEngine(). */
export function engineSpectra(size: number): EngineSpectra | null {
  let engine: Engine;
  try {
    engine = getEngine();
  } catch {
    return null; // no engine yet: audio falls back to its TypeScript FFT
  }
  let sizes = perEngine.get(engine);
  if (!sizes) perEngine.set(engine, (sizes = new Map()));
  let spectra = sizes.get(size);
  if (!spectra) sizes.set(size, (spectra = new EngineSpectra(size, engine)));
  return spectra;
}

provideSpectra(engineSpectra);
