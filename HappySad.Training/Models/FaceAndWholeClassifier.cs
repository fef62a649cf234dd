using HappySad.Training.Models.FaceApi;
using HappySad.Training.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models;

/// <summary>
/// Transfer learning on two views of a photo (<see cref="Data.CropMode.FaceAndWhole"/>), routed by
/// whether a face was found. face-api's pretrained, frozen expression network reads both views.
/// With a face, the verdict is that network's own: the log-odds of "happy" against its six other
/// expressions, times one learnt scale whose sign ties "happy" to our class order (the threshold
/// stays where face-api puts it). Without one, a linear head reads the whole photo (256 features
/// plus 7 expression logits). Input: <c>[N, 3, 224, 112]</c>, the 112x112 face crop above the
/// 112x112 whole photo; an all-black face view means no face was found.
/// </summary>
/// <remarks>
/// Why route rather than mix: a head trained on both readings learns this data set's colours and
/// styles from the whole photo along with the face, and on photos from elsewhere those cues are
/// what fails. Routed, a face's verdict is what face-api learnt from many faces, fitted to nothing
/// here, and the whole-photo head only covers what has no face (cartoons, silhouettes, crowds). On
/// the seed photos both designs cross-validate the same; README, "Choosing a model", has the numbers.
/// </remarks>
public sealed class FaceAndWholeClassifier : Module<Tensor, Tensor>, IPretrainedModel, IFrozenFront
{
    public const string ArchitectureName = "face-and-whole";
    public const int InputSize = FaceFeatureExtractor.InputSize;
    static readonly int Reading = FaceFeatureExtractor.Features + FaceExpressionNet.Expressions.Count;

    readonly FaceExpressionNet expression;
    readonly Parameter faceScale;
    readonly Dropout dropout;
    readonly Linear wholeHead;
    readonly bool fineTune;

    public FaceAndWholeClassifier(string name = "FaceAndWholeClassifier", double dropoutRate = 0.3, bool fineTune = false) : base(name)
    {
        expression = new FaceExpressionNet(nameof(expression));
        // Zero: no opinion on faces until training shows which of our classes "happy" is.
        faceScale = Parameter(zeros(1));
        dropout = Dropout(dropoutRate);
        wholeHead = Linear(Reading, 1);
        this.fineTune = fineTune;
        RegisterComponents();
        FaceExpressionClassifier.Freeze(expression, fineTune);
    }

    /// <summary>Fills the frozen part with face-api's weights (fetched on first use).</summary>
    public void LoadPretrained() => FaceExpressionClassifier.LoadPretrained(expression);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Head(Front(input)).MoveToOuterDisposeScope();
    }

    public bool FrontIsFrozen => !fineTune;

    /// <summary>
    /// <c>[N, 265]</c>: the face's "happy" log-odds, the whole photo's 256 features and 7 expression
    /// logits, and 1 where a face was found (0 where not).
    /// </summary>
    public Tensor Front(Tensor input)
    {
        using var scope = NewDisposeScope();
        var (face, whole, found) = SplitViews(input);
        var happy = FaceExpressionNet.HappyLogOdds(expression.forward(face));
        var wholeFeatures = expression.Extractor.forward(whole);
        return cat([happy, wholeFeatures, expression.Classifier.forward(wholeFeatures), found], 1).MoveToOuterDisposeScope();
    }

    public Tensor Head(Tensor front)
    {
        ArgumentNullException.ThrowIfNull(front);
        using var scope = NewDisposeScope();
        var faceLogit = front.narrow(1, 0, 1).mul(faceScale);
        var wholeLogit = wholeHead.forward(dropout.forward(front.narrow(1, 1, Reading)));
        return Route(front.narrow(1, 1 + Reading, 1), faceLogit, wholeLogit).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The two views of a <c>[N, 3, 224, 112]</c> input (face on top, whole photo below) and
    /// <c>[N, 1]</c> ones where a face was found: a face view black everywhere is the "no face" marker.
    /// </summary>
    internal static (Tensor Face, Tensor Whole, Tensor Found) SplitViews(Tensor input)
    {
        var face = input.narrow(2, 0, InputSize);
        var whole = input.narrow(2, InputSize, InputSize);
        var found = face.flatten(1).amax([1], keepdim: true).gt(Scalars.Of(0)).to_type(ScalarType.Float32);
        return (face, whole, found);
    }

    /// <summary>The face's logit where a face was found, the whole photo's elsewhere.</summary>
    internal static Tensor Route(Tensor found, Tensor faceLogit, Tensor wholeLogit) =>
        found.mul(faceLogit).Plus(found.neg().Plus(Scalars.Of(1)).mul(wholeLogit));
}
