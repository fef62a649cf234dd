using HappySad.Training.Data;
using HappySad.Training.Models.FaceApi;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using SkiaSharp;
using static TorchSharp.torch;

namespace HappySad.Training.Faces;

/// <summary>
/// Of several faces in a photo, the one face-api's expression network reads as happiest (the mean of
/// its "happy against the rest" log-odds on the face and its mirror image), for
/// <see cref="FaceDetection.HappiestFace"/>. Its own instance of the network, untrained by anything
/// here, so the choice is the same for every model and needs no weights but face-api's.
/// </summary>
internal static class HappiestFace
{
    /// <summary>Faces smaller than this share of the largest one's area are not candidates: background faces, not the photo's subject.</summary>
    public const double MinAreaShare = 0.25;

    /// <summary>The most candidates read, largest first: a crowd costs at most this many crops.</summary>
    public const int MaxCandidates = 6;

    static readonly Lock Loading = new();
    static FaceExpressionNet? _network;

    /// <summary>One forward pass at a time while a pass uses every core (photos are prepared in parallel): see <see cref="IntraOpThreads.OnePassAtATime"/>.</summary>
    static readonly Lock Inference = new();

    /// <summary>The process's network, built on first use; a failed load (weights not fetched yet) is tried again next time, not remembered.</summary>
    static FaceExpressionNet Network()
    {
        lock (Loading)
        {
            if (_network is null)
            {
                TorchRuntime.EnsureInitialized();
                _network = SharedNetworks.Build(() =>
                {
                    var network = FaceExpressionNet.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.FaceExpression)));
                    network.eval();
                    return network;
                });
            }
            return _network;
        }
    }

    /// <summary>The faces worth comparing, largest first: at least <see cref="MinAreaShare"/> of the largest's area, at most <see cref="MaxCandidates"/>.</summary>
    public static IReadOnlyList<FaceBox> Candidates(IEnumerable<FaceBox> faces)
    {
        var bySize = faces.OrderByDescending(f => f.Area).ToList();
        return bySize.Count == 0 ? [] : [.. bySize.Where(f => f.Area >= bySize[0].Area * MinAreaShare).Take(MaxCandidates)];
    }

    /// <summary>Each face's happy log-odds (face and mirror averaged), cropped as <see cref="FaceCrop.Crop"/> crops it with <paramref name="margin"/>.</summary>
    public static float[] HappyLogOdds(SKBitmap image, IReadOnlyList<FaceBox> faces, double margin)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(faces);
        var size = FaceFeatureExtractor.InputSize;
        var faceBytes = size * size * 3;
        var pixels = new byte[faces.Count * faceBytes];
        for (var i = 0; i < faces.Count; i++)
            FaceCrop.Crop(image, faces[i], size, margin).CopyTo(pixels, i * faceBytes);
        var network = Network();
        return IntraOpThreads.OnePassAtATime(Inference, () =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var happy = network.HappyLogOddsWithMirror(ImageBatches.FromBytes(pixels, faces.Count, size, CPU)).flatten();
            return happy.data<float>().ToArray();
        });
    }

    /// <summary>The face to read: the happiest candidate, or the largest when it is the only one (ties go to the larger face).</summary>
    public static FaceBox? Choose(SKBitmap image, IReadOnlyList<FaceBox> faces, double margin)
    {
        var candidates = Candidates(faces);
        if (candidates.Count < 2)
            return candidates.Count == 0 ? null : candidates[0];
        var happy = HappyLogOdds(image, candidates, margin);
        var best = 0;
        for (var i = 1; i < happy.Length; i++)
        {
            if (happy[i] > happy[best])
                best = i;
        }
        return candidates[best];
    }
}
