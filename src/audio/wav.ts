// WAV (RIFF/WAVE) reading and writing. A small parser of our own rather than a library: it must run in
// browsers without Node's Buffer, and decoding straight into one mono Float32Array avoids the
// per-channel copies general-purpose readers make.
import { MAX_SAMPLE_RATE } from './resample.js';

export class WavError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'WavError';
  }
}

export interface DecodedAudio {
  /** Mono samples in [-1, 1]; channels are averaged. */
  samples: Float32Array;
  sampleRate: number;
}

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;

function tag(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

export function decodeWav(bytes: Uint8Array, source = 'WAV data'): DecodedAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || tag(view, 0) !== 'RIFF' || tag(view, 8) !== 'WAVE')
    throw new WavError(source, 'is not a WAV file (no RIFF/WAVE header)');
  let format = -1, channels = 0, sampleRate = 0, bits = 0, blockAlign = 0;
  let dataAt = -1, dataBytes = 0;
  // Chunks may come in any order (fmt after data happens), so the walk goes on past the data chunk.
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = tag(view, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new WavError(source, 'has a truncated fmt chunk');
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
      blockAlign = view.getUint16(body + 12, true);
      bits = view.getUint16(body + 14, true);
      if (format === EXTENSIBLE) {
        if (size < 40 || body + 26 > bytes.length) throw new WavError(source, 'has a truncated extensible fmt chunk');
        format = view.getUint16(body + 24, true); // the sub-format GUID starts with the plain format code
      }
    } else if (id === 'data' && dataAt < 0) {
      dataAt = body;
      // A recorder that streams writes the placeholder size 0xFFFFFFFF and never patches it: the
      // audio runs to the end of the file.
      const streamed = size === 0xffffffff;
      if (streamed) dataBytes = bytes.length - body;
      else if (size > bytes.length - body) {
        // A data chunk that claims more than the file holds: a cut-off download or copy.
        if (bytes.length - body === 0) throw new WavError(source, 'is truncated (data chunk cut off)');
        throw new WavError(source, `is truncated: the data chunk declares ${size} bytes, the file holds ${bytes.length - body}`);
      } else dataBytes = size;
      if (streamed || format >= 0) break;
      at = body + size + (size & 1);
      continue;
    }
    at = body + size + (size & 1);
  }
  if (format < 0) throw new WavError(source, 'has no fmt chunk');
  if (dataAt < 0) throw new WavError(source, 'has no data chunk');
  if (channels < 1) throw new WavError(source, `declares ${channels} channels`);
  if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE)
    throw new WavError(source, `declares a sample rate of ${sampleRate} Hz; rates from 1 Hz to ${MAX_SAMPLE_RATE} Hz are read`);
  const bytesPerSample = bits / 8;
  const supported = (format === PCM && [8, 16, 24, 32].includes(bits)) || (format === IEEE_FLOAT && (bits === 32 || bits === 64));
  if (!supported) throw new WavError(source, `uses an unsupported encoding (format ${format}, ${bits} bits); PCM 8/16/24/32-bit and float 32/64 are read`);
  if (blockAlign !== bytesPerSample * channels) throw new WavError(source, `has block align ${blockAlign}, expected ${bytesPerSample * channels}`);

  const frames = Math.floor(dataBytes / blockAlign);
  if (frames === 0) throw new WavError(source, 'holds no samples (its data chunk is empty)');
  const samples = new Float32Array(frames);
  const read = sampleReader(view, format, bits);
  const scale = 1 / channels;
  for (let f = 0, at = dataAt; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, at += bytesPerSample) sum += read(at);
    samples[f] = sum * scale;
    // Only float encodings can hold these; one would poison every feature of the clip.
    if (!Number.isFinite(samples[f])) throw new WavError(source, `holds a non-finite sample (${samples[f]}) at frame ${f}`);
  }
  return { samples, sampleRate };
}

function sampleReader(view: DataView, format: number, bits: number): (at: number) => number {
  if (format === IEEE_FLOAT) return bits === 32 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  switch (bits) {
    case 8: return (at) => (view.getUint8(at) - 128) / 128; // 8-bit WAV is unsigned
    case 16: return (at) => view.getInt16(at, true) / 32768;
    case 24: return (at) => ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16))) / 8388608;
    default: return (at) => view.getInt32(at, true) / 2147483648;
  }
}

export type WavBitDepth = 8 | 16 | 24 | 32 | '32f';

/** Mono WAV bytes. Integer depths round and clip to the representable range. */
export function encodeWav(samples: Float32Array, sampleRate: number, bitDepth: WavBitDepth = 16): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new RangeError(`encodeWav: sample rate must be a positive integer, got ${sampleRate}`);
  const float = bitDepth === '32f';
  const bits = float ? 32 : bitDepth;
  if (![8, 16, 24, 32].includes(bits)) throw new RangeError(`encodeWav: bit depth must be 8, 16, 24, 32 or '32f', got ${String(bitDepth)}`);
  const bad = samples.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`encodeWav: sample ${bad} is ${samples[bad]}`);
  const bps = bits / 8;
  const bytes = new Uint8Array(44 + samples.length * bps);
  const view = new DataView(bytes.buffer);
  const writeTag = (at: number, s: string) => { for (let i = 0; i < 4; i++) view.setUint8(at + i, s.charCodeAt(i)); };
  writeTag(0, 'RIFF');
  view.setUint32(4, bytes.length - 8, true);
  writeTag(8, 'WAVE');
  writeTag(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, float ? IEEE_FLOAT : PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * bps, true);
  view.setUint16(32, bps, true);
  view.setUint16(34, bits, true);
  writeTag(36, 'data');
  view.setUint32(40, samples.length * bps, true);
  const clip = (x: number, max: number) => Math.max(-max - 1, Math.min(max, Math.round(x * (max + 1))));
  for (let i = 0, at = 44; i < samples.length; i++, at += bps) {
    const x = samples[i];
    if (float) view.setFloat32(at, x, true);
    else if (bits === 8) view.setUint8(at, clip(x, 127) + 128);
    else if (bits === 16) view.setInt16(at, clip(x, 32767), true);
    else if (bits === 24) {
      const v = clip(x, 8388607);
      view.setUint8(at, v & 0xff);
      view.setUint8(at + 1, (v >> 8) & 0xff);
      view.setInt8(at + 2, v >> 16);
    } else view.setInt32(at, clip(x, 2147483647), true);
  }
  return bytes;
}
