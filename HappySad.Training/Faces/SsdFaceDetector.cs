using HappySad.Training.Models.FaceApi;
using HappySad.Training.Pretrained;
using static TorchSharp.torch;

namespace HappySad.Training.Faces;

/// <summary>
/// face-api's <see cref="SsdMobilenetV1Net"/> with its <c>locateFaces</c> post-processing: boxes
/// clipped to the input square, scaled back to the unpadded image, IoU 0.5, at most 100 faces.
/// </summary>
public sealed class SsdFaceDetector(SsdMobilenetV1Net net) : FaceDetector
{
    const int MaxResults = 100;

    public override int InputSize => SsdMobilenetV1Net.InputSize;
    public override double IouThreshold => 0.5;

    public static SsdFaceDetector FromPretrained() =>
        new(SsdMobilenetV1Net.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.SsdMobilenetV1))));

    protected override IReadOnlyList<FaceBox> Faces(Tensor input, double minScore, double correctionX, double correctionY)
    {
        var (boxes, scores) = net.forward(input);
        var score = scores[0].data<float>().ToArray();
        var box = boxes[0].contiguous().data<float>().ToArray();
        // Suppression sees the boxes as the network gave them; clipping and scaling come after, as in locateFaces.
        var candidates = Enumerable.Range(0, score.Length)
            .Where(a => score[a] > minScore)
            .Select(a => new FaceBox(box[(a * 4) + 1], box[a * 4], box[(a * 4) + 3] - box[(a * 4) + 1], box[(a * 4) + 2] - box[a * 4], score[a]));
        var faces = new List<FaceBox>();
        foreach (var face in Suppress(candidates, IouThreshold).Take(MaxResults))
        {
            var (top, left) = (Math.Max(0, face.Y) * correctionY, Math.Max(0, face.X) * correctionX);
            var (bottom, right) = (Math.Min(1, face.Bottom) * correctionY, Math.Min(1, face.Right) * correctionX);
            if (bottom > top && right > left)
                faces.Add(new FaceBox(left, top, right - left, bottom - top, face.Score));
        }
        return faces;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            net.Dispose();
    }
}
