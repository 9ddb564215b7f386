// Band-limited resampling with a Kaiser-windowed sinc. The filter's cutoff sits below the lower of the two
// Nyquist frequencies, so downsampling (16 kHz -> 4 kHz for M5) removes what would otherwise alias.
// The filter is tabulated once per ratio, one row per output phase, and reused by every clip.

/** Zero crossings of the sinc on each side: the transition band runs from 0.8 to 1.0 of the lower Nyquist
 *  frequency (measured: -0.14 dB at 0.8, -6 dB at 0.9, aliases from 1.05 down 81 dB), at half the cost of 32. */
const ZEROS = 16;
/** Kaiser beta for about 80 dB stop-band attenuation. */
const KAISER_BETA = 7.86;
/** Cutoff as a fraction of the lower Nyquist frequency. */
const ROLLOFF = 0.9;
/** Tables are capped at about 4 MB per ratio; at least 256 phases whatever the filter length. */
const MAX_TABLE = 1 << 20;
const MAX_PHASES = 4096;
/** The highest rate of any common audio format (DXD). A rate above it is a damaged or hostile header,
 *  and the filter's length grows with the ratio of the rates. */
export const MAX_SAMPLE_RATE = 768_000;
/** Filters kept for reuse: a stream of files at ever new rates must not grow memory. */
const MAX_FILTERS = 16;

