using HappySad.Training.Data;
using HappySad.Training.Evaluation;
using HappySad.Training.Persistence;
using static TorchSharp.torch;

namespace HappySad.Training.Prediction;

/// <summary>
/// A verdict on one image: the label, the probability of that label, and of each class. <see cref="Face"/>
/// is the face found, for face-cropping models that found one (read when <see cref="Region"/> is
/// <see cref="ImageRegion.Face"/>; a small face under raised hands is shown but not read).
/// </summary>
public sealed record Prediction(string Label, double Probability, IReadOnlyDictionary<string, double> ClassProbabilities, Faces.FaceBox? Face = null)
{
    /// <summary>What the model read: one of <see cref="ImageRegion"/>'s names.</summary>
    public string Region { get; init; } = ImageRegion.WholeImage;

    /// <summary>Below this probability for the shown label, pages and reports call a verdict low-confidence.</summary>
    public const double ConfidentProbability = 0.65;

    /// <summary>Whether the verdict is too close to call: the model leans rather than knows.</summary>
    public bool LowConfidence => IsLowConfidence(Probability);

    /// <summary>Whether a verdict whose shown label has this probability is too close to call.</summary>
    public static bool IsLowConfidence(double probability) => probability < ConfidentProbability;
}

/// <summary>What part of a photo a model read to reach its verdict, by the names every output uses.</summary>
public static class ImageRegion
{
    /// <summary>A face-cropping model found a face and read it.</summary>
    public const string Face = "face";

    /// <summary>A model that always reads the whole photo.</summary>
    public const string WholeImage = "whole image";

    /// <summary>A face-cropping model found no face and read the whole photo instead.</summary>
    public const string NoFaceFound = "whole image (no face found)";

    /// <summary>A model that reads raised hands found no face, and someone raising a hand above their head (<see cref="Faces.RaisedHands"/>).</summary>
    public const string RaisedHands = "raised hands (no face found)";

    /// <summary>A model that reads raised hands found a small face, and someone raising a hand above their head: it read the hands (<see cref="Faces.RaisedHands.MaxFaceHeight"/>).</summary>
    public const string RaisedHandsOverSmallFace = "raised hands (small face)";

    public static IReadOnlyList<string> All { get; } = [Face, RaisedHandsOverSmallFace, RaisedHands, NoFaceFound, WholeImage];

    public static string Of(ImagePreparation preparation, Faces.PhotoFindings found)
    {
        ArgumentNullException.ThrowIfNull(preparation);
        ArgumentNullException.ThrowIfNull(found);
        return found.Face is not null ? (found.RaisedHands ? RaisedHandsOverSmallFace : Face)
            : !preparation.DetectsFaces ? WholeImage : found.RaisedHands ? RaisedHands : NoFaceFound;
    }
}

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
        return [.. Enumerable.Range(0, images.Count).Select(i => Verdict(result.Probability(i), threshold, images[i]))];
    }

    /// <summary>The verdict on <paramref name="image"/> whose second class has probability <paramref name="positive"/>.</summary>
    internal Prediction Verdict(double positive, double threshold, DecodedImage image) => ToPrediction(positive, threshold) with
    {
        Face = image.Found.Face,
        Region = ImageRegion.Of(Preparation, image.Found),
    };

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
