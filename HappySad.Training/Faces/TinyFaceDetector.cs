using HappySad.Training.Models.FaceApi;
using HappySad.Training.Pretrained;
using static TorchSharp.torch;

namespace HappySad.Training.Faces;

/// <summary>
/// face-api's <see cref="TinyFaceDetectorNet"/>, decoding its grid exactly as face-api's
/// <c>TinyYolov2Base.detect</c> does, at input 416 with IoU 0.4 (face-api's defaults).
/// </summary>
public sealed class TinyFaceDetector(TinyFaceDetectorNet net) : FaceDetector
{
    public const int Size = 416;

    public override int InputSize => Size;
    public override double IouThreshold => 0.4;

    public static TinyFaceDetector FromPretrained() =>
        new(TinyFaceDetectorNet.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.TinyFaceDetector))));

    protected override IReadOnlyList<FaceBox> Faces(Tensor input, double minScore, double correctionX, double correctionY) =>
        Found(net.forward(input), minScore, correctionX, correctionY);

    /// <summary>The bytes shifted by the training mean as the network would shift them, so its pass starts at its first convolution.</summary>
    protected override IReadOnlyList<FaceBox> Faces(byte[] pixels, double minScore, double correctionX, double correctionY) =>
        Found(net.ForwardCentred(ChannelsLastInput(pixels, Size, TinyFaceDetectorNet.Mean)), minScore, correctionX, correctionY);

    IReadOnlyList<FaceBox> Found(Tensor output, double minScore, double correctionX, double correctionY)
    {
        var cells = (int)output.shape[2];
        var grid = output.permute(0, 2, 3, 1).contiguous().data<float>().ToArray();
        return Suppress(Decode(grid, cells, correctionX, correctionY, minScore), IouThreshold);
    }

    /// <summary>Boxes from the raw NHWC grid (cells x cells x 25), relative to the unpadded image, before suppression.</summary>
    internal static List<FaceBox> Decode(ReadOnlySpan<float> grid, int cells, double correctionX, double correctionY, double scoreThreshold)
    {
        var anchors = TinyFaceDetectorNet.Anchors;
        var candidates = new List<FaceBox>();
        for (var row = 0; row < cells; row++)
        {
            for (var col = 0; col < cells; col++)
            {
                for (var anchor = 0; anchor < anchors.Length; anchor++)
                {
                    var at = (((row * cells) + col) * anchors.Length * 5) + (anchor * 5);
                    var score = Sigmoid(grid[at + 4]);
                    if (score <= scoreThreshold)
                        continue;
                    var centreX = (col + Sigmoid(grid[at])) / cells * correctionX;
                    var centreY = (row + Sigmoid(grid[at + 1])) / cells * correctionY;
                    var width = Math.Exp(grid[at + 2]) * anchors[anchor].Width / cells * correctionX;
                    var height = Math.Exp(grid[at + 3]) * anchors[anchor].Height / cells * correctionY;
                    candidates.Add(new FaceBox(centreX - (width / 2), centreY - (height / 2), width, height, score));
                }
            }
        }
        return candidates;
    }

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            net.Dispose();
    }
}
