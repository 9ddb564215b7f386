// WAV decoding against files written here with known content, and clear errors for broken files.
import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, type WavBitDepth } from '../src/audio/wav.js';

const sine = (n: number, rate: number, hz: number, amp = 0.5) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

/** A WAV built by hand (not by encodeWav), so the decoder is not only checked against its own writer. */
function handWav(opts: { format: number; bits: number; channels: number; rate: number; frames: number[][]; extensible?: boolean }): Uint8Array {
  const bps = opts.bits / 8;
  const fmtSize = opts.extensible ? 40 : 16;
  const dataBytes = opts.frames.length * opts.channels * bps;
  const out = new Uint8Array(12 + 8 + fmtSize + 8 + 6 + 8 + dataBytes); // includes a 6-byte LIST chunk to skip
  const v = new DataView(out.buffer);
  const tag = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  tag(0, 'RIFF'); v.setUint32(4, out.length - 8, true); tag(8, 'WAVE');
  tag(12, 'fmt '); v.setUint32(16, fmtSize, true);
  v.setUint16(20, opts.extensible ? 0xfffe : opts.format, true); v.setUint16(22, opts.channels, true);
  v.setUint32(24, opts.rate, true); v.setUint32(28, opts.rate * bps * opts.channels, true);
  v.setUint16(32, bps * opts.channels, true); v.setUint16(34, opts.bits, true);
  if (opts.extensible) { v.setUint16(36, 22, true); v.setUint16(38, opts.bits, true); v.setUint16(44, opts.format, true); }
  let at = 20 + fmtSize;
  tag(at, 'LIST'); v.setUint32(at + 4, 6, true); at += 14;
  tag(at, 'data'); v.setUint32(at + 4, dataBytes, true); at += 8;
  for (const frame of opts.frames)
    for (const x of frame) {
      if (opts.format === 3) { opts.bits === 32 ? v.setFloat32(at, x, true) : v.setFloat64(at, x, true); }
      else if (opts.bits === 8) v.setUint8(at, Math.round(x * 128) + 128);
      else if (opts.bits === 16) v.setInt16(at, Math.round(x * 32768), true);
      else if (opts.bits === 24) { const i = Math.round(x * 8388608); v.setUint8(at, i & 255); v.setUint8(at + 1, (i >> 8) & 255); v.setInt8(at + 2, i >> 16); }
      else v.setInt32(at, Math.round(x * 2147483648), true);
      at += bps;
    }
  return out;
}

describe('decodeWav', () => {
  const values = [0, 0.5, -0.5, 0.25, -0.75, 0.125];
  for (const [format, bits, tol] of [[1, 8, 1 / 128], [1, 16, 1 / 32768], [1, 24, 1e-6], [1, 32, 1e-7], [3, 32, 0], [3, 64, 0]] as const) {
    it(`reads ${format === 3 ? 'float' : 'PCM'} ${bits}-bit, plain and extensible, skipping unknown chunks`, () => {
      for (const extensible of [false, true]) {
        const wav = handWav({ format, bits, channels: 1, rate: 8000, frames: values.map((x) => [x]), extensible });
        const { samples, sampleRate } = decodeWav(wav, 'hand.wav');
        expect(sampleRate).toBe(8000);
        expect(samples.length).toBe(values.length);
        values.forEach((x, i) => expect(Math.abs(samples[i] - x)).toBeLessThanOrEqual(tol + 1e-9));
      }
    });
  }

  it('mixes stereo to mono and keeps the sample rate', () => {
    const wav = handWav({ format: 1, bits: 16, channels: 2, rate: 44100, frames: [[0.5, 0], [0.25, 0.25], [-1, 0.5]] });
    const { samples, sampleRate } = decodeWav(wav);
    expect(sampleRate).toBe(44100);
    expect(Array.from(samples)).toEqual([0.25, 0.25, -0.25]);
  });

  it('round-trips encodeWav at every depth (sine and silence)', () => {
    const x = sine(1000, 16000, 440);
    for (const depth of [8, 16, 24, 32, '32f'] as WavBitDepth[]) {
      const back = decodeWav(encodeWav(x, 16000, depth)).samples;
      const tol = depth === 8 ? 1 / 100 : depth === 16 ? 1e-4 : 1e-6;
      for (let i = 0; i < x.length; i++) expect(Math.abs(back[i] - x[i])).toBeLessThan(tol);
      expect(Array.from(decodeWav(encodeWav(new Float32Array(10), 16000, depth)).samples)).toEqual(new Array(10).fill(0));
    }
  });

  it('names the file in errors for truncated, foreign and unsupported data', () => {
    const good = encodeWav(sine(100, 16000, 440), 16000);
    expect(() => decodeWav(good.subarray(0, 60), 'cut.wav')).toThrow(/cut\.wav: is truncated/);
    expect(() => decodeWav(good.subarray(0, 30), 'head.wav')).toThrow(/head\.wav: .*(fmt|data)/);
    expect(() => decodeWav(new TextEncoder().encode('ID3 this is an mp3 file, not a wav'), 'song.mp3')).toThrow(/song\.mp3: is not a WAV file/);
    const alaw = handWav({ format: 6, bits: 8, channels: 1, rate: 8000, frames: [[0]] });
    expect(() => decodeWav(alaw, 'alaw.wav')).toThrow(/alaw\.wav: uses an unsupported encoding \(format 6/);
    expect(() => encodeWav(Float32Array.of(0, NaN), 16000)).toThrow(/sample 1 is NaN/);
  });
});
