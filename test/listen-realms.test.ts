// The recognizer where browsers run it off the page's thread: bundled for the browser (esbuild) and run
// in fresh realms that have none of Node's globals, nor TextDecoder, TextEncoder, atob, fetch, timers or
// performance (AudioWorkletGlobalScope has none of them): as an AudioWorklet processor and as a Web
// Worker's message handler. Each must detect what a Recognizer on the host detects in the same audio.
import { MessageChannel } from 'node:worker_threads';
import vm from 'node:vm';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOGMEL_60x134 } from '../src/audio/settings.js';
import { decodeBase64, initEngine } from '../src/engine/engine.js';
import { simdWasmBase64 } from '../src/engine/wasm-binaries.js';
import { Recognizer, type WordEvent } from '../src/listen/recognizer.js';
import { utf8Decode, utf8Encode } from '../src/listen/text-codec.js';
import { connectRecognizer, serveRecognizer, type RecognizerReply } from '../src/listen/worker.js';
import { serializeModel } from '../src/models/serialize.js';
import { createModel } from '../src/models/zoo.js';
import { testAudio } from './listen-helpers.js';

const CLASSES = ['_silence_', '_unknown_', 'yes', 'no'];
/** Threshold 0: every hop outside the suppression time fires, so each realm yields several events. */
const OPTIONS = { probabilityThreshold: 0, suppressionTimeMillis: 700, smoothing: 2 };
let modelBytes: Uint8Array;
let expected: WordEvent[];
const RATE = 48000;
const audio = testAudio(3.6, RATE, 4);

beforeAll(async () => {
  await initEngine();
  const model = createModel('tcresnet8', { classes: CLASSES.length, seed: 9 });
  modelBytes = serializeModel(model, { classNames: CLASSES, features: LOGMEL_60x134 });
  const r = new Recognizer(model, { classNames: CLASSES, features: LOGMEL_60x134 }, OPTIONS);
  expected = [];
  for (let at = 0; at < audio.length; at += 128) expected.push(...r.push(audio.subarray(at, at + 128), RATE));
  r.dispose();
  model.dispose();
  expect(expected.length).toBeGreaterThanOrEqual(3);
});

async function bundle(contents: string): Promise<string> {
  const out = await build({ stdin: { contents, resolveDir: process.cwd(), loader: 'ts' }, bundle: true, platform: 'browser', format: 'iife', write: false, logLevel: 'silent' });
  return out.outputFiles[0].text;
}

const MISSING = ['TextDecoder', 'TextEncoder', 'atob', 'fetch', 'setTimeout', 'performance', 'process', 'Buffer', 'require'];

async function until<T>(get: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 2000; i++) {
    const v = get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sameEvents(got: WordEvent[]): void {
  expect(got.map((e) => [e.word, e.time])).toEqual(expected.map((e) => [e.word, e.time]));
  got.forEach((e, i) => expect(e.score).toBeCloseTo(expected[i].score, 5));
}

describe('loading without TextDecoder or atob', () => {
  it('decodeBase64 matches Node for every length and the embedded module', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 73 + n * 11) & 255);
      const b64 = Buffer.from(bytes).toString('base64');
      expect(decodeBase64(b64)).toEqual(bytes);
      expect(decodeBase64(b64.replace(/=+$/, ''))).toEqual(bytes);
    }
    expect(decodeBase64(simdWasmBase64)).toEqual(new Uint8Array(Buffer.from(simdWasmBase64, 'base64')));
    expect(() => decodeBase64('ab$d')).toThrow(/invalid character at 2/);
  });

  it('the UTF-8 codecs agree with TextEncoder and TextDecoder', () => {
    const text = 'plain, é, 漢字, 🎤 and a "quoted" \\ header ' + 'x'.repeat(5000);
    expect(utf8Encode(text)).toEqual(new TextEncoder().encode(text));
    expect(utf8Decode(new TextEncoder().encode(text))).toBe(text);
    expect(utf8Encode('\ud800')).toEqual(new TextEncoder().encode('\ud800'));
    expect(utf8Decode(Uint8Array.of(0x61, 0xff, 0x62))).toBe(new TextDecoder().decode(Uint8Array.of(0x61, 0xff, 0x62)));
  });
});

