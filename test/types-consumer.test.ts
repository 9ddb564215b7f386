// The published declarations compile for a program like a user's: a Node app with lib ES2023 and no DOM
// lib, @types/node, skipLibCheck off, importing the entries through the package's own exports map; and
// for a browser app with the DOM lib, which gets the DOM's own AudioContext in ListenOptions. The
// declarations are emitted into a temporary package (src only, without type checking: `tsc -p
// tsconfig.json` checks the sources).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const dir = mkdtempSync(join(tmpdir(), 'snn-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runTsc(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: dir, maxBuffer: 1 << 24 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

const json = (path: string, value: unknown): void => writeFileSync(path, JSON.stringify(value, null, 2));

/** A consumer project: node_modules with the package and @types, a tsconfig, one source file. */
function consumer(name: string, lib: string[], source: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  symlinkSync(join(dir, 'pkg'), join(root, 'node_modules', 'snn-voice'), 'junction');
  symlinkSync(join(repo, 'node_modules', '@types'), join(root, 'node_modules', '@types'), 'junction');
  json(join(root, 'package.json'), { type: 'module' });
  const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib, strict: true, skipLibCheck: false, noEmit: true, types: ['node'] };
  json(join(root, 'tsconfig.json'), { compilerOptions, files: ['main.ts'] });
  writeFileSync(join(root, 'main.ts'), source);
  return join(root, 'tsconfig.json');
}

it('the declarations of snn-voice, snn-voice/node and snn-voice/web-threads compile with lib ES2023 (no DOM) and skipLibCheck off', async () => {
  // The package: its package.json (the exports map), the emitted declarations, its dependencies.
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(join(dir, 'pkg'));
  json(join(dir, 'pkg', 'package.json'), { name: pkg.name, type: pkg.type, exports: pkg.exports });
  symlinkSync(join(repo, 'node_modules'), join(dir, 'pkg', 'node_modules'), 'junction');
  json(join(dir, 'emit.json'), {
    extends: join(repo, 'tsconfig.json'),
    compilerOptions: { typeRoots: [join(repo, 'node_modules', '@types')], rootDir: repo, outDir: join(dir, 'pkg', 'dist'), declaration: true, emitDeclarationOnly: true, sourceMap: false, noCheck: true },
    include: [join(repo, 'src')],
  });
  const emit = await runTsc(['-p', join(dir, 'emit.json')]);
  expect(emit.code, emit.output).toBe(0);

  const node = consumer('node-app', ['ES2023'], `
import { initEngine, listen, serveRecognizer, type EngineOptions, type ListenOptions, type MessageEndpoint } from 'snn-voice';
import { loadSpeechCommands, loadPretrained } from 'snn-voice/node';
// @ts-expect-error BufferSource is the DOM lib's: this program really has none.
export type NoDom = BufferSource;
export const options: EngineOptions = { bytes: new Uint8Array(8), url: new URL('file:///x.wasm') };
export const listening: ListenOptions = { chunkSize: 1024 };
export const endpoint: MessageEndpoint = { postMessage: () => {}, addEventListener: () => {} };
export const used = [initEngine, listen, serveRecognizer, loadSpeechCommands, loadPretrained];
`);
  const browser = consumer('browser-app', ['ES2023', 'DOM'], `
import { connectRecognizer, type ListenOptions, type MessageEndpoint } from 'snn-voice';
import { webThreadsUnavailable } from 'snn-voice/web-threads';
export const listening: ListenOptions = { audioContext: new AudioContext(), stream: new MediaStream() };
export const worker: MessageEndpoint = new Worker('worker.js');
export const why: string | null = webThreadsUnavailable();
export const used = connectRecognizer;
`);
  const [a, b] = await Promise.all([runTsc(['-p', node]), runTsc(['-p', browser])]);
  expect(a.output).toBe('');
  expect(a.code).toBe(0);
  expect(b.output).toBe('');
  expect(b.code).toBe(0);
});
