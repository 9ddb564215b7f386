// importNir: a NIR graph (HDF5 bytes) as a runnable spiking model of this package: the graph is run for
// T steps on the same input and its outputs summed (the metadata's encoder and readout; see
// docs/nir.md). Nodes map back as export.ts writes them, and what snnTorch writes reads the same way:
//   Affine/Linear -> Linear;  Conv1d/Conv2d -> Conv1d/Conv2d (and the batch norm export folded into it,
//     when the node's metadata holds both unfolded);  Flatten -> Flatten or Reshape;
//   LIF -> Leaky with β = 1 − dt/τ where r = τ/dt (snnTorch's convention), so β = 1 − 1/r whatever dt
//     was; IF -> Leaky with β = 1;  SumPool2d then Threshold -> max pool over spikes;
//   AvgPool2d over the whole input -> adaptive average pool to 1;  Flatten then an Affine that export
//     composed from an adaptive pool, Flatten and Linear (its metadata says so) -> those three again;
//   two edges into one node -> a residual block (the node, unless a Scale of ones, follows the sum).
// Neurons without our metadata are given NIR's own dynamics: after a spike the membrane is set to
// v_reset = 0 and the next step integrates from there, U[t] = β·(1 − S[t−1])·U[t−1] + I[t], which is
// Leaky's form 'legacy' with reset 'zero' (kernels/lif.ts).
import { AdaptiveAvgPool1d, AdaptiveAvgPool2d } from '../layers/adaptive-avg-pool.js';
import type { FeatureSettings } from '../audio/settings.js';
import { BatchNorm1d, BatchNorm2d } from '../layers/batchnorm.js';
import { Conv1d } from '../layers/conv1d.js';
import { Conv2d } from '../layers/conv2d.js';
import { Encoder } from '../layers/encoder.js';
import { Flatten } from '../layers/flatten.js';
import type { Layer } from '../layers/layer.js';
import { Leaky, type LeakySettings } from '../layers/leaky.js';
import { Linear } from '../layers/linear.js';
import { MaxPool1d, MaxPool2d } from '../layers/maxpool.js';
import { Reshape } from '../layers/reshape.js';
import { Residual } from '../layers/residual.js';
import { DEFAULT_STEPS, resolveConfig } from '../models/config.js';
import { foldInto } from '../models/converted.js';
import { Network } from '../models/network.js';
import type { ModelConfig } from '../models/types.js';
import { type H5Array, type H5Group, type H5Leaf, isArray, isStrings, readHdf5 } from './hdf5.js';
import { META, NirError } from './format.js';
import { type PoolShape, recoverPooled } from './pool-affine.js';

export interface NirImport {
  model: Network;
  /** From an exportNir file: the class names and the features the model was trained on. */
  classNames: string[] | null;
  features: FeatureSettings | null;
  /** The file came from exportNir with a model config (so the model has a zoo layout when it has no folded batch norm). */
  fromSnnVoice: boolean;
  version: string;
}

export interface NirImportOptions {
  /** Time steps when the file does not say (snnTorch's files do not); default 5. */
  steps?: number;
}

