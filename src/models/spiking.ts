// CNN -> SNN migration: the same layers with the CNN's weights copied, an encoder in front, and the
// ReLUs of the convolutional trunk (everything before the first fully connected layer) replaced by
// Leaky neurons. Per-model choices of the study: Piczak's fully connected head keeps its ReLUs;
// HjhSNN and TcySNN also put a Leaky on the input; hjh-scnn is a Leaky on the input followed by the
// unchanged CNN.
import { Encoder } from '../layers/encoder.js';
import { deriveSeed } from '../util/hash.js';
import { pickSettings } from '../util/schema.js';
import type { Layer } from '../layers/layer.js';
import { Leaky, type LeakySettings, NEURON_SETTINGS } from '../layers/leaky.js';
import { Linear } from '../layers/linear.js';
import { QCFS } from '../layers/qcfs.js';
import { ReLU } from '../layers/relu.js';
import { Residual } from '../layers/residual.js';
import { DEFAULT_STEPS, resolveConfig } from './config.js';
import { convertNetwork, neuronName } from './converted.js';
import { Network } from './network.js';
import type { Model, ModelConfig, ModelName } from './types.js';

interface Migration {
  /** A Leaky on the (encoded) input, before the first layer. */
  inputLeaky: boolean;
  /** Replace the trunk's ReLUs by Leaky neurons. */
  convertTrunk: boolean;
}

const MIGRATIONS: Record<ModelName, Migration> = {
  m5: { inputLeaky: false, convertTrunk: true },
  piczak: { inputLeaky: false, convertTrunk: true },
  hjh: { inputLeaky: true, convertTrunk: true },
  'hjh-scnn': { inputLeaky: true, convertTrunk: false },
  tcy: { inputLeaky: true, convertTrunk: true },
  tcresnet8: { inputLeaky: false, convertTrunk: true },
  bcresnet: { inputLeaky: false, convertTrunk: true },
};

/**
 * The SNN twin of a CNN: its weights and batch-norm statistics copied (the CNN stays usable and is not
 * changed). Options override the CNN's settings; steps default to 5, `name` may turn an Hjh CNN into
 * 'hjh-scnn'. With `converted: true` it is the converted layout (models/converted.ts), unscaled: use
 * convert() (train/convert.ts) for a converted SNN that keeps the CNN's accuracy.
 */
export function toSpiking(cnn: Model, options: Partial<ModelConfig> = {}): Model {
  if (!(cnn instanceof Network)) throw new TypeError('toSpiking: the model was not built by createModel');
  if (cnn.spiking) throw new TypeError(`toSpiking: the ${cnn.name} model is already spiking`);
  const name = options.name ?? cnn.name;
  if (name !== cnn.name && !(name === 'hjh-scnn' && cnn.name === 'hjh'))
    throw new RangeError(`toSpiking: option name "${name}" does not fit a ${cnn.name} CNN`);
  const config = resolveConfig(name, { ...cnn.config, steps: DEFAULT_STEPS, ...options, name, spiking: true });
  if (config.converted) return convertNetwork(cnn, config);
  const neuron = pickSettings(NEURON_SETTINGS, config) as LeakySettings;
  const { inputLeaky, convertTrunk } = MIGRATIONS[name];
  const layers: Layer[] = [new Encoder('encoder', config.encoder, config.steps, deriveSeed(config.seed, 'encoder'))];
  if (inputLeaky) layers.push(new Leaky('lif0', neuron));
  let trunk = true;
  // relu3 -> lif3, block1.relu2 -> block1.lif2; inside residual blocks too. A QCFS is a ReLU here.
  const migrate = (layer: Layer): Layer =>
    layer instanceof Residual
      ? layer.map(migrate)
      : convertTrunk && trunk && (layer instanceof ReLU || layer instanceof QCFS)
        ? new Leaky(neuronName(layer.name), neuron)
        : layer.clone();
  for (const layer of cnn.layers) {
    if (layer instanceof Linear) trunk = false;
    layers.push(migrate(layer));
  }
  try {
    return new Network(config, cnn.inputShape, layers);
  } catch (e) {
    for (const l of layers) l.dispose();
    throw e;
  }
}
