using HappySad.Training.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models;

/// <summary>
/// A regularised small network for 128x128 input: four 3x3 convolutions (16, 32, 64, 128 filters),
/// each with batch normalisation, ReLU and 2x2 max-pooling, then global average pooling, dropout
/// and one output unit. About 100 thousand parameters where the notebook's network has 3.7 million,
/// most of them in a dense layer that memorises 210 photos.
/// </summary>
/// <remarks>Field and layer names are the keys of saved weights (see <see cref="SeedCnn"/>).</remarks>
public sealed class CompactCnn : Module<Tensor, Tensor>
{
    public const string ArchitectureName = "compact-cnn";
    public const int InputSize = 128;

    readonly Sequential features;
    readonly Dropout dropout;
    readonly Linear output;

    static CompactCnn() => TorchRuntime.EnsureInitialized();

    public CompactCnn(string name = "CompactCnn", double dropoutRate = 0.3) : base(name)
    {
        features = Sequential(
            Block(3, 16), Block(16, 32), Block(32, 64), Block(64, 128),
            AdaptiveAvgPool2d(1),
            Flatten());
        dropout = Dropout(dropoutRate);
        output = Linear(128, 1);
        RegisterComponents();
    }

    static Sequential Block(long channelsIn, long channelsOut) => Sequential(
        ("conv", Conv2d(channelsIn, channelsOut, 3, padding: 1, bias: false)),
        ("norm", BatchNorm2d(channelsOut)),
        ("relu", ReLU(inplace: true)),
        ("pool", MaxPool2d(2)));

    public override Tensor forward(Tensor input)
    {
        using var pooled = features.forward(input);
        using var dropped = dropout.forward(pooled);
        return output.forward(dropped);
    }
}
