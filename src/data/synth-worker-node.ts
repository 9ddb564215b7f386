// A synthesis worker thread: renders the speakers it is sent, one at a time, with its own synthesizer
// instances, so several cores synthesize at once.
import { backgroundNoises, loadSynthesizers, renderSpeaker, type RenderSetup } from './render-node.js';
import type { Speaker } from './speakers.js';
import { serveTasks } from './worker-node.js';

serveTasks<RenderSetup, Speaker, void>(async ({ out, seed, words, synthesizers }) => {
  const synths = await loadSynthesizers(synthesizers);
  const noises = backgroundNoises(seed);
  return (speaker) => renderSpeaker(synths, out, seed, speaker, words, noises);
});
