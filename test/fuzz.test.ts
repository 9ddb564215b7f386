// Bad input never hangs, leaks or lies: generated damaged WAV and model files, each answered within a
// second, either decoded into finite features or refused with an error that names the file. The cases
// come from a fixed seed in CI; FUZZ_CASES=n FUZZ_SEED=s run more (e.g. FUZZ_CASES=5000 npx vitest run test/fuzz.test.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures } from '../src/audio/features.js';
import { encodeWav, decodeWav, type WavBitDepth } from '../src/audio/wav.js';
import { initEngine } from '../src/engine/engine.js';
import { deserializeModel, serializeModel, type ModelMeta } from '../src/models/serialize.js';
import { createModel, featuresFor } from '../src/models/zoo.js';
import { crc32 } from '../src/util/crc32.js';
import { Rng } from '../src/util/rng.js';

const CASES = Number(process.env.FUZZ_CASES ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const SECOND = 1000;

/** Runs `f` on a bad input: it must finish within a second and either return or throw naming `name`. */
function answers(name: string, f: () => void): 'ok' | 'refused' {
  const started = performance.now();
  let outcome: 'ok' | 'refused' = 'ok';
  try {
    f();
  } catch (e) {
    expect((e as Error).message, `${name}: ${(e as Error).message}`).toContain(name);
    outcome = 'refused';
  }
  expect(performance.now() - started, `${name} took too long`).toBeLessThan(SECOND);
  return outcome;
}

function tone(n: number, rate: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));
}

/** A copy with the u32 at `at` set, as a header field lies. */
function withU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const b = bytes.slice();
  new DataView(b.buffer).setUint32(at, value >>> 0, true);
  return b;
}

function withU16(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const b = bytes.slice();
  new DataView(b.buffer).setUint16(at, value, true);
  return b;
}

