// A synthesis worker thread: renders one speaker at a time with its own eSpeak instance, asking the
// main thread for the next, so two cores synthesize at once and finish together.
import { parentPort, workerData } from 'node:worker_threads';
import { Espeak } from './espeak.js';
import { backgroundNoises, renderSpeaker, speakersFor, type WorkerMessage, type WorkerTask } from './synth-node.js';

const task = workerData as WorkerTask;
const port = parentPort!;
const send = (m: WorkerMessage): void => port.postMessage(m);
try {
  const espeak = await Espeak.load();
  const noises = backgroundNoises(task.seed);
  const speakers = speakersFor(task.seed, task.clipsPerWord);
  port.on('message', (index: number | null) => {
    if (index === null) {
      port.close();
      return;
    }
    renderSpeaker(espeak, task.out, task.seed, speakers[index], task.words, noises).then(
      () => send({ done: index }),
      (e: Error) => send({ error: e.message }),
    );
  });
  send({ ready: true });
} catch (e) {
  send({ error: (e as Error).message });
}
