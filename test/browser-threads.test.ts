// Engine threads in real headless Chromium ('snn-voice/web-threads'): on a cross-origin isolated page
// createEngine({ threads: 2 }) runs a Web Worker over one shared memory and gives the single thread's
// results, to the bit, for a large GEMM (split in bands of rows) and a batch through TC-ResNet8; on a
// page that is not isolated it falls back to one thread and says why on the console. The browser's
// main thread may not block in Atomics.wait, so the pool spins there: this is where that path runs.
// Chromium as in browser-demo.test.ts; without one the test is skipped.
import { type Server, createServer } from 'node:http';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, expect, it } from 'vitest';
import { findChromium } from './browser-page.js';

const root = resolve(import.meta.dirname, '..');
const chromium = findChromium();
if (!chromium) console.warn('browser-threads.test.ts: skipped: no Chromium found (set CHROMIUM_PATH, or apt-get install chromium; .ci/run installs it)');

let server: Server | null = null;
afterAll(() => new Promise((done) => (server ? server.close(done) : done(undefined))));

/** Serves the page and the bundle; under /isolated/ with the two headers that make a page cross-origin isolated. */
async function serve(bundle: string): Promise<string> {
  const page = '<!doctype html><meta charset="utf-8"><title>threads</title><script src="bundle.js"></script>';
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const isolation = path.startsWith('/isolated/') ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
    if (path.endsWith('/bundle.js')) res.writeHead(200, { 'content-type': 'text/javascript', ...isolation }).end(bundle);
    else if (path.endsWith('/')) res.writeHead(200, { 'content-type': 'text/html', ...isolation }).end(page);
    else res.writeHead(404).end();
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

interface PageResult {
  isolated: boolean;
  unavailable: string | null;
  threads: number;
  gemmSame: boolean;
  logitsSame: boolean;
  logitsFinite: boolean;
  ms: { one: number; two: number };
}

// Runs in the page: the same work on a one-thread and a two-thread engine.
const SCRIPT = `(async () => {
  const s = snnVoice;
  const one = await s.createEngine({ threads: 1 });
  const two = await s.createEngine({ threads: 2 });
  const values = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  const run = (engine) => {
    s.useEngine(engine);
    const a = s.Tensor.from(values(384 * 512, 1), [384, 512]), b = s.Tensor.from(values(512 * 256, 2), [512, 256]);
    const c = s.Tensor.empty([384, 256]);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) s.matmul(a, b, c);
    const ms = (performance.now() - t0) / 5;
    const model = s.createModel('tcresnet8', { classes: 12, seed: 3 });
    model.eval();
    const x = s.Tensor.from(values(16 * 60 * 134, 3), [16, ...model.inputShape]);
    return { gemm: Array.from(c.toArray()), logits: Array.from(model.forward(x).toArray()), ms };
  };
  const r1 = run(one), r2 = run(two);
  const same = (p, q) => p.length === q.length && p.every((v, i) => Object.is(v, q[i]));
  return {
    isolated: globalThis.crossOriginIsolated === true,
    unavailable: s.webThreadsUnavailable(),
    threads: two.threads,
    gemmSame: same(r1.gemm, r2.gemm),
    logitsSame: same(r1.logits, r2.logits),
    logitsFinite: r2.logits.every(Number.isFinite),
    ms: { one: r1.ms, two: r2.ms },
  };
})()`;

it.skipIf(!chromium)('two engine threads in Chromium: Web Workers on an isolated page, the same results; one thread elsewhere, said on the console', { timeout: 120_000 }, async () => {
  const { chromium: playwright } = await import('playwright-core');
  const bundled = await build({
    stdin: { contents: "export * from './src/index.ts';\nexport * from './src/web-threads.ts';", resolveDir: root, loader: 'ts' },
    bundle: true, platform: 'browser', format: 'iife', globalName: 'snnVoice', write: false, logLevel: 'silent',
  });
  const origin = await serve(bundled.outputFiles[0].text);
  const browser = await playwright.launch({ executablePath: chromium!, args: ['--no-sandbox'] });
  try {
    const open = async (path: string) => {
      const page = await browser.newPage();
      const console: string[] = [];
      const errors: string[] = [];
      page.on('console', (m) => console.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(origin + path);
      const result = (await page.evaluate(SCRIPT)) as PageResult;
      return { result, console, errors };
    };

    const isolated = await open('/isolated/');
    expect(isolated.errors).toEqual([]);
    expect(isolated.result).toMatchObject({ isolated: true, unavailable: null, threads: 2, gemmSame: true, logitsSame: true, logitsFinite: true });
    console.log(`browser-threads: GEMM 384x512x256 in Chromium, one thread ${isolated.result.ms.one.toFixed(2)} ms, two ${isolated.result.ms.two.toFixed(2)} ms`);

    const plain = await open('/plain/');
    expect(plain.errors).toEqual([]);
    expect(plain.result).toMatchObject({ isolated: false, threads: 1, gemmSame: true, logitsSame: true });
    expect(plain.result.unavailable).toMatch(/not cross-origin isolated/);
    expect(plain.console.join('\n')).toMatch(/snn-voice: 2 engine threads cannot run here: the page is not cross-origin isolated .*; running one thread/);
  } finally {
    await browser.close();
  }
});
