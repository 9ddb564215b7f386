// The house has floors: every import points down (or stays on its floor), nothing imports in a circle,
// Node-only files say so in their names, and no source file grows past what one reader holds in mind.
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, resolveLocal, root, sourceFiles } from './import-graph.js';

/**
 * The floors of src/, lowest first (docs/design.md draws them). audio/ is pure DSP on the ground floor
 * beside the engine: it needs neither WASM nor models, and models need its feature settings. listen/
 * (streaming recognition) drives models with audio, beside data/: neither needs the other.
 */
const FLOORS: Record<string, number> = { util: 0, engine: 1, audio: 1, kernels: 2, layers: 3, models: 4, data: 5, listen: 5, nir: 5, train: 6, cli: 7, '.': 8 };

const folderOf = (file: string): string => {
  const parts = relative(join(root, 'src'), file).split(sep);
  return parts.length === 1 ? '.' : parts[0];
};

function graph(dir: string): Map<string, string[]> {
  return new Map(
    sourceFiles(join(root, dir)).map((file) => [file, importsOf(file).filter((s) => s.startsWith('.')).map((s) => resolveLocal(file, s))]),
  );
}

/** Strongly connected components of more than one file (Tarjan), each a circle of imports. */
function circles(g: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(relative(root, w));
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('the import graph', () => {
  const src = graph('src');

  it('every src/ folder has a floor', () => {
    expect([...new Set([...src.keys()].map(folderOf))].filter((f) => !(f in FLOORS))).toEqual([]);
  });

  it('no import in src/ runs from a lower floor to a higher one', () => {
    const upward: string[] = [];
    for (const [file, deps] of src)
      for (const dep of deps)
        if (FLOORS[folderOf(dep)] > FLOORS[folderOf(file)]) upward.push(`${relative(root, file)} -> ${relative(root, dep)}`);
    expect(upward).toEqual([]);
    // The check can fail: a file of the lowest floor importing the top one would be caught.
    expect(FLOORS[folderOf(join(root, 'src', 'cli', 'main.ts'))]).toBeGreaterThan(FLOORS[folderOf(join(root, 'src', 'util', 'rng.ts'))]);
  });

  it('no circles in src/ or assembly/', () => {
    expect(circles(src)).toEqual([]);
    expect(circles(graph('assembly'))).toEqual([]);
    expect(circles(new Map([['a', ['b']], ['b', ['a']], ['c', ['a']]]))).toEqual([['a', 'b'].map((f) => relative(root, f))]);
  });

  it('only Node-only files import node: (named -node.ts, or under src/cli/, or src/node.ts)', () => {
    const offenders = [...src.keys()]
      .filter((file) => importsOf(file).some((s) => s.startsWith('node:')))
      .filter((file) => !file.endsWith('-node.ts') && folderOf(file) !== 'cli' && relative(root, file) !== join('src', 'node.ts'))
      .map((file) => relative(root, file));
    expect(offenders).toEqual([]);
  });

  it('no source file is over 400 lines', () => {
    const long = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'assembly'))]
      .filter((file) => !/wasm-binaries(-threads)?\.ts$/.test(file))
      .map((file) => [relative(root, file), readFileSync(file, 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 400);
    expect(long).toEqual([]);
  });
});