describe('WAV files', () => {
  const settings = featuresFor('hjh');
  const decodeAndFeaturize = (bytes: Uint8Array, name: string) => () => {
    const { samples, sampleRate } = decodeWav(bytes, name);
    const x = extractFeatures(samples, sampleRate, settings);
    expect(x.every(Number.isFinite)).toBe(true);
  };

  it('absurd header fields are refused or bounded, never a hang or a blow-up', () => {
    const good = encodeWav(tone(16000, 16000), 16000, 16);
    // fmt chunk at 12: id, size, then format @20, channels @22, rate @24, byte rate @28, align @32, bits @34.
    const cases: [string, Uint8Array, 'ok' | 'refused'][] = [
      ['rate-max.wav', withU32(good, 24, 0xffffffff), 'refused'],
      ['rate-400mhz.wav', withU32(good, 24, 400_000_000), 'refused'],
      ['rate-zero.wav', withU32(good, 24, 0), 'refused'],
      ['rate-1hz.wav', withU32(good, 24, 1), 'ok'],
      ['channels-zero.wav', withU16(good, 22, 0), 'refused'],
      ['channels-many.wav', withU16(good, 22, 65535), 'refused'],
      ['bits-12.wav', withU16(good, 34, 12), 'refused'],
      ['align-zero.wav', withU16(good, 32, 0), 'refused'],
      ['data-streamed.wav', withU32(good, 40, 0xffffffff), 'ok'],
      ['data-huge.wav', withU32(good, 40, 0x7fffffff), 'refused'],
      ['data-empty.wav', withU32(good.subarray(0, 44), 40, 0), 'refused'],
      ['riff-only.wav', good.subarray(0, 12), 'refused'],
    ];
    for (const [name, bytes, expected] of cases) expect(answers(name, decodeAndFeaturize(bytes, name)), name).toBe(expected);
  });

  it('a 1 Hz file of a million samples costs what one second costs', () => {
    const long = encodeWav(new Float32Array(1_000_000).fill(0.25), 1, 16);
    expect(answers('slow.wav', decodeAndFeaturize(long, 'slow.wav'))).toBe('ok');
  });

  it('the fmt chunk after the data chunk is read; a non-finite float sample is refused, naming the file', () => {
    const good = encodeWav(tone(800, 16000), 16000, 16);
    const fmt = good.subarray(12, 36);
    const data = good.subarray(36);
    const swapped = new Uint8Array(good.length);
    swapped.set(good.subarray(0, 12));
    swapped.set(data, 12);
    swapped.set(fmt, 12 + data.length);
    expect(Array.from(decodeWav(swapped, 'swapped.wav').samples)).toEqual(Array.from(decodeWav(good, 'good.wav').samples));
    const f32 = encodeWav(tone(800, 16000), 16000, '32f');
    new DataView(f32.buffer).setFloat32(44 + 4 * 100, Number.NaN, true);
    expect(() => decodeWav(f32, 'nan.wav')).toThrow(/nan.wav: holds a non-finite sample \(NaN\) at frame 100/);
  });

  it(`${CASES} truncations and bit flips of every encoding (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    const depths: WavBitDepth[] = [8, 16, 24, 32, '32f'];
    const outcomes = { ok: 0, refused: 0 };
    for (let c = 0; c < CASES; c++) {
      const depth = rng.pick(depths);
      const rate = rng.pick([8000, 16000, 22050, 44100]);
      const bytes = encodeWav(tone(200 + Math.floor(rng.next() * 4000), rate), rate, depth).slice();
      const name = `case${c}-${depth}.wav`;
      let bad: Uint8Array = bytes;
      if (rng.next() < 0.4) bad = bytes.subarray(0, Math.floor(rng.next() * bytes.length));
      else for (let k = 0, flips = 1 + Math.floor(rng.next() * 8); k < flips; k++) {
        // Mostly the header: that is where one flipped bit changes what the parser does.
        const at = rng.next() < 0.7 ? Math.floor(rng.next() * 48) : Math.floor(rng.next() * bytes.length);
        bytes[at] ^= 1 << Math.floor(rng.next() * 8);
      }
      outcomes[answers(name, decodeAndFeaturize(bad, name))]++;
    }
    expect(outcomes.ok + outcomes.refused).toBe(CASES);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

describe('model files', () => {
  beforeAll(async () => {
    await initEngine();
  });

  const meta = (): ModelMeta => ({ classNames: ['a', 'b', 'c', 'd'], features: featuresFor('tcy') });
  const good = (): Uint8Array => {
    const m = createModel('tcy', { classes: 4 });
    const bytes = serializeModel(m, meta());
    m.dispose();
    return bytes;
  };

  /** The file with its header JSON replaced (and everything after it kept), its checksum right. */
  function withHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => unknown): Uint8Array {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const length = view.getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
    const edited = edit(header);
    const json = new TextEncoder().encode(JSON.stringify(edited === undefined ? header : edited));
    const oldStart = (12 + length + 3) & ~3;
    const newStart = (12 + json.length + 3) & ~3;
    const out = new Uint8Array(newStart + (bytes.length - oldStart));
    out.set(bytes.subarray(0, 12));
    new DataView(out.buffer).setUint32(8, json.length, true);
    out.set(json, 12);
    out.set(bytes.subarray(oldStart), newStart);
    return fixCrc(out);
  }

  function fixCrc(b: Uint8Array): Uint8Array {
    new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
    return b;
  }

  it('absurd or missing header fields, NaN weights: refused with the file name', () => {
    const bytes = good();
    const cases: [string, Uint8Array, RegExp][] = [
      ['no-config.snn', withHeader(bytes, (h) => ({ ...h, config: undefined })), /no model settings/],
      ['no-meta.snn', withHeader(bytes, (h) => ({ ...h, meta: undefined })), /no class names/],
      ['null-header.snn', withHeader(bytes, () => null), /no header object/],
      ['huge-classes.snn', withHeader(bytes, (h) => { (h.config as Record<string, unknown>).classes = 1e9; }), /1000000000 classes/],
      ['long-clip.snn', withHeader(bytes, (h) => { ((h.meta as ModelMeta).features as { length: number }).length = 5e8; }), /feature settings/],
      ['wrong-features.snn', withHeader(bytes, (h) => { (h.meta as ModelMeta).features = featuresFor('m5'); }), /feature settings give \[1,4000\]/],
      ['names.snn', withHeader(bytes, (h) => { (h.meta as ModelMeta).classNames = ['a']; }), /names 1 classes for a model of 4/],
      ['unknown-model.snn', withHeader(bytes, (h) => { (h.config as Record<string, unknown>).name = 'resnet'; }), /cannot build/],
      ['nan.snn', (() => { const b = bytes.slice(); new DataView(b.buffer).setUint32(b.length - 8, 0x7fc00000, true); return fixCrc(b); })(), /holds NaN/],
    ];
    for (const [name, data, message] of cases) {
      expect(answers(name, () => deserializeModel(data, name)), name).toBe('refused');
      expect(() => deserializeModel(data, name), name).toThrow(message);
    }
  });

  it(`${CASES} truncations and bit flips, the checksum fixed or not (seed ${SEED})`, () => {
    const rng = new Rng(SEED + 1);
    const bytes = good();
    const headerEnd = 12 + new DataView(bytes.buffer).getUint32(8, true);
    for (let c = 0; c < CASES; c++) {
      const name = `model${c}.snn`;
      let bad = bytes.slice();
      if (rng.next() < 0.3) bad = bad.subarray(0, Math.floor(rng.next() * bad.length));
      else {
        for (let k = 0, flips = 1 + Math.floor(rng.next() * 4); k < flips; k++) {
          const at = rng.next() < 0.8 ? Math.floor(rng.next() * headerEnd) : Math.floor(rng.next() * bad.length);
          bad[at] ^= 1 << Math.floor(rng.next() * 8);
        }
        // With the checksum made right, the damage reaches the parser instead of the checksum.
        if (rng.next() < 0.7) fixCrc(bad);
      }
      answers(name, () => deserializeModel(bad, name).model.dispose());
    }
  });
});

describe('model inputs', () => {
  beforeAll(async () => {
    await initEngine();
  });

  it('a non-finite input value is refused, naming the sample, CNN and SNN alike', async () => {
    const { Tensor } = await import('../src/engine/tensor.js');
    for (const spiking of [false, true]) {
      const m = createModel('tcy', { classes: 3, spiking, steps: 2 });
      const x = Tensor.zeros([2, ...m.inputShape]);
      x.f32[x.size - 1] = Number.NaN;
      expect(() => m.forward(x)).toThrow(/tcy: input value \d+ \(sample 1\) is NaN/);
      x.free();
      m.dispose();
    }
  });
});
