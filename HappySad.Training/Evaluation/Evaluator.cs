using HappySad.Training.Data;
using HappySad.Training.Prediction;
using static TorchSharp.torch;

namespace HappySad.Training.Evaluation;

/// <summary>One image's verdict. <see cref="Probability"/> is the probability of the positive class (index 1).</summary>
public sealed record ImagePrediction(string Path, int Actual, int Predicted, double Probability, string Region = ImageRegion.WholeImage)
{
    public bool IsCorrect => Actual == Predicted;
}

public sealed record EvaluationResult(IReadOnlyList<string> ClassNames, BinaryMetrics Metrics, double Loss, IReadOnlyList<ImagePrediction> Predictions)
{
    public string PositiveClass => ClassNames[1];
    public IEnumerable<ImagePrediction> Mistakes => Predictions.Where(p => !p.IsCorrect);

    /// <summary>The metrics of each region the model read (<see cref="ImageRegion"/>), in that class's order.</summary>
    public IReadOnlyDictionary<string, BinaryMetrics> ByRegion =>
        ImageRegion.All
            .Where(region => Predictions.Any(p => p.Region == region))
            .ToDictionary(region => region, region =>
            {
                var inRegion = Predictions.Where(p => p.Region == region).ToList();
                return BinaryMetrics.FromLabels([.. inRegion.Select(p => p.Actual)], [.. inRegion.Select(p => p.Predicted)]);
            });
}

public static class Evaluator
{
    /// <summary>Evaluates on images already labelled in the model's class order (a split of the training data).</summary>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, ImageSet images, Device device, double threshold = 0.5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var result = Inference.Run(model, images, device, cancellationToken: cancellationToken);
        var predictions = Enumerable.Range(0, images.Count)
            .Select(i => new ImagePrediction(images.Paths[i], images.Labels[i], result.Probability(i) > threshold ? 1 : 0, result.Probability(i)))
            .ToList();
        var metrics = BinaryMetrics.FromLabels(images.Labels, [.. predictions.Select(p => p.Predicted)]);
        return new EvaluationResult(images.ClassNames, metrics, images.Count == 0 ? 0 : result.Loss, predictions);
    }

    /// <summary>
    /// Evaluates a saved model on a class-folder data set, matching folders to the model's classes
    /// by name, not by position, so a folder set with other or extra names is refused, not misread.
    /// </summary>
    public static EvaluationResult Evaluate(ImageClassifier classifier, ImageFolderLoad data, double threshold = 0.5, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(data);
        var images = data.Images.InClassOrder(classifier.Card.ClassNames);
        var preparation = classifier.Preparation;
        if (images.Size != preparation.InputSize || images.Views != preparation.Views)
            throw new ArgumentException($"the model takes {preparation.Views} view(s) of {preparation.InputSize}x{preparation.InputSize}, but these were prepared as {images.Views} of {images.Size}x{images.Size}");
        var result = Evaluate(classifier.Module, images, classifier.Device, threshold, cancellationToken);
        if (!preparation.DetectsFaces)
            return result;
        return result with
        {
            Predictions = [.. result.Predictions.Select((p, i) => p with
            {
                Region = ImageRegion.Of(preparation, i < data.Found.Count ? data.Found[i] : Faces.PhotoFindings.None),
            })],
        };
    }
}
