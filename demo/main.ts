// The browser demo: the microphone -> listen() (AudioWorklet forwarder) -> a Recognizer on this page,
// showing the detected word, the class probabilities of every hop, a spike raster of one Leaky layer
// (SNN) and the energy estimate per second of audio. Query string: ?cnn=<url>&snn=<url> (model files;
// default the package's pretrained ones, served beside the page), model=cnn|snn, threshold=<0..1>.
import {
  Leaky, Network, PICOJOULES_PER_AC, PICOJOULES_PER_MAC, Recognizer, deserializeModel, initEngine, isKeyword, listen, loadPretrainedFrom,
  type Layer, type Model, type ModelMeta, type StopListening, type WordEvent,
} from '../src/index.js';

type Choice = 'cnn' | 'snn';
interface Loaded { model: Model; meta: ModelMeta; leaky: Leaky[] }

/** What the page has seen, for tests and the console: window.snnDemo. */
interface DemoState {
  ready: boolean;
  listening: boolean;
  model: Choice | null;
  error: string | null;
  /** Audio seconds consumed by the current recognizer. */
  time: number;
  hops: number;
  events: (WordEvent & { model: Choice })[];
  /** Spikes in the raster's last window, and the per-inference operation counts. */
  rasterSpikes: number;
  energy: { macs: number; acs: number; picojoulesPerInference: number; inferencesPerSecond: number; microjoulesPerSecond: number } | null;
}

const state: DemoState = { ready: false, listening: false, model: null, error: null, time: 0, hops: 0, events: [], rasterSpikes: 0, energy: null };
(globalThis as unknown as { snnDemo: DemoState }).snnDemo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const micButton = $<HTMLButtonElement>('mic');
const modelSelect = $<HTMLSelectElement>('model');
const layerSelect = $<HTMLSelectElement>('layer');
const statusLine = $('status');
const wordLine = $('word');
const barsBox = $('bars');
const raster = $<HTMLCanvasElement>('raster');
const rasterNote = $('raster-note');
const energyLine = $('energy');
const log = $<HTMLOListElement>('log');

const query = new URLSearchParams(location.search);
// Without ?threshold the Detector's default applies.
const threshold = query.has('threshold') ? Number(query.get('threshold')) : undefined;
const loaded = new Map<Choice, Promise<Loaded>>();
let recognizer: Recognizer | null = null;
let current: Loaded | null = null;
let stopListening: StopListening | null = null;
let bars: { row: HTMLElement; fill: HTMLElement; value: HTMLElement }[] = [];
let wordTimer = 0;

function setStatus(text: string): void {
  statusLine.textContent = text;
}

function leakyLayers(layers: readonly Layer[]): Leaky[] {
  return layers.flatMap((l) => [...(l instanceof Leaky ? [l] : []), ...leakyLayers(l.sublayers?.() ?? [])]);
}

async function loadModel(choice: Choice): Promise<Loaded> {
  let promise = loaded.get(choice);
  if (!promise) {
    promise = (async () => {
      await initEngine();
      const url = query.get(choice);
      let file: { model: Model; meta: ModelMeta };
      if (url) {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        file = deserializeModel(await response.arrayBuffer(), url);
      } else {
        file = await loadPretrainedFrom(new URL(import.meta.env.BASE_URL, location.href), choice === 'cnn' ? 'kws-cnn' : 'kws-snn');
      }
      file.model.eval();
      file.model.countActivity = true;
      return { ...file, leaky: file.model instanceof Network ? leakyLayers(file.model.layers) : [] };
    })();
    loaded.set(choice, promise);
    promise.catch(() => loaded.delete(choice));
  }
  return promise;
}

/** Makes `choice` the model that hears the microphone (a new recognizer: its time starts at 0). */
async function useModel(choice: Choice): Promise<void> {
  modelSelect.disabled = micButton.disabled = true;
  setStatus(`loading the ${choice.toUpperCase()}…`);
  try {
    const next = await loadModel(choice);
    recognizer?.dispose();
    current = next;
    next.model.resetActivity();
    recognizer = new Recognizer(next.model, next.meta, { probabilityThreshold: threshold, onWord: (e) => showWord(e, choice), onHop: showHop });
    state.model = choice;
    state.time = state.hops = state.rasterSpikes = 0;
    state.energy = null;
    buildBars(next.meta.classNames);
    layerSelect.replaceChildren(...next.leaky.map((l, i) => new Option(l.name, String(i))));
    layerSelect.hidden = next.leaky.length === 0;
    rasterNote.textContent = next.leaky.length
      ? 'Each panel is one time step of the last window: rows are channels, columns positions along the window; white is a spike.'
      : 'A CNN has no spikes: choose the SNN to see them.';
    clearRaster();
    energyLine.textContent = '–';
    const words = next.meta.classNames.filter(isKeyword);
    setStatus(`${choice.toUpperCase()}: ${next.model.name}, ${next.model.parameterCount().toLocaleString()} parameters; listens for ${words.join(', ')}`);
    state.ready = true;
    state.error = null;
  } catch (e) {
    state.error = e instanceof Error ? e.message : String(e);
    const hint = query.get(choice) ? '' : ` (no pretrained model served? give one: ?${choice}=<model file URL>)`;
    setStatus(`cannot load the ${choice.toUpperCase()}: ${state.error}${hint}`);
  } finally {
    modelSelect.disabled = micButton.disabled = false;
    modelSelect.value = state.model ?? choice;
  }
}

