// The core bundled for browsers (esbuild, platform 'browser': a Node built-in anywhere in the graph fails
// the build), run in a fresh JavaScript realm holding only what a web page offers: no `process`, no
// `require`, no Buffer.
import vm from 'node:vm';
import { build } from 'esbuild';

/** Evaluates `script` (an expression, usually an async arrow called at once) where the bundle is `snnVoice`. */
export async function runInPage<T>(script: string): Promise<T> {
  const bundle = await build({ entryPoints: ['src/index.ts'], bundle: true, platform: 'browser', format: 'iife', globalName: 'snnVoice', write: false, logLevel: 'silent' });
  const page = vm.createContext({ console, atob, TextDecoder, TextEncoder, performance });
  vm.runInContext(bundle.outputFiles[0].text, page);
  return (await vm.runInContext(script, page)) as T;
}