function besselI0(x: number): number {
  let sum = 1, term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

interface Filter {
  /** Input samples on each side of the centre. */
  half: number;
  /** Taps per phase, row p for the output phase p (see `exact`). */
  table: Float32Array;
  phases: number;
  /** Rational ratio with few phases: phase p is exactly output i with i % phases = p. Otherwise the
   *  fractional input position is rounded to the nearest of `phases` steps: a timing error of at most
   *  1/(2 * phases) input samples, an error amplitude below -60 dB for any tone that passes the filter. */
  exact: boolean;
}

const filters = new Map<string, Filter>();

function tap(x: number, half: number, cutoff: number): number {
  if (Math.abs(x) >= half) return 0;
  const r = x / half;
  const w = besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / besselI0(KAISER_BETA);
  const s = x === 0 ? 1 : Math.sin(Math.PI * cutoff * x) / (Math.PI * cutoff * x);
  return cutoff * s * w;
}

function filterFor(from: number, to: number): Filter {
  const key = `${from}:${to}`;
  let f = filters.get(key);
  if (f) return f;
  // Gain times cutoff: sinc(cutoff * x) has its first zero at 1/cutoff input samples.
  const cutoff = ROLLOFF * Math.min(1, to / from);
  const half = Math.ceil(ZEROS / cutoff);
  const width = 2 * half;
  const limit = Math.max(256, Math.min(MAX_PHASES, Math.floor(MAX_TABLE / width)));
  const exact = to / gcd(from, to) <= limit;
  const phases = exact ? to / gcd(from, to) : limit;
  const table = new Float32Array(phases * width);
  for (let p = 0; p < phases; p++) {
    const frac = exact ? ((p * from) % to) / to : p / phases;
    for (let k = 0; k < width; k++) table[p * width + k] = tap(frac - (k - half + 1), half, cutoff);
  }
  f = { half, table, phases, exact };
  if (filters.size >= MAX_FILTERS) filters.delete(filters.keys().next().value!);
  filters.set(key, f);
  return f;
}

/**
 * Resamples `samples` from `from` Hz to `to` Hz; the output has ceil(n * to / from) samples, or the
 * first `maxLength` of them (the same values), reading only the input those need: a long or low-rate
 * recording costs what its first second costs.
 */
export function resample(samples: Float32Array, from: number, to: number, maxLength = Infinity): Float32Array {
  const rates = { from, to };
  for (const [name, v] of Object.entries(rates))
    if (!Number.isInteger(v) || v <= 0 || v > MAX_SAMPLE_RATE)
      throw new RangeError(`resample: ${name} must be a positive integer sample rate up to ${MAX_SAMPLE_RATE} Hz, got ${v}`);
  if (from === to) return samples.slice(0, maxLength);
  const { half, table, phases, exact } = filterFor(from, to);
  const n = samples.length;
  const out = new Float32Array(Math.min(Math.ceil((n * to) / from), maxLength));
  const width = 2 * half;
  for (let i = 0; i < out.length; i++) {
    // Output sample i sits at input position i * from / to = base + frac.
    const num = i * from;
    let base = Math.floor(num / to);
    let phase: number;
    if (exact) phase = i % phases;
    else {
      phase = Math.round(((num - base * to) / to) * phases);
      if (phase === phases) { phase = 0; base++; }
    }
    const first = base - half + 1;
    const row = phase * width;
    let acc = 0;
    if (first >= 0 && first + width <= n) {
      for (let k = 0; k < width; k++) acc += samples[first + k] * table[row + k];
    } else {
      const lo = Math.max(0, -first), hi = Math.min(width, n - first);
      for (let k = lo; k < hi; k++) acc += samples[first + k] * table[row + k];
    }
    out[i] = acc;
  }
  return out;
}

/**
 * resample() for a stream that arrives in chunks: the output, concatenated over pushes, equals
 * resample() of the whole stream so far, sample for sample, except that an output sample is held back
 * until the `half` input samples after it have arrived (about 1 ms at 16 kHz). Keeps only the input the
 * next outputs need, so memory stays constant however long the stream runs.
 */
export class StreamResampler {
  private readonly filter: Filter | null;
  /** Input not yet fully used; buf[0] is input sample `bufStart` of the stream. */
  private buf = new Float32Array(0);
  private bufLength = 0;
  private bufStart = 0;
  /** The next output sample sits at input position base + rem / to (rem in 0 .. to-1), phase `phase`. */
  private base = 0;
  private rem = 0;
  private phase = 0;
  private out = new Float32Array(0);

  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    for (const [name, v] of Object.entries({ from, to }))
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`StreamResampler: ${name} must be a positive integer sample rate, got ${v}`);
    this.filter = from === to ? null : filterFor(from, to);
  }

  /** The output made available by this chunk: a view valid until the next push or reset. */
  push(chunk: Float32Array): Float32Array {
    if (!this.filter) return chunk;
    const { half, table, phases, exact } = this.filter;
    const width = 2 * half;
    this.append(chunk);
    const end = this.bufStart + this.bufLength;
    const most = Math.ceil(((end - this.base) * this.to) / this.from) + 1;
    if (this.out.length < most) this.out = new Float32Array(Math.max(most, 2 * this.out.length));
    const out = this.out, buf = this.buf;
    let ready = 0;
    for (;;) {
      let base = this.base, phase: number;
      if (exact) phase = this.phase;
      else {
        phase = Math.round((this.rem / this.to) * phases);
        if (phase === phases) { phase = 0; base++; }
      }
      // Held back until its last tap (input base + half) has arrived.
      if (base + half >= end) break;
      const first = base - half + 1;
      const row = phase * width;
      const at = first - this.bufStart;
      let acc = 0;
      // Before the stream's start the input is zero, as in resample(); the taps there are skipped.
      for (let k = Math.max(0, -first); k < width; k++) acc += buf[at + k] * table[row + k];
      out[ready++] = acc;
      this.rem += this.from;
      if (this.rem >= this.to) {
        this.base += Math.floor(this.rem / this.to);
        this.rem %= this.to;
      }
      if (++this.phase === phases) this.phase = 0;
    }
    // Drop the input no later output reaches (the next output's first tap is base - half + 1).
    this.discard(this.base - half + 1);
    return out.subarray(0, ready);
  }

  /** Forgets the stream: the next push starts a new one at time zero. */
  reset(): void {
    this.bufLength = this.bufStart = this.base = this.rem = this.phase = 0;
  }

  private append(chunk: Float32Array): void {
    if (this.bufLength + chunk.length > this.buf.length) {
      const grown = new Float32Array(Math.max(this.bufLength + chunk.length, 2 * this.buf.length));
      grown.set(this.buf.subarray(0, this.bufLength));
      this.buf = grown;
    }
    this.buf.set(chunk, this.bufLength);
    this.bufLength += chunk.length;
  }

  private discard(upTo: number): void {
    const drop = Math.min(this.bufLength, upTo - this.bufStart);
    if (drop <= 0) return;
    this.buf.copyWithin(0, drop, this.bufLength);
    this.bufLength -= drop;
    this.bufStart += drop;
  }
}
