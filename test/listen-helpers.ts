// Shared by the listen tests: deterministic audio with the features' hard cases.

/** Speech-like test audio: bursts of harmonics under an envelope, noise, digital silence, a quiet stretch. */
export function testAudio(seconds: number, rate: number, seed = 1): Float32Array {
  const x = new Float32Array(Math.round(seconds * rate));
  let s = seed;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const t = i / rate, noise = s / 2 ** 32 - 0.5;
    const segment = Math.floor(t / 0.7) % 4;
    const envelope = Math.max(0, Math.sin(Math.PI * ((t / 0.7) % 1)));
    if (segment === 0) x[i] = envelope * (0.4 * Math.sin(2 * Math.PI * 180 * t) + 0.2 * Math.sin(2 * Math.PI * 1260 * t * (1 + 0.1 * t)));
    else if (segment === 1) x[i] = 0.05 * noise;
    else if (segment === 2) x[i] = 0;
    else x[i] = 1e-4 * envelope * Math.sin(2 * Math.PI * 600 * t) + 1e-5 * noise;
  }
  return x;
}
