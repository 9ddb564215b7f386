// A synthesis worker thread: renders the speakers it is given with its own eSpeak instance and reports
// each finished speaker, so two cores synthesize at once.
import { parentPort, workerData } from 'node:worker_threads';
import { Espeak } from './espeak.js';
import { backgroundNoises, renderSpeaker, speakerFor, type WorkerTask } from './synth-node.js';

const task = workerData as WorkerTask;
try {
  const espeak = await Espeak.load();
  const noises = backgroundNoises(task.seed);
  for (const index of task.speakers) {
    await renderSpeaker(espeak, task.out, task.seed, speakerFor(task.seed, index), task.words, noises);
    parentPort!.postMessage({ done: index });
  }
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
