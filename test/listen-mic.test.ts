// listen() needs a browser to hear anything; here its wiring is checked against stand-ins for the Web
// Audio objects: AudioWorklet first, the ScriptProcessor fallback when the worklet is missing or its
// module fails, what stopListening releases, and the forwarder's own source run as a worklet module.
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type AudioSink } from '../src/listen/listen.js';
import { FORWARDER_NAME, FORWARDER_SOURCE } from '../src/listen/worklet.js';

class FakeNode {
  connected: FakeNode[] = [];
  disconnected = false;
  connect<T extends FakeNode>(node: T): T {
    this.connected.push(node);
    return node;
  }
  disconnect(): void {
    this.disconnected = true;
  }
}

class FakeWorkletNode extends FakeNode {
  static last: FakeWorkletNode | null = null;
  sent: unknown[] = [];
  port = { onmessage: null as ((e: { data: Float32Array }) => void) | null, postMessage: (m: unknown) => this.sent.push(m) };
  constructor(
    readonly context: unknown,
    readonly name: string,
    readonly options: { processorOptions: { chunkSize: number } },
  ) {
    super();
    FakeWorkletNode.last = this;
  }
}

function fakeContext(opts: { worklet: 'ok' | 'fails' | 'missing' }) {
  const modules: string[] = [];
  const processor = Object.assign(new FakeNode(), { onaudioprocess: null as ((e: unknown) => void) | null, size: 0 });
  const ctx = {
    sampleRate: 44100,
    state: 'suspended' as string,
    destination: new FakeNode(),
    source: new FakeNode(),
    processor,
    modules,
    createMediaStreamSource: () => ctx.source,
    createGain: () => Object.assign(new FakeNode(), { gain: { value: 1 } }),
    createScriptProcessor: (size: number) => Object.assign(processor, { size }),
    audioWorklet:
      opts.worklet === 'missing'
        ? undefined
        : {
            addModule: async (url: string) => {
              if (opts.worklet === 'fails') throw new Error('blocked by CSP');
              modules.push(url);
            },
          },
    resume: async () => void (ctx.state = 'running'),
    close: async () => void (ctx.state = 'closed'),
  };
  return ctx;
}

function sink(): AudioSink & { got: Array<[number[], number]> } {
  const got: Array<[number[], number]> = [];
  return { got, push: (samples, rate) => void got.push([Array.from(samples), rate]) };
}

const track = { stopped: false, stop() { this.stopped = true; } };
const stream = { getTracks: () => [track] } as unknown as MediaStream;

describe('listen()', () => {
  (globalThis as Record<string, unknown>).AudioWorkletNode = FakeWorkletNode;
  afterEach(() => {
    FakeWorkletNode.last = null;
    track.stopped = false;
  });

  it('feeds the forwarder worklet into the sink and releases only what it opened', async () => {
    const ctx = fakeContext({ worklet: 'ok' });
    const s = sink();
    const stop = await listen(s, { audioContext: ctx as unknown as AudioContext, stream, chunkSize: 1024 });
    expect(ctx.modules).toHaveLength(1);
    expect(ctx.modules[0]).toMatch(/^blob:/);
    const node = FakeWorkletNode.last!;
    expect(node.name).toBe(FORWARDER_NAME);
    expect(node.options.processorOptions.chunkSize).toBe(1024);
    expect(ctx.source.connected).toEqual([node]);
    expect(ctx.state).toBe('running');
    node.port.onmessage!({ data: Float32Array.of(0.5, -0.25) });
    expect(s.got).toEqual([[[0.5, -0.25], 44100]]);
    await stop();
    await stop();
    expect(node.sent).toEqual(['stop']);
    expect(node.disconnected && ctx.source.disconnected).toBe(true);
    // The context and the stream were the caller's: left open.
    expect(ctx.state).toBe('running');
    expect(track.stopped).toBe(false);
  });

  for (const worklet of ['missing', 'fails'] as const) {
    it(`falls back to a ScriptProcessor when the worklet is ${worklet}, handing over copies`, async () => {
      const ctx = fakeContext({ worklet });
      const s = sink();
      const stop = await listen(s, { audioContext: ctx as unknown as AudioContext, stream });
      expect(FakeWorkletNode.last).toBe(null);
      expect(ctx.processor.size).toBe(2048);
      const reused = Float32Array.of(0.1, 0.2);
      ctx.processor.onaudioprocess!({ inputBuffer: { getChannelData: () => reused } });
      reused[0] = 9;
      expect(s.got[0][0][0]).toBeCloseTo(0.1, 6);
      await stop();
      expect(ctx.processor.disconnected).toBe(true);
    });
  }

  it('reports a sink that throws, and checks chunkSize', async () => {
    const ctx = fakeContext({ worklet: 'ok' });
    const errors: unknown[] = [];
    const stop = await listen({ push: () => { throw new Error('bad'); } }, { audioContext: ctx as unknown as AudioContext, stream, onError: (e) => errors.push(e) });
    FakeWorkletNode.last!.port.onmessage!({ data: new Float32Array(4) });
    expect(String(errors[0])).toMatch(/bad/);
    await stop();
    await expect(listen(sink(), { audioContext: ctx as unknown as AudioContext, stream, chunkSize: 1000 })).rejects.toThrow(/power of two/);
  });
});

describe('the forwarder worklet module', () => {
  it('posts chunks of mono audio (channels averaged) and stops when told', () => {
    const posted: Float32Array[] = [];
    const registered: Record<string, new (o: unknown) => { process(i: unknown): boolean; port: { onmessage: (e: unknown) => void } }> = {};
    const scope = vm.createContext({ post: (m: Float32Array) => posted.push(Float32Array.from(m)), registerProcessor: (n: string, c: never) => (registered[n] = c) });
    vm.runInContext('globalThis.AudioWorkletProcessor = class { constructor() { this.port = { postMessage: (m) => post(m) }; } }', scope);
    vm.runInContext(FORWARDER_SOURCE, scope);
    const node = new registered[FORWARDER_NAME]({ processorOptions: { chunkSize: 256 } });
    for (let q = 0; q < 5; q++) {
      const left = Float32Array.from({ length: 128 }, (_, i) => q * 128 + i);
      const right = left.map((v) => -v + 2);
      expect(node.process([[left, right]])).toBe(true);
    }
    expect(posted.map((p) => p.length)).toEqual([256, 256]);
    expect(Array.from(posted[1].subarray(0, 3))).toEqual([1, 1, 1]);
    node.port.onmessage({ data: 'stop' });
    expect(node.process([[]])).toBe(false);
  });
});
