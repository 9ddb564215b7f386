// The core (everything reachable from src/index.ts) must run in a browser unchanged: no `node:` import,
// no Node built-in, and only packages that work in browsers.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BROWSER_PACKAGES = new Set(['@assemblyscript/loader', 'meyda']);
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function coreGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
    const specs = [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
    seen.set(file, specs);
    for (const s of specs) {
      if (!s.startsWith('.')) continue;
      const ts = join(dirname(file), s.replace(/\.js$/, '.ts'));
      if (!existsSync(ts)) throw new Error(`${relative(root, file)} imports ${s}, which does not exist`);
      stack.push(ts);
    }
  }
  return seen;
}

it('the core import graph has no Node built-ins and only browser-safe packages', () => {
  const graph = coreGraph(join(root, 'src', 'index.ts'));
  const offenders: string[] = [];
  for (const [file, specs] of graph) {
    for (const s of specs) {
      if (s.startsWith('.')) continue;
      const bare = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0];
      if (s.startsWith('node:') || builtinModules.includes(bare) || !BROWSER_PACKAGES.has(bare))
        offenders.push(`${relative(root, file)} imports '${s}'`);
    }
  }
  expect(offenders).toEqual([]);
  expect(graph.size).toBeGreaterThan(3);
});
