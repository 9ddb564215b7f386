// The browser demo page (demo/) in real headless Chromium: built with Vite, served on the loopback,
// listening to Chromium's fake microphone, which plays test/fixtures/kws-words.wav (three real spoken
// command words from Speech Commands, CC BY 4.0, between stretches of silence) in a loop. The words must
// be detected in order, one detection each, spaced as in the file, nothing in the silences; then the SNN
// shows its spike raster and an energy estimate made of accumulates.
//
// Chromium: $CHROMIUM_PATH, else /usr/bin/chromium, else `chromium` on the PATH (Debian: apt-get install
// chromium; .ci/run installs it). Without one the test is skipped. Models: $SNN_VOICE_DEMO_MODELS (a
// folder with kws-cnn.snn and kws-snn.snn), else the package's pretrained/, else a CNN trained here
// (about a minute) and its untrained spiking twin.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initEngine, serializeModel, toSpiking } from '../src/index.js';
import { loadModel } from '../src/node.js';
import { findChromium } from './browser-page.js';
import { CLIPS, GAP, timeline } from './fixtures/kws-words.js';

const root = resolve(import.meta.dirname, '..');
const fixture = join(root, 'test/fixtures/kws-words.wav');

const chromium = findChromium();
if (!chromium)
  console.warn('browser-demo.test.ts: skipped: no Chromium found (set CHROMIUM_PATH, or apt-get install chromium; .ci/run installs it)');

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.snn': 'application/octet-stream', '.wasm': 'application/wasm' };

/** Serves `dir` at / and the model files at /models/, on 127.0.0.1 only. */
async function serve(dir: string, models: Record<string, string>): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const file = path.startsWith('/models/') ? models[path.slice('/models/'.length)] : join(dir, path === '/' ? 'index.html' : path);
    if (!file || !file.startsWith(path.startsWith('/models/') ? '/' : dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, origin: `http://127.0.0.1:${address.port}` };
}

/** kws-cnn.snn and kws-snn.snn: from $SNN_VOICE_DEMO_MODELS or pretrained/, else made in `tmp`. */
async function models(tmp: string): Promise<Record<string, string>> {
  for (const dir of [process.env.SNN_VOICE_DEMO_MODELS, join(root, 'pretrained')]) {
    if (!dir) continue;
    const files = { 'kws-cnn.snn': join(dir, 'kws-cnn.snn'), 'kws-snn.snn': join(dir, 'kws-snn.snn') };
    if (Object.values(files).every((f) => existsSync(f))) return files;
  }
  console.warn('browser-demo.test.ts: no pretrained models: training a small CNN without waveform copies (about a minute)');
  const out = join(tmp, 'cnn');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'train', '--model', 'tcresnet8', '--words', 'commands', '--epochs', '6', '--augment', 'spec', '--out', out], { cwd: root });
  await initEngine();
  const { model, meta } = await loadModel(join(out, 'model.snn'));
  const snn = toSpiking(model, { steps: 5 });
  writeFileSync(join(tmp, 'kws-snn.snn'), serializeModel(snn, { classNames: meta.classNames, features: meta.features }));
  return { 'kws-cnn.snn': join(out, 'model.snn'), 'kws-snn.snn': join(tmp, 'kws-snn.snn') };
}

interface DemoState {
  ready: boolean;
  listening: boolean;
  model: string | null;
  error: string | null;
  time: number;
  hops: number;
  events: { word: string; time: number; score: number; model: string }[];
  rasterSpikes: number;
  energy: { macs: number; acs: number; picojoulesPerInference: number; inferencesPerSecond: number; microjoulesPerSecond: number } | null;
}

let tmp = '';
let server: Server | null = null;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'snn-voice-demo-'));
});

