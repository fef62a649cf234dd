using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Persistence;
using static TorchSharp.torch;

namespace HappySad.Training.Prediction;

/// <summary>
/// A verdict on one image: the label, the probability of that label, and of each class. <see cref="Face"/>
/// is the face the model looked at, for face-cropping models that found one; null means the whole image.
/// </summary>
public sealed record Prediction(string Label, double Probability, IReadOnlyDictionary<string, double> ClassProbabilities, Faces.FaceBox? Face = null);

/// <summary>
/// A trained model ready to label images, with the card that says how to prepare them. Forward
/// passes run in eval mode without gradients and keep no state between calls.
/// </summary>
public sealed class ImageClassifier(nn.Module<Tensor, Tensor> module, ModelCard card, Device device) : IDisposable
{
    public nn.Module<Tensor, Tensor> Module { get; } = module;
    public ModelCard Card { get; } = card;
    public Device Device { get; } = device;

    /// <summary>How this model wants photos prepared: what its card says.</summary>
    public ImagePreparation Preparation { get; } = ImagePreparation.From(card.Preprocessing);

    public Prediction Predict(string path, double threshold = 0.5) => Predict(Preparation.Prepare(path), threshold);
    public Prediction Predict(byte[] bytes, double threshold = 0.5) => Predict(Preparation.Prepare(bytes), threshold);

    public Prediction Predict(DecodedImage image, double threshold = 0.5) => PredictMany([image], threshold)[0];

    /// <summary>Labels already-decoded images in batches of 32.</summary>
    public IReadOnlyList<Prediction> PredictMany(IReadOnlyList<DecodedImage> images, double threshold = 0.5)
    {
        ArgumentNullException.ThrowIfNull(images);
        var set = ImageSet.FromDecoded(Card.ClassNames, images, [.. images.Select(_ => 0)], [.. images.Select(_ => string.Empty)], Card.Preprocessing.InputSize);
        var result = Inference.Run(Module, set, Device);
        return [.. Enumerable.Range(0, images.Count).Select(i => ToPrediction(result.Probability(i), threshold) with { Face = images[i].Face })];
    }

    Prediction ToPrediction(double positive, double threshold)
    {
        var probabilities = new Dictionary<string, double>
        {
            [Card.ClassNames[0]] = 1 - positive,
            [Card.ClassNames[1]] = positive,
        };
        return positive > threshold
            ? new Prediction(Card.ClassNames[1], positive, probabilities)
            : new Prediction(Card.ClassNames[0], 1 - positive, probabilities);
    }

    public void Dispose() => Module.Dispose();
}
