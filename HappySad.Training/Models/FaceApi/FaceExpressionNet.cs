using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models.FaceApi;

/// <summary>
/// face-api's <c>FaceFeatureExtractor</c>, rebuilt from <c>src/faceFeatureExtractor/</c>: four dense
/// blocks of separable convolutions (32, 64, 128, 256 channels, each halving the size) and a 7x7
/// average pool. Input <c>[N, 3, 112, 112]</c> RGB in 0..1 (a face crop); output <c>[N, 256]</c>.
/// </summary>
/// <remarks>
/// It runs in channels-last memory, its 1x1 convolutions as matrix products (<see cref="TfLayers.OneByOne"/>):
/// 5.3 to 6.4 ms for a face and its mirror image on 2 cores, against 8.0 to 11.0 in plain NCHW. Its
/// outputs move by float rounding only (logits within 4e-6 of the NCHW pass's).
/// </remarks>
public sealed class FaceFeatureExtractor : Module<Tensor, Tensor>
{
    public const int InputSize = 112;
    public const int Features = 256;

    static readonly float[] MeanRgb = [122.782f, 117.001f, 104.298f];

    readonly DenseBlock dense0;
    readonly DenseBlock dense1;
    readonly DenseBlock dense2;
    readonly DenseBlock dense3;
    readonly Tensor mean;

    public FaceFeatureExtractor(string name = "FaceFeatureExtractor") : base(name)
    {
        dense0 = new DenseBlock(nameof(dense0), 3, 32, isFirstLayer: true);
        dense1 = new DenseBlock(nameof(dense1), 32, 64, isFirstLayer: false);
        dense2 = new DenseBlock(nameof(dense2), 64, 128, isFirstLayer: false);
        dense3 = new DenseBlock(nameof(dense3), 128, 256, isFirstLayer: false);
        mean = tensor(MeanRgb.Select(m => m / 255f).ToArray(), [1, 3, 1, 1]);
        RegisterComponents();
    }

    /// <summary>The last block, the one worth fine-tuning on a small data set.</summary>
    public Module<Tensor, Tensor> LastBlock => dense3;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = dense3.forward(dense2.forward(dense1.forward(dense0.forward(TfLayers.ChannelsLast(input.sub(mean))))));
        return functional.avg_pool2d(x, 7, 2).flatten(1).MoveToOuterDisposeScope();
    }

    public void Load(TfjsWeights weights)
    {
        dense0.Load(weights, "dense0");
        dense1.Load(weights, "dense1");
        dense2.Load(weights, "dense2");
        dense3.Load(weights, "dense3");
    }

    /// <summary><c>denseBlock4</c>: each separable convolution sees the sum of all earlier outputs.</summary>
    sealed class DenseBlock : Module<Tensor, Tensor>
    {
        readonly Module<Tensor, Tensor> conv0;
        readonly SeparableConv conv1;
        readonly SeparableConv conv2;
        readonly SeparableConv conv3;
        readonly bool _isFirstLayer;

        public DenseBlock(string name, long channelsIn, long channelsOut, bool isFirstLayer) : base(name)
        {
            _isFirstLayer = isFirstLayer;
            conv0 = isFirstLayer
                ? Conv2d(channelsIn, channelsOut, 3, stride: 2)
                : new SeparableConv(nameof(conv0), channelsIn, channelsOut, 2, tfSamePadding: true, pointwiseAsProduct: true);
            conv1 = new SeparableConv(nameof(conv1), channelsOut, channelsOut, 1, tfSamePadding: true, pointwiseAsProduct: true);
            conv2 = new SeparableConv(nameof(conv2), channelsOut, channelsOut, 1, tfSamePadding: true, pointwiseAsProduct: true);
            conv3 = new SeparableConv(nameof(conv3), channelsOut, channelsOut, 1, tfSamePadding: true, pointwiseAsProduct: true);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var out1 = functional.relu(conv0.forward(_isFirstLayer ? TfLayers.PadSame(input, 3, 2) : input));
            var out2 = conv1.forward(out1);
            var out3 = conv2.forward(functional.relu(out1.Plus(out2)));
            var out4 = conv3.forward(functional.relu(out1.Plus(out2.Plus(out3))));
            return functional.relu(out1.Plus(out2.Plus(out3.Plus(out4)))).MoveToOuterDisposeScope();
        }

        public void Load(TfjsWeights weights, string prefix)
        {
            if (conv0 is SeparableConv separable)
                separable.Load(weights, $"{prefix}/conv0");
            else
                TfLayers.LoadConv((Conv2d)conv0, weights, $"{prefix}/conv0/filters", $"{prefix}/conv0/bias");
            conv1.Load(weights, $"{prefix}/conv1");
            conv2.Load(weights, $"{prefix}/conv2");
            conv3.Load(weights, $"{prefix}/conv3");
        }
    }
}

