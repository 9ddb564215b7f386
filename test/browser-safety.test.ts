// The core (everything reachable from src/index.ts) must run in a browser unchanged: no `node:` import,
// no Node built-in, and only packages that work in browsers.
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { reachable, root } from './import-graph.js';

const BROWSER_PACKAGES = new Set(['meyda', 'h5wasm']);

it('the core import graph has no Node built-ins and only browser-safe packages', () => {
  const graph = reachable(join(root, 'src', 'index.ts'));
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
