// NIR's reference reader (../shared/tools/nir-python, the package snnTorch, Norse, Sinabs and Rockpool
// use) accepts every file exportNir writes, with type checking on. Skipped, saying why, where the
// reader or Debian's python3-h5py is absent.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { createModel } from '../src/models/zoo.js';
import { exportNir } from '../src/index.js';
import type { ModelConfig, ModelName } from '../src/models/types.js';

/** The exportable zoo SNNs (as in nir.test.ts: importing that file would run its tests here too). */
const EXPORTABLE: { name: ModelName; options: Partial<ModelConfig> }[] = [
  { name: 'hjh', options: { spiking: true, steps: 4, threshold: 0.1 } },
  { name: 'm5', options: { spiking: true, steps: 3, threshold: 0.1 } },
  { name: 'tcresnet8', options: { spiking: true, steps: 4, threshold: 0.1 } },
  { name: 'tcresnet8', options: { spiking: true, converted: true, steps: 4 } },
  { name: 'tcy', options: { spiking: true, steps: 4, threshold: 0.1 } },
  { name: 'tcy', options: { spiking: true, converted: true, steps: 4 } },
];

const NIR_PYTHON = resolve(__dirname, '../../shared/tools/nir-python');
/** Debian's interpreter, where apt puts python3-h5py (the reference package's README says so); NIR_PYTHON overrides. */
const PYTHON = process.env.NIR_PYTHON ?? '/usr/bin/python3';

/** Why the reference reader cannot run here, or null when it can. */
function missing(): string | null {
  if (!existsSync(join(NIR_PYTHON, 'nir'))) return `the NIR reference package is not at ${NIR_PYTHON}`;
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  const probe = spawnSync(PYTHON, ['-c', 'import h5py, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'python3-h5py is not installed (apt-get install -y python3-h5py)';
  return null;
}

const reason = missing();
if (reason) console.warn(`NIR reference reader tests skipped: ${reason}`);

/** Reads with nir.read(path, type_check=True) and prints the node types and the graph's output shape. */
const READ = `
import json, sys, nir
g = nir.read(sys.argv[1], type_check=True)
g.check_types()
print(json.dumps({"types": sorted({type(n).__name__ for n in g.nodes.values()}),
                  "output": [int(d) for d in g.nodes["output"].output_type["output"]],
                  "steps": int(g.metadata["steps"])}))
`;

describe.skipIf(reason !== null)('NIR reference reader', () => {
  let dir: string;
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
    dir = await mkdtemp(join(tmpdir(), 'snn-voice-nir-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  for (const c of EXPORTABLE) {
    it(`nir.read(type_check=True) accepts ${c.name} ${JSON.stringify(c.options)}`, async () => {
      const model = createModel(c.name, { classes: 3, seed: 7, ...c.options });
      const path = join(dir, `${c.name}.nir`);
      try {
        await writeFile(path, await exportNir(model));
      } finally {
        model.dispose();
      }
      const run = spawnSync(PYTHON, ['-c', READ, path], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: NIR_PYTHON } });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const read = JSON.parse(run.stdout) as { types: string[]; output: number[]; steps: number };
      expect(read.output).toEqual([3]);
      expect(read.steps).toBe(c.options.steps);
      // Converted Tcy has no neuron at all: a linear map summed over the steps.
      if (!(c.name === 'tcy' && c.options.converted)) expect(read.types).toContain(c.options.converted ? 'IF' : 'LIF');
      if (c.name === 'tcy') expect(read.types).toContain('Affine');
    }, 120_000);
  }
});
