// Band-limited resampling with a Kaiser-windowed sinc. The filter's cutoff sits below the lower of the two
// Nyquist frequencies, so downsampling (16 kHz -> 4 kHz for M5) removes what would otherwise alias.
// For rational ratios the filter is tabulated once per phase and reused.

/** Zero crossings of the sinc on each side: sets the transition band's width (about 16% of Nyquist). */
const ZEROS = 32;
/** Kaiser beta for about 80 dB stop-band attenuation. */
const KAISER_BETA = 7.86;
/** Cutoff as a fraction of the lower Nyquist frequency. */
const ROLLOFF = 0.9;
const MAX_PHASES = 4096;

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
  /** Gain times cutoff: sinc(cutoff * x) has its first zero at 1/cutoff input samples. */
  cutoff: number;
  /** Taps per phase, phase p at offset p / phases of an input sample; null when the ratio is irrational-ish. */
  table: Float32Array | null;
  phases: number;
}

const filters = new Map<string, Filter>();

function tap(x: number, f: Pick<Filter, 'half' | 'cutoff'>): number {
  if (Math.abs(x) >= f.half) return 0;
  const r = x / f.half;
  const w = besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / besselI0(KAISER_BETA);
  const s = x === 0 ? 1 : Math.sin(Math.PI * f.cutoff * x) / (Math.PI * f.cutoff * x);
  return f.cutoff * s * w;
}

function filterFor(from: number, to: number): Filter {
  const key = `${from}:${to}`;
  let f = filters.get(key);
  if (f) return f;
  const cutoff = ROLLOFF * Math.min(1, to / from);
  const half = Math.ceil(ZEROS / cutoff);
  const phases = to / gcd(from, to);
  let table: Float32Array | null = null;
  if (phases <= MAX_PHASES) {
    const width = 2 * half;
    table = new Float32Array(phases * width);
    for (let p = 0; p < phases; p++) {
      const frac = ((p * from) % to) / to;
      for (let k = 0; k < width; k++) table[p * width + k] = tap(frac - (k - half + 1), { half, cutoff });
    }
  }
  f = { half, cutoff, table, phases };
  filters.set(key, f);
  return f;
}

/** Resamples `samples` from `from` Hz to `to` Hz; the output has ceil(n * to / from) samples. */
export function resample(samples: Float32Array, from: number, to: number): Float32Array {
  for (const [name, v] of [['from', from], ['to', to]] as const)
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`resample: ${name} must be a positive integer sample rate, got ${v}`);
  if (from === to) return samples.slice();
  const f = filterFor(from, to);
  const n = samples.length;
  const out = new Float32Array(Math.ceil((n * to) / from));
  const width = 2 * f.half, half = f.half, table = f.table, phases = f.phases;
  for (let i = 0; i < out.length; i++) {
    // Output sample i sits at input position i * from / to = base + frac.
    const num = i * from;
    const first = Math.floor(num / to) - half + 1;
    let acc = 0;
    if (table) {
      const row = (i % phases) * width;
      if (first >= 0 && first + width <= n) {
        for (let k = 0; k < width; k++) acc += samples[first + k] * table[row + k];
      } else {
        const lo = Math.max(0, -first), hi = Math.min(width, n - first);
        for (let k = lo; k < hi; k++) acc += samples[first + k] * table[row + k];
      }
    } else {
      const frac = (num % to) / to;
      for (let k = 0; k < width; k++) {
        const j = first + k;
        if (j >= 0 && j < n) acc += samples[j] * tap(frac - (k - half + 1), f);
      }
    }
    out[i] = acc;
  }
  return out;
}
