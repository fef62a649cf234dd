using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models.FaceApi;

/// <summary>
/// face-api's <c>SsdMobilenetv1</c> face detector (a MobileNet v1 backbone with an SSD head, 5.4 MB
/// of weights) rebuilt in TorchSharp from its <c>src/ssdMobilenetv1/</c>: <c>mobileNetV1.ts</c>,
/// <c>predictionLayer.ts</c>, <c>boxPredictionLayer.ts</c> and <c>outputLayer.ts</c>. Input:
/// <c>[N, 3, 512, 512]</c> RGB in 0..1; output: every anchor's decoded box <c>[N, 5118, 4]</c> as
/// (top, left, bottom, right) fractions of the input, and its face score <c>[N, 5118]</c>.
/// Non-maximum suppression is left to the caller, as in face-api.
/// </summary>
/// <remarks>
/// Speed: an input made by permuting NHWC pixels to NCHW (as <see cref="Faces.FaceDetector"/> does)
/// is channels-last in memory, and stays so through the network: libtorch's depthwise and 3x3
/// convolutions run about three times faster on it than on plain NCHW. The 1x1 convolutions, most
/// of the arithmetic, run as matrix products over the pixels (<see cref="TfLayers.OneByOne"/>): oneDNN's
/// channels-last 1x1 convolution dies with SIGFPE on this machine's CPU for some shapes (512 to
/// 1024 channels), and a plain GEMM is as fast.
/// </remarks>
public sealed class SsdMobilenetV1Net : Module<Tensor, (Tensor Boxes, Tensor Scores)>
{
    public const int InputSize = 512;
    public const int AnchorCount = 5118;

    /// <summary>The depthwise convolutions that halve the size (<c>getStridesForLayerIdx</c>).</summary>
    static readonly int[] StridedLayers = [2, 4, 6, 12];

