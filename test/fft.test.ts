// AmplitudeSpectrum is meyda's amplitude spectrum bit for bit (the streaming features rely on it being
// identical to what extractFeatures computes through meyda), on noise, tones, silence and tiny values.
import MeydaModule from 'meyda';
import { describe, expect, it } from 'vitest';
import { AmplitudeSpectrum } from '../src/audio/fft.js';

interface MeydaApi { bufferSize: number; sampleRate: number; windowingFunction: string; extract(f: string, s: Float32Array): unknown }
const Meyda = ((MeydaModule as unknown as { default?: MeydaApi }).default ?? MeydaModule) as unknown as MeydaApi;

function meyda(frame: Float32Array): Float32Array {
  Meyda.bufferSize = frame.length;
  Meyda.windowingFunction = 'rect';
  return Meyda.extract('amplitudeSpectrum', frame) as Float32Array;
}

describe('AmplitudeSpectrum', () => {
  for (const size of [2, 8, 256, 512, 1024]) {
    it(`equals meyda exactly at ${size} points`, () => {
      const fft = new AmplitudeSpectrum(size);
      let s = size;
      const frames = [
        Float32Array.from({ length: size }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5)),
        Float32Array.from({ length: size }, (_, i) => 0.7 * Math.sin(i * 0.3) + 0.2 * Math.cos(i * 2.1)),
        new Float32Array(size),
        Float32Array.from({ length: size }, (_, i) => 1e-20 * Math.sin(i)),
        Float32Array.from({ length: size }, (_, i) => 3e4 * Math.sin(i * 0.01)),
      ];
      for (const frame of frames) expect(new Uint32Array(fft.compute(frame).slice().buffer)).toEqual(new Uint32Array(meyda(frame).slice().buffer));
    });
  }

  it('refuses sizes that are not powers of two', () => {
    expect(() => new AmplitudeSpectrum(500)).toThrow(/power of two/);
  });
});
