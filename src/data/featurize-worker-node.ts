// A featurizing worker thread: reads, decodes and featurizes the batches of clip files it is sent, so
// building a feature cache uses every core.
import { NoiseBank, featurizeFile, type FeaturizeBatch, type FeaturizedBatch, type FeaturizeTask } from './featurize-node.js';
import { serveTasks } from './worker-node.js';

serveTasks<FeaturizeTask, FeaturizeBatch, FeaturizedBatch>(
  async (task) => {
    const noises = new NoiseBank(task.noiseDir);
    let reported = 0;
    return async ({ files, train, copies }) => {
      const rows: FeaturizedBatch['rows'] = [];
      for (const [k, file] of files.entries()) {
        const r = await featurizeFile(task, file, train, noises, copies?.[k] ?? 0);
        rows.push(r instanceof Error ? { error: r.message } : r);
      }
      const noiseSkipped = noises.skipped.slice(reported);
      reported = noises.skipped.length;
      return { rows, noiseSkipped };
    };
  },
  ({ rows }) => [...new Set(rows.filter((r): r is Float32Array => r instanceof Float32Array).map((r) => r.buffer as ArrayBuffer))],
);
