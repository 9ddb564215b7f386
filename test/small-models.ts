// Small networks with the zoo's structure (conv, batch norm, ReLU, max pool, adaptive average pool,
// linear), fast enough for finite differences and overfitting in tests.
import { AdaptiveAvgPool1d, AdaptiveAvgPool2d } from '../src/layers/adaptive-avg-pool.js';
import { BatchNorm1d, BatchNorm2d } from '../src/layers/batchnorm.js';
import { Conv1d } from '../src/layers/conv1d.js';
import { Conv2d } from '../src/layers/conv2d.js';
import { Flatten } from '../src/layers/flatten.js';
import { deriveSeed } from '../src/util/hash.js';
import { Linear } from '../src/layers/linear.js';
import { MaxPool1d, MaxPool2d } from '../src/layers/maxpool.js';
import { ReLU } from '../src/layers/relu.js';
import { resolveConfig } from '../src/models/config.js';
import { Network } from '../src/models/network.js';

/** M5-like over [1, 12]: conv (padded) + batch norm before the first ReLU, as M5's first block; `width`
 *  multiplies the channels. Migrates as 'm5'. */
export function smallCnn1d(classes = 3, seed = 1, width = 1): Network {
  const s = (n: string) => deriveSeed(seed, n);
  const [c1, c2] = [3 * width, 4 * width];
  return new Network(resolveConfig('m5', { classes, seed }), [1, 12], [
    new Conv1d('conv1', { inChannels: 1, outChannels: c1, kernel: 3, padding: 1 }, s('conv1')),
    new BatchNorm1d('bn1', c1),
    new ReLU('relu1'),
    new MaxPool1d('pool1', 2),
    new Conv1d('conv2', { inChannels: c1, outChannels: c2, kernel: 3 }, s('conv2')),
    new ReLU('relu2'),
    new AdaptiveAvgPool1d('avgpool', 1),
    new Flatten('flatten'),
    new Linear('fc', c2, classes, s('fc')),
  ]);
}

/** Hjh-like over [1, 6, 8]: 'same' conv, batch norm, pools with overlapping adaptive bins. Migrates as 'hjh'. */
export function smallCnn2d(classes = 3, seed = 1): Network {
  const s = (n: string) => deriveSeed(seed, n);
  return new Network(resolveConfig('hjh', { classes, seed }), [1, 6, 8], [
    new Conv2d('conv1', { inChannels: 1, outChannels: 3, kernel: [3, 3], padding: 'same' }, s('conv1')),
    new BatchNorm2d('bn1', 3),
    new ReLU('relu1'),
    new MaxPool2d('pool1', [2, 2]),
    new Conv2d('conv2', { inChannels: 3, outChannels: 4, kernel: [2, 2] }, s('conv2')),
    new BatchNorm2d('bn2', 4),
    new ReLU('relu2'),
    new AdaptiveAvgPool2d('avgpool', [2, 2]),
    new Flatten('flatten'),
    new Linear('fc', 16, classes, s('fc')),
  ]);
}
