using HappySad.Training.Models.FaceApi;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models;

/// <summary>
/// Five learnt numbers on top of what was learnt elsewhere, routed by whether a face was found
/// (<see cref="Data.CropMode.FaceAndWhole"/> views: the face crop above the whole photo, the face all
/// black when none was found).
/// <list type="bullet">
/// <item>With a face: face-api's frozen expression network reads it and its mirror image, and the
/// mean of the two "happy against the rest" log-odds is scaled and shifted (two numbers: which class
/// "happy" is, and where the line between the classes falls).</item>
/// <item>Without one: the photo's brightness and colourfulness (mean luma and mean saturation of
/// the whole view) with a bias (three numbers): bright, colourful photos lean happy, dark and grey
/// ones sad.</item>
/// </list>
/// </summary>
/// <remarks>
/// Why so little is learnt: every design that fitted many weights to one scrape's photos read
/// that scrape's style and fell to chance on photos from elsewhere (issue "Accuracy on photos from
/// elsewhere"). The expression network on a whole photo without a face carries no signal on the
/// seed photos (balanced accuracy 0.51 at any threshold); brightness and colourfulness do (AUC 0.74
/// and 0.72) and are the colour-mood associations people share, not one scrape's quirks. README,
/// "Choosing a model", has the measurements.
/// </remarks>
public sealed class FaceVerdictClassifier : Module<Tensor, Tensor>, IPretrainedModel
{
    public const string ArchitectureName = "face-verdict";
    public const int InputSize = FaceFeatureExtractor.InputSize;

    /// <summary>Typical mean luma and saturation of photos (and their spread), so the colour weights start on a common scale.</summary>
    static readonly float[] CueCentre = [0.45f, 0.30f];
    static readonly float[] CueSpread = [0.15f, 0.15f];

    readonly FaceExpressionNet expression;
    readonly Parameter faceScale;
    readonly Parameter faceBias;
    readonly Linear colourHead;
    readonly Tensor cueCentre;
    readonly Tensor cueSpread;

    public FaceVerdictClassifier(string name = "FaceVerdictClassifier", bool fineTune = false) : base(name)
    {
        expression = new FaceExpressionNet(nameof(expression));
        // All zero: no opinion until training shows which class is "happy" and what the colours say.
        faceScale = Parameter(zeros(1));
        faceBias = Parameter(zeros(1));
        colourHead = Linear(2, 1);
        using (no_grad())
        {
            colourHead.weight!.zero_();
            colourHead.bias!.zero_();
        }
        cueCentre = tensor(CueCentre, [1, 2]);
        cueSpread = tensor(CueSpread, [1, 2]);
        RegisterComponents();
        FaceExpressionClassifier.Freeze(expression, fineTune);
    }

    /// <summary>Fills the frozen network with face-api's weights (fetched on first use).</summary>
    public void LoadPretrained() => FaceExpressionClassifier.LoadPretrained(expression);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var (face, whole, found) = FaceAndWholeClassifier.SplitViews(input);
        var happy = FaceExpressionNet.HappyLogOdds(expression.forward(face))
            .add(FaceExpressionNet.HappyLogOdds(expression.forward(face.flip(3))))
            .div(2);
        var faceLogit = happy.mul(faceScale).add(faceBias);
        var wholeLogit = colourHead.forward(ColourCues(whole).sub(cueCentre).div(cueSpread));
        return FaceAndWholeClassifier.Route(found, faceLogit, wholeLogit).MoveToOuterDisposeScope();
    }

    /// <summary>Mean luma (BT.601) and mean HSV saturation of <c>[N, 3, H, W]</c> RGB in 0..1: <c>[N, 2]</c>.</summary>
    public static Tensor ColourCues(Tensor rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        using var scope = NewDisposeScope();
        var (r, g, b) = (rgb.select(1, 0), rgb.select(1, 1), rgb.select(1, 2));
        var luma = r.mul(0.299).add(g.mul(0.587)).add(b.mul(0.114)).mean([1, 2]);
        var max = rgb.amax([1]);
        var min = rgb.amin([1]);
        var saturation = max.sub(min).div(max.clamp_min(1e-6)).mean([1, 2]);
        return stack([luma, saturation], 1).MoveToOuterDisposeScope();
    }
}
