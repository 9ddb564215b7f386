// `snn-voice listen`: a WAV streamed through the recognizer prints the detections an in-process
// Recognizer finds in the same audio (text and --json); raw 16-bit PCM on stdin, whatever its byte
// boundaries, is the same audio.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGMEL_60x134 } from '../src/audio/settings.js';
import { decodeWav, encodeWav } from '../src/audio/wav.js';
import { pcm16Chunks } from '../src/cli/listen.js';
import { run } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { initEngine } from '../src/engine/engine.js';
import { Recognizer, type WordEvent } from '../src/listen/recognizer.js';
import { saveModel } from '../src/models/file-node.js';
import { createModel } from '../src/models/zoo.js';
import { silentProgress } from '../src/util/progress.js';
import { testAudio } from './listen-helpers.js';

const CLASSES = ['_silence_', '_unknown_', 'yes', 'no'];
const RATE = 22050;
let dir: string, modelFile: string, wavFile: string, expected: WordEvent[], pcm: Uint8Array;

async function cli(...argv: string[]) {
  let out = '', err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), progress: silentProgress };
  return { code: await run(argv, io), out, err };
}

beforeAll(async () => {
  await initEngine();
  dir = mkdtempSync(join(tmpdir(), 'snn-listen-'));
  const model = createModel('tcresnet8', { classes: CLASSES.length, seed: 4 });
  modelFile = join(dir, 'model.snn');
  await saveModel(modelFile, model, { classNames: CLASSES, features: LOGMEL_60x134 });
  wavFile = join(dir, 'long.wav');
  const bytes = encodeWav(testAudio(4.2, RATE, 6), RATE, 16);
  writeFileSync(wavFile, bytes);
  const { samples } = decodeWav(bytes);
  pcm = new Uint8Array(samples.length * 2);
  const view = new DataView(pcm.buffer);
  samples.forEach((v, i) => view.setInt16(2 * i, Math.round(v * 32768), true));
  const r = new Recognizer(model, { classNames: CLASSES, features: LOGMEL_60x134 }, { probabilityThreshold: 0, suppressionTimeMillis: 700 });
  expected = r.push(samples, RATE).slice();
  r.dispose();
  model.dispose();
  expect(expected.length).toBeGreaterThanOrEqual(3);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('snn-voice listen', () => {
  it('prints one line per detection with its time', async () => {
    const { code, out, err } = await cli('listen', '--model', modelFile, wavFile, '--threshold', '0', '--suppression', '700');
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^\\s*${expected[i].time.toFixed(2)}s\\s+${expected[i].word}\\s+\\d\\.\\d{3}$`)));
    expect(err).toMatch(new RegExp(`${expected.length} detections in 4\\.\\d s of audio at 22050 Hz \\(hop 97\\.5 ms\\); .*% of one core`));
  });

  it('--json gives a JSON object per line with the probabilities by class', async () => {
    const { out } = await cli('listen', '--model', modelFile, wavFile, '--threshold', '0', '--suppression', '700', '--json', '--chunk', '333');
    const events = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.word, e.time])).toEqual(expected.map((e) => [e.word, +e.time.toFixed(4)]));
    expect(Object.keys(events[0].probabilities)).toEqual(CLASSES);
  });

  it('checks its options and files', async () => {
    expect((await cli('listen', '--model', join(dir, 'missing.snn'), wavFile)).err).toMatch(/missing\.snn/);
    expect((await cli('listen', '--model', modelFile, wavFile, '--overlap', '1')).err).toMatch(/--overlap must be a number from 0 to 0.999/);
    expect((await cli('listen', '--model', modelFile, join(dir, 'nope.wav'))).err).toMatch(/nope\.wav/);
  });

  it('reads 16-bit PCM split at any byte', async () => {
    async function* split(bytes: Uint8Array, sizes: number[]) {
      for (let at = 0, i = 0; at < bytes.length; ) {
        const n = sizes[i++ % sizes.length];
        yield bytes.subarray(at, at + n);
        at += n;
      }
    }
    const bytes = Uint8Array.of(0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f, 0x34, 0x12);
    const want = [1, -1, -32768, 32767, 0x1234].map((v) => v / 32768);
    for (const sizes of [[1], [3], [2, 1, 0, 4], [10]]) {
      const got: number[] = [];
      for await (const c of pcm16Chunks(split(bytes, sizes), 16000)) got.push(...c.samples);
      expect(got).toEqual(want);
    }
  });

  it('listens to raw PCM on stdin (-) at --rate', async () => {
    const child = promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', 'listen', '--model', modelFile, '-', '--rate', String(RATE), '--threshold', '0', '--suppression', '700', '--json'], { encoding: 'utf8' });
    child.child.stdin!.end(Buffer.from(pcm));
    const { stdout } = await child;
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.word, e.time])).toEqual(expected.map((e) => [e.word, +e.time.toFixed(4)]));
  });
});
