using HappySad.Training.Data;
using HappySad.Training.Models.FaceApi;
using HappySad.Training.Pretrained;
using static TorchSharp.torch;

namespace HappySad.Training.Evaluation;

/// <summary>
/// What face-api's expression network says with no training on our photos: a face is <c>happy</c>
/// when its own "happy" probability (softmax over its seven expressions) is over one half, else
/// <c>sad</c>. Measured on the photos with a detected face, it shows how much of the signal was
/// learnt elsewhere, on far more faces than a data set here has, and so how much should carry over
/// to photos from elsewhere.
/// </summary>
public static class PretrainedBaseline
{
    /// <summary>
    /// Metrics over the images with a face (<paramref name="found"/> in the images' order), or null
    /// when the classes are not <c>happy</c> and <c>sad</c> or no image has a face. The face is the
    /// first view of each image, as face crops are prepared.
    /// </summary>
    public static BinaryMetrics? Evaluate(ImageSet images, IReadOnlyList<Faces.PhotoFindings> found, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(found);
        var happy = Index(images.ClassNames, "happy");
        var sad = Index(images.ClassNames, "sad");
        var withFace = Enumerable.Range(0, images.Count).Where(i => i < found.Count && found[i].FaceRead).ToList();
        if (happy < 0 || sad < 0 || withFace.Count == 0 || images.Size != FaceFeatureExtractor.InputSize)
            return null;

        using var net = FaceExpressionNet.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.FaceExpression)));
        net.eval();
        var viewBytes = images.Size * images.Size * 3;
        var predicted = new List<int>();
        foreach (var chunk in withFace.Chunk(32))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var buffer = new byte[chunk.Length * viewBytes];
            for (var i = 0; i < chunk.Length; i++)
                images.Pixels(chunk[i])[..viewBytes].CopyTo(buffer.AsSpan(i * viewBytes, viewBytes));
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var happiness = FaceExpressionNet.HappyLogOdds(net.forward(ImageBatches.FromBytes(buffer, chunk.Length, images.Size, CPU))).data<float>().ToArray();
            predicted.AddRange(happiness.Select(z => z > 0 ? happy : sad));
        }
        return BinaryMetrics.FromLabels([.. withFace.Select(i => images.Labels[i])], predicted);
    }

    static int Index(IReadOnlyList<string> classNames, string name) =>
        classNames.ToList().FindIndex(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));
}