type Node = H5Group;
const str = (v: H5Leaf | H5Group | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function arr(node: Node, key: string, where: string): H5Array {
  const v = node.get(key);
  if (!isArray(v)) throw new NirError(`${where}: has no numeric "${key}"`);
  return v;
}
const nums = (node: Node, key: string, where: string) => Array.from(arr(node, key, where).data);

/** The one value of an array that must hold a single value (our neurons share β and U_thr per layer). */
function uniform(node: Node, key: string, where: string, fallback?: number): number {
  if (!node.has(key) && fallback !== undefined) return fallback;
  const d = arr(node, key, where).data;
  const v = d[0];
  if (!d.every((x) => x === v)) throw new NirError(`${where}: "${key}" differs between neurons; a layer here has one value for all its neurons`);
  return v;
}

function leaky(name: string, node: Node, type: string, steps: number, dt: number | null): Leaky {
  const meta = node.get('metadata');
  const m = meta instanceof Map ? meta : new Map<string, H5Leaf | H5Group>();
  const threshold = uniform(node, 'v_threshold', name);
  if (uniform(node, 'v_reset', name, 0) !== 0) throw new NirError(`${name}: v_reset must be 0 (the membrane restarts from zero)`);
  let beta = 1;
  if (type === 'LIF') {
    if (uniform(node, 'v_leak', name) !== 0) throw new NirError(`${name}: v_leak must be 0`);
    const tau = uniform(node, 'tau', name);
    const r = uniform(node, 'r', name);
    // r = τ/dt makes the input's gain (dt/τ)·r one, as in snnTorch; β = 1 − dt/τ = 1 − 1/r.
    if (dt !== null && Math.abs(r * dt - tau) > 1e-6 * tau) throw new NirError(`${name}: r = ${r} is not τ/dt = ${tau / dt}; only unit input gain is read`);
    beta = isArray(m.get('beta')) ? (m.get('beta') as H5Array).data[0] : 1 - 1 / r;
  } else if (uniform(node, 'r', name) !== 1) throw new NirError(`${name}: an IF node with r ≠ 1 scales its input; only r = 1 is read`);
  const form = str(m.get('form')) ?? 'legacy';
  const reset = str(m.get('reset')) ?? 'zero';
  const surrogate = str(m.get('surrogate')) ?? 'atan';
  const initial = isArray(m.get('initial')) ? (m.get('initial') as H5Array).data[0] : 0;
  const settings = { steps, beta, threshold, learnBeta: false, learnThreshold: false, surrogate, form, reset, initial } as LeakySettings;
  return new Leaky(name, settings);
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);

/**
 * The synapse `l` (folded weights set), and the batch norm export folded into it when the node's
 * metadata holds both unfolded (export.ts unfolded): then the two layers as they were, bit for bit. Only
 * when they fold to the node's own weights exactly: a file whose weights were changed elsewhere keeps them.
 */
function unfold(l: Conv1d | Conv2d | Linear, node: Node): Layer[] {
  const m = node.get('metadata');
  const bnName = m instanceof Map ? str(m.get('batch_norm')) : undefined;
  if (!(m instanceof Map) || bnName === undefined) return [l];
  const arrays = ['unfolded_weight', 'unfolded_bias', 'bn_weight', 'bn_bias', 'bn_running_mean', 'bn_running_var'].map((k) => m.get(k));
  if (!arrays.every(isArray)) return [l];
  const [w, b, gamma, beta, mean, variance] = arrays.map((a) => Float32Array.from((a as H5Array).data));
  const channels = l.bias.value.size;
  if (w.length !== l.weight.value.size || [b, gamma, beta, mean, variance].some((v) => v.length !== channels)) return [l];
  const bn = l instanceof Conv2d ? new BatchNorm2d(bnName, channels) : new BatchNorm1d(bnName, channels);
  bn.weight.value.f32.set(gamma);
  bn.bias.value.f32.set(beta);
  bn.runningMean.f32.set(mean);
  bn.runningVar.f32.set(variance);
  const [fw, fb] = [w.slice(), b.slice()];
  foldInto(fw, fb, bn, l.name);
  if (!same(fw, l.weight.value.f32) || !same(fb, l.bias.value.f32)) {
    bn.dispose();
    return [l];
  }
  l.weight.value.f32.set(w);
  l.bias.value.f32.set(b);
  return [l, bn];
}

function setParams<L extends Conv1d | Conv2d | Linear>(l: L, w: H5Array, b: H5Array | null): L {
  l.weight.value.f32.set(w.data);
  l.bias.value.f32.set(b ? b.data : new Float32Array(l.bias.value.size));
  return l;
}

interface Graph {
  nodes: Map<string, Node>;
  succ: Map<string, string[]>;
  pred: Map<string, string[]>;
}

interface Walk {
  shape: number[];
  spikes: boolean;
}

/**
 * Flatten `name` then an Affine that exportNir composed from an adaptive average pool, Flatten and Linear
 * (its metadata names the pool and its shapes): the pool's layer, the flatten and the Linear with W
 * recovered from W·P (pool-affine.ts). Null when the Affine is not such a composition.
 */
function pooledHead(g: Graph, name: string, at: Walk): { layers: Layer[]; next: string | undefined } | null {
  const fc = (g.succ.get(name) ?? [])[0];
  const node = fc === undefined ? undefined : g.nodes.get(fc);
  const m = node?.get('metadata');
  if (!node || str(node.get('type')) !== 'Affine' || !(m instanceof Map) || (g.pred.get(fc) ?? []).length !== 1) return null;
  const pool = str(m.get('pool'));
  const input = m.get('pool_input');
  const output = m.get('pool_output');
  if (pool === undefined || !isArray(input) || !isArray(output) || input.data.length !== 3 || output.data.length !== 2) return null;
  const shape: PoolShape = { input: [input.data[0], input.data[1], input.data[2]], pooled: [output.data[0], output.data[1]] };
  const oneD = at.shape.length === 2;
  const expected = oneD ? [shape.input[0], shape.input[2]] : [...shape.input];
  if (expected.length !== at.shape.length || expected.some((d, i) => d !== at.shape[i]) || (oneD && shape.pooled[0] !== 1)) return null;
  const w = recoverPooled(arr(node, 'weight', fc).data as Float32Array, shape);
  if (!w) return null;
  const classes = w.length / (shape.input[0] * shape.pooled[0] * shape.pooled[1]);
  const linear = setParams(new Linear(fc, w.length / classes, classes, 0), { data: w, shape: [classes, w.length / classes] }, arr(node, 'bias', fc));
  const avg = oneD ? new AdaptiveAvgPool1d(pool, shape.pooled[1]) : new AdaptiveAvgPool2d(pool, [shape.pooled[0], shape.pooled[1]]);
  return { layers: [avg, new Flatten(name), linear], next: (g.succ.get(fc) ?? [])[0] };
}

/** The layers of one node (their names are the node's), given the walk so far: one, but for a composed pool. */
function nodeLayers(g: Graph, name: string, at: Walk, steps: number, dt: number | null): { layers: Layer[]; next: string | undefined } {
  const node = g.nodes.get(name)!;
  const type = str(node.get('type'));
  const only = (n: string) => (g.succ.get(n) ?? [])[0];
  let layer: Layer;
  let next = only(name);
  if (type === 'Affine' || type === 'Linear') {
    const w = arr(node, 'weight', name);
    const linear = setParams(new Linear(name, w.shape[1], w.shape[0], 0), w, type === 'Affine' ? arr(node, 'bias', name) : null);
    return { layers: unfold(linear, node), next };
  } else if (type === 'Conv1d' || type === 'Conv2d') {
    const w = arr(node, 'weight', name);
    if (nums(node, 'dilation', name).some((d) => d !== 1) || nums(node, 'groups', name)[0] !== 1)
      throw new NirError(`${name}: only dilation 1 and groups 1 are read`);
    const stride = nums(node, 'stride', name);
    const padding = nums(node, 'padding', name);
    const [outChannels, inChannels] = w.shape;
    const bias = node.has('bias') ? arr(node, 'bias', name) : null;
    const conv = type === 'Conv1d'
      ? setParams(new Conv1d(name, { inChannels, outChannels, kernel: w.shape[2], stride: stride[0], padding: padding[0] }, 0), w, bias)
      : setParams(new Conv2d(name, { inChannels, outChannels, kernel: [w.shape[2], w.shape[3]], stride: [stride[0], stride[1]], padding: [padding[0], padding[1]] }, 0), w, bias);
    return { layers: unfold(conv, node), next };
  } else if (type === 'LIF' || type === 'IF') {
    layer = leaky(name, node, type, steps, dt);
  } else if (type === 'Flatten') {
    const head = pooledHead(g, name, at);
    if (head) return head;
    const s = at.shape;
    const start = nums(node, 'start_dim', name)[0];
    const endRaw = nums(node, 'end_dim', name)[0];
    const end = endRaw < 0 ? s.length + endRaw : endRaw;
    const out = [...s.slice(0, start), s.slice(start, end + 1).reduce((a, b) => a * b, 1), ...s.slice(end + 1)];
    layer = out.length === 1 ? new Flatten(name) : new Reshape(name, out);
  } else if (type === 'SumPool2d') {
    const then = only(name);
    const t = then === undefined ? undefined : g.nodes.get(then);
    const th = t && str(t.get('type')) === 'Threshold' ? uniform(t, 'threshold', then) : NaN;
    if (!(th > 0 && th <= 1) || !at.spikes)
      throw new NirError(`${name}: a SumPool2d is read only as a max pool over binary spikes (followed by a Threshold in (0, 1])`);
    const k = nums(node, 'kernel_size', name);
    const s = nums(node, 'stride', name);
    if (nums(node, 'padding', name).some((p) => p !== 0)) throw new NirError(`${name}: a padded pool is not read`);
    layer = at.shape.length === 2 ? new MaxPool1d(then, k[k.length - 1], s[s.length - 1]) : new MaxPool2d(then, [k[0], k[1]], [s[0], s[1]]);
    next = only(then);
  } else if (type === 'AvgPool2d') {
    const k = nums(node, 'kernel_size', name);
    const spatial = at.shape.slice(1);
    if (k.length !== spatial.length || k.some((d, i) => d !== spatial[i]))
      throw new NirError(`${name}: an AvgPool2d of kernel [${k}] over [${spatial}] is read only when it covers the whole input (global average pooling)`);
    layer = spatial.length === 1 ? new AdaptiveAvgPool1d(name, 1) : new AdaptiveAvgPool2d(name, [1, 1]);
  } else {
    throw new NirError(`${name}: a NIR ${type ?? 'untyped'} node is not read here`);
  }
  return { layers: [layer], next };
}

/** Appends `add` to the path, moving the walk through them; returns the last layer's name. */
function append(layers: Layer[], add: Layer[], at: Walk): string {
  for (const layer of add) {
    layers.push(layer);
    at.shape = layer.outputShape(at.shape);
    at.spikes = layer.emitsSpikes(at.spikes);
  }
  return add[add.length - 1].name;
}

const isJoin = (g: Graph, n: string) => (g.pred.get(n) ?? []).length > 1;
const isUnitScale = (g: Graph, n: string) => {
  const node = g.nodes.get(n)!;
  return str(node.get('type')) === 'Scale' && isArray(node.get('scale')) && (node.get('scale') as H5Array).data.every((v) => v === 1);
};

/** Layers from node `from` until a join (returned) or the Output node. */
function walkPath(g: Graph, from: string, at: Walk, steps: number, dt: number | null, layers: Layer[]): string {
  let n: string | undefined = from;
  while (n !== undefined) {
    const type = str(g.nodes.get(n)?.get('type'));
    if (type === 'Output' || isJoin(g, n)) return n;
    const { layers: add, next } = nodeLayers(g, n, at, steps, dt);
    n = afterFork(g, next, append(layers, add, at), at, steps, dt, layers);
  }
  throw new NirError(`${from}: the path ends without reaching the Output node`);
}

/** After node `last`: its one successor, or at a fork of two, a residual block up to the join. */
function afterFork(g: Graph, next: string | undefined, last: string, at: Walk, steps: number, dt: number | null, layers: Layer[]): string | undefined {
  const out = g.succ.get(last) ?? [];
  if (out.length <= 1) return next;
  if (out.length > 2) throw new NirError(`${last}: feeds ${out.length} nodes; a fork of two (a residual block) is read`);
  const paths = out.map((start) => {
    const path: Layer[] = [];
    const end = walkPath(g, start, { ...at }, steps, dt, path);
    return { path, end };
  });
  if (paths[0].end !== paths[1].end) throw new NirError(`${last}: its two branches join at ${paths[0].end} and ${paths[1].end}; one join is read`);
  const join = paths[0].end;
  const [main, shortcut] = paths[0].path.length >= paths[1].path.length ? [paths[0].path, paths[1].path] : [paths[1].path, paths[0].path];
  const block = new Residual(isUnitScale(g, join) ? join.replace(/\.sum$/, '') : `${join}.join`, main, shortcut);
  layers.push(block);
  at.shape = block.outputShape(at.shape);
  at.spikes = block.emitsSpikes(at.spikes);
  if (isUnitScale(g, join)) return afterFork(g, (g.succ.get(join) ?? [])[0], join, at, steps, dt, layers);
  // The join is a computing node: it follows the sum.
  const { layers: add, next: after } = nodeLayers(g, join, at, steps, dt);
  return afterFork(g, after, append(layers, add, at), at, steps, dt, layers);
}

/** The model of a NIR file (see the file's comment); throws NirError naming the first node it cannot read. */
export async function importNir(bytes: Uint8Array, options: NirImportOptions = {}): Promise<NirImport> {
  const root = await readHdf5(bytes);
  const graph = root.get('node');
  if (!(graph instanceof Map) || str(graph.get('type')) !== 'NIRGraph') throw new NirError('not a NIR file: no "node" group of type NIRGraph');
  const nodesGroup = graph.get('nodes');
  const edgesLeaf = graph.get('edges');
  if (!(nodesGroup instanceof Map) || !isStrings(edgesLeaf)) throw new NirError('the NIR graph has no "nodes" group or no "edges" list');
  const nodes = new Map([...nodesGroup].filter((e): e is [string, Node] => e[1] instanceof Map));
  const g: Graph = { nodes, succ: new Map(), pred: new Map() };
  for (let i = 0; i < edgesLeaf.strings.length; i += 2) {
    const [a, b] = [edgesLeaf.strings[i], edgesLeaf.strings[i + 1]];
    if (!nodes.has(a) || !nodes.has(b)) throw new NirError(`the edge ${a} -> ${b} names a node the graph does not have`);
    g.succ.set(a, [...(g.succ.get(a) ?? []), b]);
    g.pred.set(b, [...(g.pred.get(b) ?? []), a]);
  }
  const inputs = [...nodes].filter(([, n]) => str(n.get('type')) === 'Input');
  const outputs = [...nodes].filter(([, n]) => str(n.get('type')) === 'Output');
  if (inputs.length !== 1 || outputs.length !== 1) throw new NirError(`the graph has ${inputs.length} Input and ${outputs.length} Output nodes; one of each is read`);
  const meta = graph.get('metadata') instanceof Map ? (graph.get('metadata') as H5Group) : new Map<string, H5Leaf | H5Group>();
  const metaNum = (k: string) => (isArray(meta.get(k)) ? (meta.get(k) as H5Array).data[0] : null);
  const saved = str(meta.get(META.model));
  const model = saved ? (JSON.parse(saved) as { config: ModelConfig; classNames?: string[]; features?: FeatureSettings }) : null;
  const steps = options.steps ?? metaNum(META.steps) ?? model?.config.steps ?? DEFAULT_STEPS;
  const dt = metaNum(META.dt);
  const inputShape = nums(inputs[0][1], 'shape', inputs[0][0]);
  const layers: Layer[] = [];
  const encoder = new Encoder('encoder', 'repeat', steps, 0);
  const at: Walk = { shape: [...inputShape], spikes: false };
  try {
    const first = (g.succ.get(inputs[0][0]) ?? [])[0];
    if (first === undefined) throw new NirError('the Input node feeds nothing');
    const end = walkPath(g, first, at, steps, dt, layers);
    if (end !== outputs[0][0]) throw new NirError(`${end}: a join with no fork before it`);
    if (at.shape.length !== 1) throw new NirError(`the graph ends in [${at.shape}] per sample; the Output must be a vector of class scores`);
    // No neuron at all: unroll the input so the readout still sums `steps` outputs (as models/converted.ts).
    if (!layers.some((l) => l instanceof Leaky || l instanceof Residual)) encoder.repeatOnce = false;
    const config = model
      ? { ...model.config, steps, classes: at.shape[0] }
      : resolveConfig('tcy', { spiking: true, steps, classes: at.shape[0], encoder: 'repeat' });
    return {
      model: new Network(config, inputShape, [encoder, ...layers]),
      classNames: model?.classNames ?? null,
      features: model?.features ?? null,
      fromSnnVoice: model !== null,
      version: str(root.get('version')) ?? '',
    };
  } catch (e) {
    for (const l of [encoder, ...layers]) l.dispose();
    throw e;
  }
}
