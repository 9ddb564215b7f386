// `snn-voice export --format nir --model m.snn --out m.nir`: a spiking model file as a NIR graph
// (src/nir, docs/nir.md), for snnTorch, Norse, Sinabs, Rockpool and neuromorphic hardware toolchains.
import { Command } from 'commander';
import { initEngine } from '../engine/engine.js';
import { loadModel } from '../models/file-node.js';
import { ModelFileError } from '../models/serialize.js';
import { exportNir } from '../nir/export.js';
import { NirError } from '../nir/format.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { type CliContext, emit } from './io.js';
import { choice, modelFile, withJson } from './options.js';

interface ExportFlags {
  format: 'nir';
  model: string;
  out: string;
  json?: boolean;
}

export function exportCommand(ctx: CliContext): Command {
  const cmd = new Command('export')
    .description('write a spiking model file in another format: NIR (docs/nir.md)')
    .option('--format <name>', 'nir', choice('--format', ['nir'] as const), 'nir' as const)
    .requiredOption('--model <file>', 'a spiking model file (model.snn), or the name of the SNN shipped in the package (kws-snn)', modelFile('--model'))
    .requiredOption('--out <path>', 'the file to write (m.nir)');
  withJson(cmd);
  return cmd.action(async (flags: ExportFlags) => {
    await initEngine();
    const { model, meta } = await loadModel(flags.model);
    try {
      let bytes: Uint8Array;
      try {
        bytes = await exportNir(model, meta);
      } catch (e) {
        // The layer NIR cannot express is the model's, not a fault of this run.
        if (e instanceof NirError) throw new ModelFileError(flags.model, `cannot be written as NIR: ${e.message}`);
        throw e;
      }
      await writeFileAtomic(flags.out, bytes);
      emit(ctx.io, flags.json, { out: flags.out, format: flags.format, model: model.name, steps: model.steps, bytes: bytes.length },
        () => `${model.name} SNN (T=${model.steps}) -> ${flags.out} (NIR, ${bytes.length} bytes)`);
    } finally {
      model.dispose();
    }
  });
}
