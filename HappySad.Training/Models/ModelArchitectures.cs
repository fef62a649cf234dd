using HappySad.Training.Data;
using HappySad.Training.Faces;
using HappySad.Training.Pretrained;
using static TorchSharp.torch;

namespace HappySad.Training.Models;

/// <summary>A kind of network a person can pick, with the input it expects.</summary>
/// <param name="Name">The name model cards, the command line and the API use.</param>
/// <param name="DefaultCrop">How photos are cropped unless a run asks otherwise.</param>
/// <param name="PretrainedFrom">The packages whose weights it starts from (fetched before a run trains it); none for networks trained from scratch.</param>
public sealed record ModelType(string Name, string DisplayName, string Description, int InputSize, CropMode DefaultCrop, IReadOnlyList<NpmPackage> PretrainedFrom)
{
    /// <summary>Whether, for photos without a face (or, as its card says, with a small one), it reads whether someone raises a hand above their head (its preparation looks: <see cref="Faces.FaceDetection.RaisedHands"/>).</summary>
    public bool ReadsRaisedHands { get; init; }

    /// <summary>Whether it has parts trained elsewhere (and so can fine-tune them).</summary>
    public bool Pretrained => PretrainedFrom.Count > 0;

    /// <summary>Square views the network reads per photo; a run's crop must give this many.</summary>
    public int Views => ImagePreparation.ViewsOf(DefaultCrop);

    /// <summary>The crops this network can take: those giving as many views as its default.</summary>
    public IReadOnlyList<CropMode> Crops => [.. Enum.GetValues<CropMode>().Where(c => ImagePreparation.ViewsOf(c) == Views)];

    /// <summary>Why <paramref name="crop"/> cannot feed this network, or null when it can.</summary>
    public string? CropProblem(CropMode crop) => Crops.Contains(crop)
        ? null
        : $"The {Name} model takes {(Views == 2 ? "a face and the whole photo (crop face-and-whole)" : "one view of a photo (crop none or face)")}; crop '{CropNames.Of(crop)}' does not give that.";
}

/// <summary>A network with parts trained elsewhere, filled in when it is created for training.</summary>
public interface IPretrainedModel
{
    /// <summary>Loads the pretrained weights (fetching them on first use).</summary>
    void LoadPretrained();
}

/// <summary>
/// A network whose first part (the front) learns nothing while the rest trains: frozen pretrained
/// layers, no dropout, no batch statistics, so a photo's front reading is the same in every epoch.
/// <c>forward(x)</c> is exactly <c>Head(Front(x))</c>. The trainer reads each photo through the front
/// once, in the first epoch, and trains the head on those readings after that, when nothing else
/// varies the photos between epochs (no augmentation).
/// </summary>
public interface IFrozenFront
{
    /// <summary>False when fine-tuning: part of the front then learns too, and must be read afresh.</summary>
    bool FrontIsFrozen { get; }

    /// <summary>The front's <c>[N, F]</c> reading of an input batch.</summary>
    Tensor Front(Tensor input);

    /// <summary>The logits, <c>[N, 1]</c>, from <see cref="Front"/>'s readings.</summary>
    Tensor Head(Tensor front);
}

/// <summary>Options that shape a network apart from its weights.</summary>
/// <param name="Dropout">Dropout before the output layer (ignored by the notebook's network, which has none).</param>
/// <param name="FineTune">For pretrained networks: also train the last pretrained block, not only the head.</param>
public sealed record ModelOptions(double Dropout = 0.3, bool FineTune = false);

/// <summary>Builds a network from the architecture name a model card records.</summary>
public static class ModelArchitectures
{
    /// <summary>
    /// Initialisation draws from libtorch's one process-wide generator: two models built at once
    /// on different threads would interleave their draws and neither would match its seed.
    /// </summary>
    static readonly Lock InitialisationLock = new();

