// A synthesis worker thread: renders one speaker at a time with its own synthesizer instances, asking
// the main thread for the next, so two cores synthesize at once and finish together.
import { parentPort, workerData } from 'node:worker_threads';
import { backgroundNoises, loadSynthesizers, renderSpeaker, speakersFor, type WorkerMessage, type WorkerTask } from './synth-node.js';

const task = workerData as WorkerTask;
const port = parentPort!;
const send = (m: WorkerMessage): void => port.postMessage(m);
try {
  const synths = await loadSynthesizers(task.synthesizers);
  const noises = backgroundNoises(task.seed);
  const speakers = speakersFor(task.seed, task.clipsPerWord, task.fliteShare);
  port.on('message', (index: number | null) => {
    if (index === null) {
      port.close();
      return;
    }
    renderSpeaker(synths, task.out, task.seed, speakers[index], task.words, noises).then(
      () => send({ done: index }),
      (e: Error) => send({ error: e.message }),
    );
  });
  send({ ready: true });
} catch (e) {
  send({ error: (e as Error).message });
}