describe('the recognizer in a browser realm', () => {
  it('runs as an AudioWorklet processor', async () => {
    const code = await bundle(`import { registerRecognizerProcessor } from './src/index.ts'; registerRecognizerProcessor('kws');`);
    const posted: RecognizerReply[] = [];
    const registered: Record<string, new (o: unknown) => { process(inputs: unknown): boolean; port: { onmessage: ((e: unknown) => void) | null } }> = {};
    const scope = vm.createContext({
      console,
      sampleRate: RATE,
      registerProcessor: (name: string, cls: never) => (registered[name] = cls),
      post: (m: RecognizerReply) => posted.push(JSON.parse(JSON.stringify(m))),
    });
    // The base class as the browser gives it: a port to the page.
    vm.runInContext(`globalThis.AudioWorkletProcessor = class { constructor() { this.port = { postMessage: (m) => post(m), onmessage: null }; } }`, scope);
    expect(vm.runInContext(`[${MISSING.map((g) => `typeof ${g}`).join(',')}]`, scope)).toEqual(MISSING.map(() => 'undefined'));
    vm.runInContext(code, scope);
    expect(Object.keys(registered)).toEqual(['kws']);
    const copy = vm.runInContext('(bytes) => new Uint8Array(bytes)', scope) as (b: Uint8Array) => Uint8Array;
    const node = new registered.kws({ processorOptions: { model: copy(modelBytes), options: OPTIONS } });
    const ready = await until(() => posted.find((m) => m.type === 'ready'), 'ready');
    expect(ready).toMatchObject({ classNames: CLASSES, windowSeconds: 1 });
    const quantum = vm.runInContext('(n) => new Float32Array(n)', scope) as (n: number) => Float32Array;
    for (let at = 0; at < audio.length; at += 128) {
      const q = quantum(128);
      q.set(audio.subarray(at, at + 128));
      expect(node.process([[q]])).toBe(true);
    }
    expect(posted.filter((m) => m.type === 'error')).toEqual([]);
    sameEvents(posted.flatMap((m) => (m.type === 'word' ? [m.event] : [])));
    node.port.onmessage?.({ data: 'stop' });
    expect(node.process([[quantum(128)]])).toBe(false);
  });

  it('runs as a Web Worker serving messages', async () => {
    const code = await bundle(`import { serveRecognizer } from './src/index.ts'; serveRecognizer(self);`);
    const posted: RecognizerReply[] = [];
    const listeners: Array<(e: { data: unknown }) => void> = [];
    const scope = vm.createContext({ console, post: (m: RecognizerReply) => posted.push(JSON.parse(JSON.stringify(m))) });
    vm.runInContext(`var self = { postMessage: (m) => post(m), addEventListener: (type, f) => listeners.push(f) }; var listeners = [];`, scope);
    expect(vm.runInContext(`[${MISSING.map((g) => `typeof ${g}`).join(',')}]`, scope)).toEqual(MISSING.map(() => 'undefined'));
    vm.runInContext(code, scope);
    listeners.push(...(vm.runInContext('listeners', scope) as typeof listeners));
    // A structured clone lands in the worker's realm: build the messages there.
    const send = vm.runInContext('(m) => { const data = JSON.parse(m.json); if (m.bytes) data.model = new Uint8Array(m.bytes); if (m.samples) data.samples = new Float32Array(m.samples); for (const f of listeners) f({ data }); }', scope) as (m: object) => void;
    send({ json: JSON.stringify({ type: 'init', options: OPTIONS }), bytes: modelBytes });
    // Audio sent before the model is ready is queued, not lost.
    for (let at = 0; at < audio.length; at += 4096) send({ json: JSON.stringify({ type: 'audio', sampleRate: RATE }), samples: audio.subarray(at, at + 4096) });
    await until(() => (posted.filter((m) => m.type === 'word').length >= expected.length ? true : undefined), 'words');
    expect(posted[0]).toMatchObject({ type: 'ready', classNames: CLASSES });
    expect(posted.filter((m) => m.type === 'error')).toEqual([]);
    sameEvents(posted.flatMap((m) => (m.type === 'word' ? [m.event] : [])));
  });

  it('connectRecognizer drives a served recognizer over a MessagePort', async () => {
    const { port1, port2 } = new MessageChannel();
    serveRecognizer(port2 as never);
    const words: WordEvent[] = [];
    const hops: number[] = [];
    const remote = await connectRecognizer(port1 as never, modelBytes, { ...OPTIONS, hops: true, onWord: (e) => words.push(e), onHop: (t) => hops.push(t) });
    expect(remote.classNames).toEqual(CLASSES);
    expect(remote.hopSeconds).toBeCloseTo(0.0975, 9);
    for (let at = 0; at < audio.length; at += 2048) remote.push(audio.subarray(at, at + 2048), RATE);
    await until(() => (words.length >= expected.length ? true : undefined), 'words');
    sameEvents(words);
    expect(hops.length).toBeGreaterThan(20);
    remote.dispose();
    await expect(connectRecognizer(port1 as never, new Uint8Array(8))).rejects.toThrow(/not an snn-voice model file/);
    port1.close();
  });
});