    /// <summary>Channels out of each of the backbone's 13 depthwise-pointwise pairs.</summary>
    static readonly int[] BackboneChannels = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];

    readonly TfConv conv0;
    readonly ModuleList<BackbonePair> backbone;
    readonly ModuleList<TfConv> extra;
    readonly ModuleList<BoxPredictor> predictors;
    readonly Tensor anchors;

    public SsdMobilenetV1Net(string name = "SsdMobilenetV1") : base(name)
    {
        conv0 = new TfConv(nameof(conv0), 3, 32, 3, 2);
        backbone = new ModuleList<BackbonePair>();
        var channels = 32;
        for (var layer = 1; layer <= BackboneChannels.Length; layer++)
        {
            backbone.Add(new BackbonePair($"conv{layer}", channels, BackboneChannels[layer - 1], StridedLayers.Contains(layer) ? 2 : 1));
            channels = BackboneChannels[layer - 1];
        }
        // predictionLayer.ts: alternating 1x1 reductions and 3x3 stride-2 convolutions to 8, 4, 2 and 1 cells.
        extra = new ModuleList<TfConv>(
            new TfConv("conv0", 1024, 256, 1, 1), new TfConv("conv1", 256, 512, 3, 2),
            new TfConv("conv2", 512, 128, 1, 1), new TfConv("conv3", 128, 256, 3, 2),
            new TfConv("conv4", 256, 128, 1, 1), new TfConv("conv5", 128, 256, 3, 2),
            new TfConv("conv6", 256, 64, 1, 1), new TfConv("conv7", 64, 128, 3, 2));
        // Box predictors read conv11 (3 anchors a cell), the backbone's output, and extra 1, 3, 5, 7 (6 each).
        predictors = new ModuleList<BoxPredictor>(
            new BoxPredictor("box0", 512, 3), new BoxPredictor("box1", 1024, 6), new BoxPredictor("box2", 512, 6),
            new BoxPredictor("box3", 256, 6), new BoxPredictor("box4", 256, 6), new BoxPredictor("box5", 128, 6));
        anchors = zeros(AnchorCount, 4);
        RegisterComponents();
    }

    public static SsdMobilenetV1Net FromPretrained(TfjsWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var net = new SsdMobilenetV1Net();
        net.conv0.Load(weights, "MobilenetV1/Conv2d_0_pointwise/weights", "MobilenetV1/Conv2d_0_pointwise/convolution_bn_offset");
        for (var layer = 1; layer <= net.backbone.Count; layer++)
            net.backbone[layer - 1].Load(weights, layer);
        for (var i = 0; i < net.extra.Count; i++)
            net.extra[i].Load(weights, $"Prediction/Conv2d_{i}_pointwise/weights", $"Prediction/Conv2d_{i}_pointwise/convolution_bn_offset");
        for (var i = 0; i < net.predictors.Count; i++)
            net.predictors[i].Load(weights, $"Prediction/BoxPredictor_{i}");
        using (no_grad())
        using (var priors = weights.Tensor("Output/extra_dim"))
            net.anchors.copy_(priors.reshape(AnchorCount, 4));
        net.eval();
        return net;
    }

    public override (Tensor Boxes, Tensor Scores) forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        // 0..1 to -1..1: face-api computes x / 127.5 - 1 on 0..255 pixels.
        var x = input.mul(Scalars.Of(2)).sub(Scalars.Of(1));
        x = conv0.forward(x);
        Tensor? conv11 = null;
        for (var layer = 1; layer <= backbone.Count; layer++)
        {
            x = backbone[layer - 1].forward(x);
            if (layer == 11)
                conv11 = x;
        }
        var maps = new List<Tensor> { conv11!, x };
        var y = x;
        for (var i = 0; i < extra.Count; i++)
        {
            y = extra[i].forward(y);
            if (i % 2 == 1)
                maps.Add(y);
        }
        var encodings = new List<Tensor>();
        var logits = new List<Tensor>();
        for (var i = 0; i < predictors.Count; i++)
        {
            var (encoding, logit) = predictors[i].forward(maps[i]);
            encodings.Add(encoding);
            logits.Add(logit);
        }
        var boxes = Decode(cat(encodings, 1));
        // Column 0 is the background class; face-api keeps the sigmoid of column 1.
        var scores = cat(logits, 1).select(2, 1).sigmoid();
        return (boxes.MoveToOuterDisposeScope(), scores.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// <c>decodeBoxesLayer</c>: the usual SSD box coding with scales 10 (centres) and 5 (sizes),
    /// against the anchors the weights carry as <c>Output/extra_dim</c> (top, left, bottom, right).
    /// </summary>
    Tensor Decode(Tensor encodings)
    {
        var anchorSizes = anchors.narrow(1, 2, 2).sub(anchors.narrow(1, 0, 2));
        var anchorCentres = anchors.narrow(1, 0, 2).Plus(anchorSizes.div(Scalars.Of(2)));
        var centres = encodings.narrow(2, 0, 2).div(Scalars.Of(10)).mul(anchorSizes).Plus(anchorCentres);
        var halves = encodings.narrow(2, 2, 2).div(Scalars.Of(5)).exp().mul(anchorSizes).div(Scalars.Of(2));
        return cat([centres.sub(halves), centres.Plus(halves)], 2);
    }

    /// <summary><c>pointwiseConvLayer</c>: a convolution with TensorFlow's <c>same</c> padding, the folded batch norm's offset, then ReLU6.</summary>
    sealed class TfConv : Module<Tensor, Tensor>
    {
        readonly Conv2d conv;
        readonly long _kernel;
        readonly long _stride;

        public TfConv(string name, long channelsIn, long channelsOut, long kernel, long stride) : base(name)
        {
            _kernel = kernel;
            _stride = stride;
            conv = Conv2d(channelsIn, channelsOut, kernel, stride: stride);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            if (_kernel == 1 && _stride == 1)
            {
                using var product = TfLayers.OneByOne(conv, input);
                return product.clamp(Scalars.Of(0), Scalars.Of(6));
            }
            using var padded = TfLayers.PadSame(input, _kernel, _stride);
            using var output = conv.forward(padded);
            return output.clamp(Scalars.Of(0), Scalars.Of(6));
        }

        public void Load(TfjsWeights weights, string filters, string offset) => TfLayers.LoadConv(conv, weights, filters, offset);
    }

    /// <summary>One backbone step: a 3x3 depthwise convolution with batch norm and ReLU6, then a pointwise <see cref="TfConv"/>.</summary>
    sealed class BackbonePair : Module<Tensor, Tensor>
    {
        /// <summary><c>mobileNetV1.ts</c>'s epsilon, a float32 0.001.</summary>
        const double Epsilon = 0.0010000000474974513;

        readonly Conv2d depthwise;
        readonly BatchNorm2d norm;
        readonly TfConv pointwise;
        readonly long _stride;

        public BackbonePair(string name, long channelsIn, long channelsOut, long stride) : base(name)
        {
            _stride = stride;
            depthwise = Conv2d(channelsIn, channelsIn, 3, stride: stride, groups: channelsIn, bias: false);
            norm = BatchNorm2d(channelsIn, eps: Epsilon);
            pointwise = new TfConv(nameof(pointwise), channelsIn, channelsOut, 1, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = norm.forward(depthwise.forward(TfLayers.PadSame(input, 3, _stride))).clamp(Scalars.Of(0), Scalars.Of(6));
            return pointwise.forward(x).MoveToOuterDisposeScope();
        }

        public void Load(TfjsWeights weights, int layer)
        {
            var prefix = $"MobilenetV1/Conv2d_{layer}_depthwise";
            TfLayers.LoadDepthwise(depthwise, weights, $"{prefix}/depthwise_weights");
            TfLayers.LoadBatchNorm(norm, weights, $"{prefix}/BatchNorm");
            pointwise.Load(weights, $"MobilenetV1/Conv2d_{layer}_pointwise/weights", $"MobilenetV1/Conv2d_{layer}_pointwise/convolution_bn_offset");
        }
    }

    /// <summary>
    /// <c>boxPredictionLayer</c>: two 1x1 convolutions giving, for each cell and anchor in TensorFlow's
    /// NHWC order, four box encodings <c>[N, cells x anchors, 4]</c> and three class logits <c>[N, cells x anchors, 3]</c>.
    /// </summary>
    sealed class BoxPredictor : Module<Tensor, (Tensor Encodings, Tensor Logits)>
    {
        readonly Conv2d boxes;
        readonly Conv2d classes;

        public BoxPredictor(string name, long channelsIn, long anchorsPerCell) : base(name)
        {
            boxes = Conv2d(channelsIn, anchorsPerCell * 4, 1);
            classes = Conv2d(channelsIn, anchorsPerCell * 3, 1);
            RegisterComponents();
        }

        public override (Tensor Encodings, Tensor Logits) forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var batch = input.shape[0];
            var encodings = TfLayers.OneByOne(boxes, input).permute(0, 2, 3, 1).reshape(batch, -1, 4);
            var logits = TfLayers.OneByOne(classes, input).permute(0, 2, 3, 1).reshape(batch, -1, 3);
            return (encodings.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
        }

        public void Load(TfjsWeights weights, string prefix)
        {
            TfLayers.LoadConv(boxes, weights, $"{prefix}/BoxEncodingPredictor/weights", $"{prefix}/BoxEncodingPredictor/biases");
            TfLayers.LoadConv(classes, weights, $"{prefix}/ClassPredictor/weights", $"{prefix}/ClassPredictor/biases");
        }
    }
}
