// Starting a worker thread on one of this package's modules, from compiled JavaScript or from the
// TypeScript sources (tsx, vitest): tsx's loader does not carry over into worker threads, so from
// sources the worker first registers it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** `base` is the caller's import.meta.url, `name` the worker module's name without extension. */
export function startWorker(base: string, name: string, workerData: unknown): Worker {
  const fromSource = base.endsWith('.ts');
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, base);
  return new Worker(fromSource ? tsxBootstrap(url) : url, { workerData });
}

/** A module that registers tsx's ESM loader and then imports `url`. */
function tsxBootstrap(url: URL): URL {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
  const code = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(url.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
