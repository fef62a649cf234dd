using HappySad.Training.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models;

/// <summary>
/// The notebook's network: three 3x3 convolutions (16, 32, 16 filters) each followed by ReLU and
/// 2x2 max-pooling, then Dense(256, ReLU) and one output unit. It returns the logit; the sigmoid
/// lives in the loss (binary cross-entropy on logits) and in prediction. 3,696,625 parameters for
/// 256x256 RGB input, as Keras prints for the notebook.
/// </summary>
/// <remarks>
/// Field and layer names are the keys of saved weights: renaming one breaks old model files, so
/// bump <see cref="Persistence.ModelCard.CurrentFormatVersion"/> with any such change.
/// </remarks>
public sealed class SeedCnn : Module<Tensor, Tensor>
{
    public const string ArchitectureName = "seed-cnn";
    public const int InputSize = 256;

    readonly Sequential layers;

    static SeedCnn() => TorchRuntime.EnsureInitialized();

    public SeedCnn(string name = "SeedCnn") : base(name)
    {
        layers = Sequential(
            ("conv1", Conv2d(3, 16, 3)),
            ("relu1", ReLU(inplace: true)),
            ("pool1", MaxPool2d(2)),
            ("conv2", Conv2d(16, 32, 3)),
            ("relu2", ReLU(inplace: true)),
            ("pool2", MaxPool2d(2)),
            ("conv3", Conv2d(32, 16, 3)),
            ("relu3", ReLU(inplace: true)),
            ("pool3", MaxPool2d(2)),
            ("flatten", Flatten()),
            ("dense", Linear(14400, 256)),
            ("relu4", ReLU(inplace: true)),
            ("output", Linear(256, 1)));
        RegisterComponents();
        InitializeLikeKeras();
    }

    /// <summary>The layers in the order they run, for summaries.</summary>
    public IEnumerable<(string Name, Module<Tensor, Tensor> Layer)> Layers =>
        layers.named_children().Select(c => (c.name, (Module<Tensor, Tensor>)c.module));

    public override Tensor forward(Tensor input) => layers.forward(input);

    /// <summary>Keras's defaults (Glorot-uniform kernels, zero biases) rather than PyTorch's, for fidelity to the notebook.</summary>
    void InitializeLikeKeras()
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, module) in layers.named_children())
        {
            if (module is Conv2d conv)
            {
                init.xavier_uniform_(conv.weight);
                init.zeros_(conv.bias);
            }
            else if (module is Linear linear)
            {
                init.xavier_uniform_(linear.weight);
                init.zeros_(linear.bias);
            }
        }
    }
}
