// The core bundled for browsers (esbuild, platform 'browser': a Node built-in anywhere in the graph fails
// the build), run in a fresh JavaScript realm holding only what a web page offers: no `process`, no
// `require`, no Buffer. And where the tests that need a real browser find Chromium.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';

/** Chromium for the tests that drive a real browser: $CHROMIUM_PATH, else /usr/bin/chromium, else `chromium` on the PATH; null when none. */
export function findChromium(): string | null {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : ['/usr/bin/chromium', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((d) => [join(d, 'chromium'), join(d, 'chromium-browser')])];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  return null;
}

/** Evaluates `script` (an expression, usually an async arrow called at once) where the bundle is `snnVoice`. */
export async function runInPage<T>(script: string): Promise<T> {
  const bundle = await build({ entryPoints: ['src/index.ts'], bundle: true, platform: 'browser', format: 'iife', globalName: 'snnVoice', write: false, logLevel: 'silent' });
  const page = vm.createContext({ console, atob, TextDecoder, TextEncoder, performance });
  vm.runInContext(bundle.outputFiles[0].text, page);
  return (await vm.runInContext(script, page)) as T;
}
