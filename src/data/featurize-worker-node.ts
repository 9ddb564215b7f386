// A featurizing worker thread: reads, decodes and featurizes the batches of clip files it is sent, so
// building a feature cache uses every core.
import { parentPort, workerData } from 'node:worker_threads';
import { NoiseBank, featurizeFile, type FeaturizeReply, type FeaturizeRequest, type FeaturizeTask } from './featurize-node.js';

const task = workerData as FeaturizeTask;
const port = parentPort!;
const noises = new NoiseBank(task.noiseDir);
let reported = 0;

port.on('message', (request: FeaturizeRequest) => {
  if (request === null) return port.close();
  (async () => {
    const rows: (Float32Array | { error: string })[] = [];
    for (const file of request.files) {
      const r = await featurizeFile(task, file, request.train, noises);
      rows.push(r instanceof Error ? { error: r.message } : r);
    }
    const reply: FeaturizeReply = { id: request.id, rows, noiseSkipped: noises.skipped.slice(reported) };
    reported = noises.skipped.length;
    const buffers = new Set(rows.filter((r): r is Float32Array => r instanceof Float32Array).map((r) => r.buffer as ArrayBuffer));
    port.postMessage(reply, [...buffers]);
  })().catch((e: Error) => port.postMessage({ fatal: e.message } satisfies FeaturizeReply));
});
