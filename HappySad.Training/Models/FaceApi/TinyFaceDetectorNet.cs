using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models.FaceApi;

/// <summary>
/// face-api's <c>TinyFaceDetector</c> (a Tiny-YOLOv2 with depthwise separable convolutions, 190 KB
/// of weights) rebuilt in TorchSharp from its <c>src/tinyYolov2/TinyYolov2Base.ts</c>
/// (<c>runMobilenet</c>). Input: <c>[N, 3, S, S]</c> RGB in 0..1 with S a multiple of 32; output: the
/// raw grid <c>[N, 25, S/32, S/32]</c>, five anchors times (x, y, w, h, score) per cell.
/// </summary>
public sealed class TinyFaceDetectorNet : Module<Tensor, Tensor>
{
    /// <summary>The training images' mean, from face-api's <c>tinyFaceDetector/const.ts</c>.</summary>
    static readonly float[] MeanRgb = [117.001f, 114.697f, 97.404f];

    static readonly float[] MeanOfInput = [.. MeanRgb.Select(m => m / 255f)];

    /// <summary>The training images' mean on the 0..1 scale of the network's input: what it subtracts first.</summary>
    public static ReadOnlySpan<float> Mean => MeanOfInput;

    /// <summary>Anchor widths and heights in grid cells, from <c>tinyFaceDetector/const.ts</c>.</summary>
    public static readonly (double Width, double Height)[] Anchors =
    [
        (1.603231, 2.094468), (6.041143, 7.080126), (2.882459, 3.518061), (4.266906, 5.178857), (9.041765, 10.66308),
    ];

    readonly Conv2d conv0;
    readonly SeparableConv conv1;
    readonly SeparableConv conv2;
    readonly SeparableConv conv3;
    readonly SeparableConv conv4;
    readonly SeparableConv conv5;
    readonly Conv2d conv8;
    readonly Tensor mean;

    public TinyFaceDetectorNet(string name = "TinyFaceDetector") : base(name)
    {
        conv0 = Conv2d(3, 16, 3);
        conv1 = new SeparableConv(nameof(conv1), 16, 32, 1, tfSamePadding: false);
        conv2 = new SeparableConv(nameof(conv2), 32, 64, 1, tfSamePadding: false);
        conv3 = new SeparableConv(nameof(conv3), 64, 128, 1, tfSamePadding: false);
        conv4 = new SeparableConv(nameof(conv4), 128, 256, 1, tfSamePadding: false);
        conv5 = new SeparableConv(nameof(conv5), 256, 512, 1, tfSamePadding: false);
        conv8 = Conv2d(512, 25, 1);
        mean = tensor(MeanOfInput, [1, 3, 1, 1]);
        RegisterComponents();
    }

    public static TinyFaceDetectorNet FromPretrained(TfjsWeights weights)
    {
        var net = new TinyFaceDetectorNet();
        TfLayers.LoadConv(net.conv0, weights, "conv0/filters", "conv0/bias");
        net.conv1.Load(weights, "conv1");
        net.conv2.Load(weights, "conv2");
        net.conv3.Load(weights, "conv3");
        net.conv4.Load(weights, "conv4");
        net.conv5.Load(weights, "conv5");
        TfLayers.LoadConv(net.conv8, weights, "conv8/filters", "conv8/bias");
        net.eval();
        return net;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return ForwardCentred(input.sub(mean)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="forward"/> on an input already less the training mean (<see cref="Mean"/>): what the
    /// detector hands it, shifted while its bytes became floats.
    /// </summary>
    public Tensor ForwardCentred(Tensor centred)
    {
        ArgumentNullException.ThrowIfNull(centred);
        using var scope = NewDisposeScope();
        // Leaky ReLU is monotonic, so it commutes with the maximum: applied after pooling, the same
        // values from a quarter of the work.
        var x = Leaky(Pool(conv0.forward(centred)));
        x = Leaky(Pool(conv1.forward(x)));
        x = Leaky(Pool(conv2.forward(x)));
        x = Leaky(Pool(conv3.forward(x)));
        x = Leaky(Pool(conv4.forward(x)));
        // maxPool 2x2, stride 1, 'same': TensorFlow pads after the image only, and pooling ignores the pad.
        x = functional.max_pool2d(functional.pad(Leaky(conv5.forward(x)), [0, 1, 0, 1], TorchSharp.PaddingModes.Replicate), 2, 1);
        return conv8.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>In place: its input (a pooling's or the last convolution's output) is this pass's own, and a copy of it costs a tenth of the pass.</summary>
    internal static Tensor Leaky(Tensor x) => x.leaky_relu_(Scalars.Of(0.1));

    /// <summary>
    /// maxPool 2x2, stride 2, 'same': ceil mode takes the odd last pixel alone, as TensorFlow does
    /// (here by repeating it, which leaves its maximum unchanged). Taken as the maximum of each pair
    /// of rows, then of each pair of columns: the same values as <c>max_pool2d(x, 2, 2, ceil_mode: true)</c>,
    /// whose kernel also writes an index for every output (discarded) and took 17% of the pass in
    /// channels-last memory. Rows first, because a row pair is one long run of memory in either
    /// layout: 0.56 against 0.73 ms for the first pooling, on one thread, against the four strided
    /// quarters this took before.
    /// </summary>
    internal static Tensor Pool(Tensor x)
    {
        using var scope = NewDisposeScope();
        var (height, width) = (x.shape[2], x.shape[3]);
        if (height % 2 == 1 || width % 2 == 1)
            x = functional.pad(x, [0, width % 2, 0, height % 2], TorchSharp.PaddingModes.Replicate);
        var rows = x.slice(2, 0, x.shape[2], 2).maximum(x.slice(2, 1, x.shape[2], 2));
        return rows.slice(3, 0, x.shape[3], 2).maximum(rows.slice(3, 1, x.shape[3], 2)).MoveToOuterDisposeScope();
    }
}
