using HappySad.Training.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models.FaceApi;

/// <summary>
/// TensorFlow semantics that PyTorch lacks, for the face-api ports: TensorFlow's <c>same</c> padding
/// puts the odd pixel after the image (PyTorch pads symmetrically), and its weights are stored
/// HWIO where PyTorch wants OIHW.
/// </summary>
internal static class TfLayers
{
    /// <summary>Pads like TensorFlow's <c>padding: 'same'</c> for a square kernel and stride.</summary>
    public static Tensor PadSame(Tensor input, long kernel, long stride)
    {
        var (height, width) = (input.shape[2], input.shape[3]);
        var (padHeight, padWidth) = (SamePadding(height, kernel, stride), SamePadding(width, kernel, stride));
        return padHeight == 0 && padWidth == 0
            ? input.alias()
            : functional.pad(input, [padWidth / 2, padWidth - (padWidth / 2), padHeight / 2, padHeight - (padHeight / 2)]);
    }

    static long SamePadding(long size, long kernel, long stride)
    {
        var output = (size + stride - 1) / stride;
        return Math.Max(((output - 1) * stride) + kernel - size, 0);
    }

    /// <summary>
    /// A 1x1 convolution as a matrix product over the pixels: <c>[N, C, H, W]</c> in, <c>[N, O, H, W]</c>
    /// out, channels-last in memory both ways (a channels-last input's NHWC permutation needs no copy).
    /// oneDNN's own channels-last 1x1 convolution dies with SIGFPE on some CPUs for some shapes (512 to
    /// 1,024 channels here), and a plain GEMM is as fast.
    /// </summary>
    public static Tensor OneByOne(Conv2d conv, Tensor input)
    {
        using var scope = NewDisposeScope();
        var weight = conv.weight!.flatten(1);
        var output = functional.linear(input.permute(0, 2, 3, 1), weight, conv.bias);
        return output.permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same values in channels-last memory (TorchSharp 0.107 has no memory-format argument, but
    /// libtorch picks its kernels from the strides): depthwise and 3x3 convolutions run two to three
    /// times faster on it than on plain NCHW.
    /// </summary>
    public static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>Copies a TensorFlow conv kernel (HWIO) into a PyTorch convolution (OIHW), and its bias.</summary>
    public static void LoadConv(Conv2d conv, TfjsWeights weights, string filters, string? bias)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        conv.weight!.copy_(weights.Tensor(filters).permute(3, 2, 0, 1));
        if (bias is not null)
            conv.bias!.copy_(weights.Tensor(bias));
    }

    /// <summary>Copies a TensorFlow depthwise kernel (H, W, C, 1) into a grouped PyTorch convolution (C, 1, H, W), and its bias when it has one.</summary>
    public static void LoadDepthwise(Conv2d conv, TfjsWeights weights, string filters, string? bias = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        conv.weight!.copy_(weights.Tensor(filters).permute(2, 3, 0, 1));
        if (bias is not null)
            conv.bias!.copy_(weights.Tensor(bias));
    }

    /// <summary>Copies a TensorFlow batch norm (<c>gamma</c>, <c>beta</c>, <c>moving_mean</c>, <c>moving_variance</c>) into a PyTorch one.</summary>
    public static void LoadBatchNorm(BatchNorm2d norm, TfjsWeights weights, string prefix)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        norm.weight!.copy_(weights.Tensor($"{prefix}/gamma"));
        norm.bias!.copy_(weights.Tensor($"{prefix}/beta"));
        norm.running_mean!.copy_(weights.Tensor($"{prefix}/moving_mean"));
        norm.running_var!.copy_(weights.Tensor($"{prefix}/moving_variance"));
    }

    /// <summary>Copies a TensorFlow dense layer (weights I x O) into a PyTorch linear layer (O x I).</summary>
    public static void LoadDense(Linear linear, TfjsWeights weights, string prefix)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        linear.weight!.copy_(weights.Tensor($"{prefix}/weights").t());
        linear.bias!.copy_(weights.Tensor($"{prefix}/bias"));
    }
}

/// <summary>TensorFlow's <c>separableConv2d</c> plus bias: a 3x3 depthwise convolution, then a 1x1 pointwise one.</summary>
internal sealed class SeparableConv : Module<Tensor, Tensor>
{
    readonly Conv2d depthwise;
    readonly Conv2d pointwise;
    readonly long _stride;
    readonly bool _tfSamePadding;
    readonly bool _pointwiseAsProduct;

    /// <param name="tfSamePadding">TensorFlow <c>same</c> padding; otherwise one pixel each side, as tinyYolov2 pads explicitly.</param>
    /// <param name="pointwiseAsProduct">The 1x1 convolution as <see cref="TfLayers.OneByOne"/>, for networks run in channels-last memory.</param>
    public SeparableConv(string name, long channelsIn, long channelsOut, long stride, bool tfSamePadding, bool pointwiseAsProduct = false) : base(name)
    {
        _stride = stride;
        _tfSamePadding = tfSamePadding;
        _pointwiseAsProduct = pointwiseAsProduct;
        depthwise = Conv2d(channelsIn, channelsIn, 3, stride: stride, padding: tfSamePadding ? 0 : 1, groups: channelsIn, bias: false);
        pointwise = Conv2d(channelsIn, channelsOut, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (!_tfSamePadding)
        {
            using var unpadded = depthwise.forward(input);
            return Pointwise(unpadded);
        }
        using var padded = TfLayers.PadSame(input, 3, _stride);
        using var spatial = depthwise.forward(padded);
        return Pointwise(spatial);
    }

    Tensor Pointwise(Tensor spatial) => _pointwiseAsProduct ? TfLayers.OneByOne(pointwise, spatial) : pointwise.forward(spatial);

    public void Load(TfjsWeights weights, string prefix) =>
        Load(weights, $"{prefix}/depthwise_filter", $"{prefix}/pointwise_filter", $"{prefix}/bias");

    /// <summary>From a graph model, whose converter named the three tensors as it pleased.</summary>
    public void Load(TfjsWeights weights, string depthwiseFilter, string pointwiseFilter, string bias)
    {
        TfLayers.LoadDepthwise(depthwise, weights, depthwiseFilter);
        TfLayers.LoadConv(pointwise, weights, pointwiseFilter, bias);
    }
}
