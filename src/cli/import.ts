// `snn-voice import m.nir --out m.snn`: a NIR graph written by `snn-voice export` as a model file again.
// A model file is rebuilt from its zoo settings (models/serialize.ts), so the graph's layers must be a
// zoo model's. A batch norm export folded comes back as it was from the node's metadata (so the outputs
// are bit-identical); where the metadata no longer folds to the node's weights (they were changed
// elsewhere), the batch norm comes back as the identity (mean 0, variance 1, γ = √(1 + ε), β = 0) beside
// the folded weights, so the outputs are those of the graph up to rounding.
// A graph from another framework runs with importNir, but has no zoo settings to save.
import { Command } from 'commander';
import { initEngine } from '../engine/engine.js';
import { BN_EPS } from '../layers/batchnorm.js';
import { saveModel } from '../models/file-node.js';
import { ModelFileError, exportState, importState } from '../models/serialize.js';
import { createModel } from '../models/zoo.js';
import { NirError } from '../nir/format.js';
import { importNir } from '../nir/import.js';
import { readFileBounded } from '../util/read-file-node.js';
import { type CliContext, emit } from './io.js';
import { existingFile, withJson } from './options.js';

interface ImportFlags {
  out: string;
  json?: boolean;
}

const MAX_NIR_BYTES = 1 << 30;

export function importCommand(ctx: CliContext): Command {
  const cmd = new Command('import')
    .description('a NIR file written by `snn-voice export` back to a model file (docs/nir.md)')
    .argument('<file>', 'the NIR file (m.nir)')
    .requiredOption('--out <path>', 'the model file to write (m.snn)');
  withJson(cmd);
  return cmd.action(async (file: string, flags: ImportFlags) => {
    existingFile('<file>', file);
    await initEngine();
    let read;
    try {
      read = await importNir(await readFileBounded(file, MAX_NIR_BYTES, 'a NIR file'));
    } catch (e) {
      if (e instanceof NirError) throw new ModelFileError(file, e.message);
      throw e;
    }
    const { model, classNames, features, fromSnnVoice } = read;
    try {
      if (!fromSnnVoice || !classNames || !features)
        throw new ModelFileError(file, 'has no snn-voice model settings (it was not written by snn-voice export); a model file needs a zoo model\'s settings, class names and features');
      const zoo = createModel(model.config.name, model.config);
      try {
        const state = exportState(model);
        // A batch norm folded away by export: the identity, y = (x − 0)/√(1 + ε)·√(1 + ε) + 0.
        const identity = (name: string, size: number): Float32Array | null => {
          const fill = (v: number) => new Float32Array(size).fill(v);
          if (name.endsWith('.running_mean') || name.endsWith('.bias')) return fill(0);
          if (name.endsWith('.running_var')) return fill(1);
          if (name.endsWith('.weight')) return fill(Math.sqrt(1 + BN_EPS));
          return null;
        };
        for (const p of [...zoo.parameters().map((q) => ({ name: q.name, value: q.value })), ...zoo.buffers()]) {
          if (state.has(p.name)) continue;
          const v = /(^|\.)bn[^.]*\.[a-z_]+$/.test(p.name) ? identity(p.name, p.value.size) : null;
          if (!v) throw new ModelFileError(file, `has no tensor "${p.name}" of the ${model.config.name} model it names`);
          state.set(p.name, v);
        }
        importState(zoo, state, file);
        await saveModel(flags.out, zoo, { classNames, features, extra: { importedFrom: 'nir' } });
      } finally {
        zoo.dispose();
      }
      emit(ctx.io, flags.json, { out: flags.out, model: model.config.name, steps: model.steps, classes: model.classes },
        () => `${file} (NIR ${read.version}) -> ${model.config.name} SNN (T=${model.steps}) -> ${flags.out}`);
    } finally {
      model.dispose();
    }
  });
}