/// <summary>
/// face-api's <c>FaceExpressionNet</c>: the feature extractor and one dense layer to seven expression
/// logits, in <see cref="Expressions"/> order. The softmax is left to callers.
/// </summary>
public sealed class FaceExpressionNet : Module<Tensor, Tensor>
{
    /// <summary>Output order, from face-api's <c>src/faceExpressionNet/FaceExpressions.ts</c>.</summary>
    public static readonly IReadOnlyList<string> Expressions = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"];

    static readonly long Happy = Expressions.ToList().IndexOf("happy");

    readonly FaceFeatureExtractor extractor;
    readonly Linear fc;

    public FaceExpressionNet(string name = "FaceExpressionNet") : base(name)
    {
        extractor = new FaceFeatureExtractor(nameof(extractor));
        fc = Linear(FaceFeatureExtractor.Features, Expressions.Count);
        RegisterComponents();
    }

    public FaceFeatureExtractor Extractor => extractor;
    public Linear Classifier => fc;

    public static FaceExpressionNet FromPretrained(TfjsWeights weights)
    {
        var net = new FaceExpressionNet();
        net.extractor.Load(weights);
        TfLayers.LoadDense(net.fc, weights, "fc");
        net.eval();
        return net;
    }

    public override Tensor forward(Tensor input)
    {
        using var features = extractor.forward(input);
        return fc.forward(features);
    }

    /// <summary>
    /// The network's own happy verdict from its <c>[N, 7]</c> logits, as <c>[N, 1]</c> log-odds
    /// log(p / (1 - p)) for p = softmax(logits)[happy], computed without forming p: positive exactly
    /// when p is over one half.
    /// </summary>
    public static Tensor HappyLogOdds(Tensor logits) => HappyLogOdds(logits, Happy);

    /// <summary>
    /// The mean of each face's happy log-odds and its mirror image's, both read in one pass (for a lone
    /// face that costs about three quarters of two passes): <c>[N, 1]</c> for <c>[N, 3, 112, 112]</c> faces.
    /// </summary>
    public Tensor HappyLogOddsWithMirror(Tensor faces)
    {
        ArgumentNullException.ThrowIfNull(faces);
        using var scope = NewDisposeScope();
        return MeanOfHalves(HappyLogOdds(forward(cat([faces, faces.flip(3)], 0))), faces.shape[0]).MoveToOuterDisposeScope();
    }

    /// <summary>The mean of the first <paramref name="count"/> rows and the next <paramref name="count"/>: a reading of each face and of its mirror image.</summary>
    internal static Tensor MeanOfHalves(Tensor both, long count) => both.narrow(0, 0, count).Plus(both.narrow(0, count, count)).div(Scalars.Of(2));

    /// <summary>The log-odds of class <paramref name="happy"/> against the rest, for any network's logits.</summary>
    internal static Tensor HappyLogOdds(Tensor logits, long happy)
    {
        ArgumentNullException.ThrowIfNull(logits);
        using var scope = NewDisposeScope();
        var others = cat([logits.narrow(1, 0, happy), logits.narrow(1, happy + 1, logits.shape[1] - happy - 1)], 1);
        return logits.narrow(1, happy, 1).sub(others.logsumexp(1, keepdim: true)).MoveToOuterDisposeScope();
    }
}