afterAll(async () => {
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it.skipIf(!chromium)('the demo page detects real spoken words from the microphone, in order, and nothing in the silence', { timeout: 240_000 }, async () => {
  const { build } = await import('vite');
  const { chromium: playwright } = await import('playwright-core');
  const files = await models(tmp);
  const started = Date.now();
  const dist = join(tmp, 'dist');
  await build({ configFile: join(root, 'demo/vite.config.ts'), logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });
  const served = await serve(dist, files);
  server = served.server;

  const browser = await playwright.launch({
    executablePath: chromium!,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${fixture}`,
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
    ],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${served.origin}/index.html?cnn=/models/kws-cnn.snn&snn=/models/kws-snn.snn`);
    const state = () => page.evaluate(() => (globalThis as unknown as { snnDemo: DemoState }).snnDemo);
    await page.waitForFunction(() => (globalThis as unknown as { snnDemo: DemoState }).snnDemo?.ready, null, { timeout: 30_000 });
    expect((await state()).model).toBe('cnn');
    const classes = await page.locator('#bars .bar').count();
    expect(classes).toBeGreaterThanOrEqual(CLIPS.length);

    // The file loops; any stretch of one loop plus two seconds holds every word whole, and the second
    // after it in which it is detected.
    const { duration } = timeline();
    await page.click('#mic');
    await page.waitForFunction((t) => (globalThis as unknown as { snnDemo: DemoState }).snnDemo.time >= t, duration + 2, { timeout: 60_000, polling: 250 });
    const heard = await state();
    expect(heard.listening).toBe(true);
    expect(heard.error).toBeNull();

    const words: string[] = CLIPS.map((c) => c.word);
    const events = heard.events.filter((e) => e.model === 'cnn');
    const summary = events.map((e) => `${e.time.toFixed(2)}s ${e.word} ${e.score.toFixed(2)}`).join(', ');
    // Every word, and only these words.
    expect(new Set(events.map((e) => e.word)), summary).toEqual(new Set(words));
    for (let i = 1; i < events.length; i++) {
      // In the file's order (cyclically: it loops) ...
      expect(events[i].word, summary).toBe(words[(words.indexOf(events[i - 1].word) + 1) % words.length]);
      // ... one word's length plus a gap apart: a detection in a silence or a second one on a word
      // would break the spacing (the loop's seam may add a little).
      const spacing = events[i].time - events[i - 1].time;
      expect(spacing, summary).toBeGreaterThan(1 + GAP - 1);
      expect(spacing, summary).toBeLessThan(1 + GAP + 1.5);
    }
    // The page shows them: the log holds each detection.
    expect(await page.locator('#log li').count()).toBe(heard.events.length);

    // The CNN's energy: multiply-accumulates only.
    const cnnEnergy = heard.energy!;
    expect(cnnEnergy.macs).toBeGreaterThan(0);
    expect(cnnEnergy.acs).toBe(0);
    expect(cnnEnergy.microjoulesPerSecond).toBeCloseTo((cnnEnergy.macs * 4.6 * cnnEnergy.inferencesPerSecond) / 1e6, 6);
    expect(await page.locator('#energy').textContent()).toMatch(/µJ per second of audio/);

    // The SNN, on the same microphone: a spike raster, and accumulates in the energy estimate.
    await page.selectOption('#model', 'snn');
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as { snnDemo: DemoState }).snnDemo;
      return s.model === 'snn' && s.hops >= 10;
    }, null, { timeout: 30_000, polling: 250 });
    let spikes = 0;
    for (let i = 0; i < 40 && spikes === 0; i++) {
      spikes = (await state()).rasterSpikes;
      if (!spikes) await page.waitForTimeout(250);
    }
    expect(spikes).toBeGreaterThan(0);
    expect(await page.locator('#layer option').count()).toBeGreaterThan(0);
    const canvas = await page.locator('#raster').evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
    expect(canvas[0]).toBeGreaterThan(5);
    expect(canvas[1]).toBeGreaterThan(1);
    const snnEnergy = (await state()).energy!;
    expect(snnEnergy.acs).toBeGreaterThan(0);
    expect(snnEnergy.microjoulesPerSecond).toBeGreaterThan(0);

    await page.click('#mic');
    await page.waitForFunction(() => !(globalThis as unknown as { snnDemo: DemoState }).snnDemo.listening);
    expect(errors).toEqual([]);
    console.log(`browser-demo: ${summary}; SNN ${spikes} spikes in the raster, ${snnEnergy.microjoulesPerSecond.toFixed(1)} µJ/s vs CNN ${cnnEnergy.microjoulesPerSecond.toFixed(1)} µJ/s; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await browser.close();
  }
});