    public static IReadOnlyList<ModelType> Types { get; } =
    [
        new(SeedCnn.ArchitectureName, "Notebook CNN", "The notebook's network, unchanged: Conv 16-32-16, Dense 256, 3.7 M parameters, 256x256 whole photos.", SeedCnn.InputSize, CropMode.None, []),
        new(CompactCnn.ArchitectureName, "Compact CNN", "Four convolutions with batch normalisation, global average pooling and dropout; 0.1 M parameters, 128x128.", CompactCnn.InputSize, CropMode.None, []),
        new(FaceExpressionClassifier.ArchitectureName, "Face expression (transfer)", "face-api's pretrained face-expression network, frozen, with a head trained on your photos; 112x112 face crops.", FaceExpressionClassifier.InputSize, CropMode.Face, [FaceApiPackage.Package]),
        new(FaceVerdictClassifier.RaisedHandsArchitectureName, "Face verdict, two networks and raised hands (transfer)", FormattableString.Invariant($"Two pretrained expression networks, frozen, read the face (in a group, the happiest-looking) and its mirror image: face-api's and human-models' emotion network, trained on different faces. A photo without a face, or whose face is small (under {RaisedHands.Default.MaxFaceHeight * 100:0}% of its height), where someone raises a hand above their head (human-models' MoveNet finds the body's keypoints) is read as such; any other gets the lean of your photos without a face, with low confidence. Five numbers learnt from your photos, so it carries over to photos from elsewhere. 112x112 views."), FaceVerdictClassifier.InputSize, CropMode.FaceAndWhole, [FaceApiPackage.Package, HumanModelsPackage.Package]) { ReadsRaisedHands = true },
        new(FaceVerdictClassifier.PairArchitectureName, "Face verdict, two networks (transfer)", "Two pretrained expression networks, frozen, read the face (in a group, the happiest-looking) and its mirror image: face-api's and human-models' emotion network, trained on different faces; a photo without a face gets the lean of your photos without one, with low confidence. Four numbers learnt from your photos, so it carries over to photos from elsewhere. 112x112 views.", FaceVerdictClassifier.InputSize, CropMode.FaceAndWhole, [FaceApiPackage.Package, HumanModelsPackage.Package]),
        new(FaceVerdictClassifier.ArchitectureName, "Face verdict (transfer)", "face-api's pretrained face-expression network, frozen, reads the face (in a group, the happiest-looking) and its mirror image; a photo without a face gets the lean of your photos without one, with low confidence. Three numbers learnt from your photos, so it carries over to photos from elsewhere. 112x112 views.", FaceVerdictClassifier.InputSize, CropMode.FaceAndWhole, [FaceApiPackage.Package]),
        new(FaceAndWholeClassifier.ArchitectureName, "Face and whole photo (transfer)", "face-api's pretrained face-expression network, frozen, gives its own verdict on the face (in a group, the happiest-looking); a head trained on your photos reads the photos without a face whole. 112x112 views.", FaceAndWholeClassifier.InputSize, CropMode.FaceAndWhole, [FaceApiPackage.Package]),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. Types.Select(t => t.Name)];

    public static ModelType Describe(string architecture) =>
        Types.FirstOrDefault(t => t.Name == architecture)
        ?? throw new ArgumentException($"unknown model architecture '{architecture}' (known: {string.Join(", ", Names)})");

    /// <summary>
    /// A network ready to train: freshly initialised (<paramref name="seed"/> makes that reproducible),
    /// with pretrained parts loaded when <paramref name="pretrained"/> is set. Loading a saved model
    /// passes false: its file holds every weight.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Create(string architecture, int? seed = null, ModelOptions? options = null, bool pretrained = true)
    {
        Native.TorchRuntime.EnsureInitialized();
        options ??= new ModelOptions();
        var type = Describe(architecture);
        nn.Module<Tensor, Tensor> model;
        lock (InitialisationLock)
        {
            if (seed is { } value)
                manual_seed(value);
            model = type.Name switch
            {
                SeedCnn.ArchitectureName => new SeedCnn(),
                CompactCnn.ArchitectureName => new CompactCnn(dropoutRate: options.Dropout),
                FaceExpressionClassifier.ArchitectureName => new FaceExpressionClassifier(dropoutRate: options.Dropout, fineTune: options.FineTune),
                FaceAndWholeClassifier.ArchitectureName => new FaceAndWholeClassifier(dropoutRate: options.Dropout, fineTune: options.FineTune),
                FaceVerdictClassifier.PairArchitectureName => new FaceVerdictClassifier(fineTune: options.FineTune, secondNetwork: true),
                FaceVerdictClassifier.RaisedHandsArchitectureName => new FaceVerdictClassifier(fineTune: options.FineTune, secondNetwork: true, raisedHands: true),
                _ => new FaceVerdictClassifier(fineTune: options.FineTune),
            };
        }
        if (pretrained && model is IPretrainedModel transfer)
        {
            try
            {
                transfer.LoadPretrained();
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        return model;
    }
}