function buildBars(classNames: readonly string[]): void {
  bars = classNames.map((name) => {
    const row = document.createElement('div');
    row.className = `bar${isKeyword(name) ? ' keyword' : ''}`;
    row.dataset.class = name;
    const label = document.createElement('span');
    label.textContent = name;
    const track = document.createElement('div');
    track.className = 'track';
    const fill = document.createElement('div');
    fill.className = 'fill';
    track.append(fill);
    const value = document.createElement('span');
    value.className = 'value';
    row.append(label, track, value);
    return { row, fill, value };
  });
  barsBox.replaceChildren(...bars.map((b) => b.row));
}

function showWord(event: WordEvent, choice: Choice): void {
  state.events.push({ ...event, probabilities: [...event.probabilities], model: choice });
  wordLine.textContent = event.word;
  clearTimeout(wordTimer);
  wordTimer = window.setTimeout(() => (wordLine.textContent = ''), 1500);
  const item = document.createElement('li');
  item.dataset.word = event.word;
  item.dataset.time = event.time.toFixed(3);
  item.textContent = `${event.time.toFixed(2)} s  ${event.word}  ${event.score.toFixed(3)}  (${choice.toUpperCase()})`;
  log.prepend(item);
}

function showHop(time: number, probabilities: Float64Array): void {
  state.time = time;
  state.hops++;
  let top = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[top]) top = i;
  bars.forEach((b, i) => {
    b.fill.style.width = `${(probabilities[i] * 100).toFixed(1)}%`;
    b.value.textContent = probabilities[i].toFixed(2);
    b.row.classList.toggle('top', i === top);
  });
  drawRaster();
  showEnergy();
}

function clearRaster(): void {
  const g = raster.getContext('2d');
  g?.clearRect(0, 0, raster.width, raster.height);
}

/** The last window's spikes of the chosen Leaky layer: one panel per time step, channels x positions. */
function drawRaster(): void {
  const layer = current?.leaky[Number(layerSelect.value) || 0];
  const spikes = layer?.lastSpikes();
  if (!spikes) return;
  const [steps, , channels = 1, ...rest] = spikes.shape;
  const positions = rest.reduce((a, b) => a * b, 1);
  const gap = 2;
  const width = steps * positions + (steps - 1) * gap;
  if (raster.width !== width || raster.height !== channels) {
    raster.width = width;
    raster.height = channels;
  }
  const g = raster.getContext('2d');
  if (!g) return;
  const image = g.createImageData(width, channels);
  const data = spikes.data;
  let count = 0;
  for (let t = 0; t < steps; t++)
    for (let c = 0; c < channels; c++)
      for (let p = 0; p < positions; p++) {
        const s = data[(t * channels + c) * positions + p];
        count += s;
        const o = (c * width + t * (positions + gap) + p) * 4;
        const v = s ? 255 : 24;
        image.data[o] = image.data[o + 1] = image.data[o + 2] = v;
        image.data[o + 3] = 255;
      }
  g.putImageData(image, 0, 0);
  state.rasterSpikes = count;
}

function showEnergy(): void {
  if (!current || !recognizer) return;
  const report = current.model.activity();
  if (report.samples === 0) return;
  const picojoules = report.macs * PICOJOULES_PER_MAC + report.acs * PICOJOULES_PER_AC;
  const perSecond = 1 / recognizer.hopSeconds;
  const energy = { macs: report.macs, acs: report.acs, picojoulesPerInference: picojoules, inferencesPerSecond: perSecond, microjoulesPerSecond: (picojoules * perSecond) / 1e6 };
  state.energy = energy;
  const n = (x: number) => x.toExponential(2).replace('e+', 'e');
  energyLine.textContent =
    `${n(energy.macs)} MACs + ${n(energy.acs)} ACs per inference = ${(picojoules / 1e6).toFixed(2)} µJ; ` +
    `× ${perSecond.toFixed(2)} inferences/s = ${energy.microjoulesPerSecond.toFixed(1)} µJ per second of audio` +
    (report.denseMacs !== report.macs ? ` (as a CNN: ${((report.denseMacs * PICOJOULES_PER_MAC * perSecond) / 1e6).toFixed(1)} µJ/s)` : '');
}

async function toggleMicrophone(): Promise<void> {
  if (stopListening) {
    const stop = stopListening;
    stopListening = null;
    await stop();
    state.listening = false;
    micButton.textContent = 'Microphone on';
    micButton.setAttribute('aria-pressed', 'false');
    return;
  }
  micButton.disabled = true;
  try {
    // The sink follows the model choice: switching models keeps the microphone open.
    stopListening = await listen({ push: (samples, rate) => recognizer?.push(samples, rate) }, { onError: (e) => setStatus(`error: ${String(e)}`) });
    state.listening = true;
    micButton.textContent = 'Microphone off';
    micButton.setAttribute('aria-pressed', 'true');
  } catch (e) {
    state.error = e instanceof Error ? e.message : String(e);
    setStatus(`no microphone: ${state.error}`);
  } finally {
    micButton.disabled = false;
  }
}

micButton.addEventListener('click', () => void toggleMicrophone());
modelSelect.addEventListener('change', () => void useModel(modelSelect.value as Choice));
layerSelect.addEventListener('change', () => {
  clearRaster();
  drawRaster();
});
const initial: Choice = query.get('model') === 'snn' ? 'snn' : 'cnn';
modelSelect.value = initial;
void useModel(initial);
