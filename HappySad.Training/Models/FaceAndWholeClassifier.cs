using HappySad.Training.Models.FaceApi;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models;

/// <summary>
/// Transfer learning on two views of a photo (<see cref="Data.CropMode.FaceAndWhole"/>): face-api's
/// pretrained, frozen expression network reads the largest face and, separately, the whole photo;
/// a head learns our two classes from both readings (256 features plus 7 expression logits each)
/// and a flag saying whether there was a face. Input: <c>[N, 3, 224, 112]</c>, the 112x112 face
/// crop above the 112x112 whole photo; an all-black face view means no face was found, and its
/// reading is then zeroed, so the head relies on the whole photo alone.
/// </summary>
/// <remarks>
/// The face reading carries what transfers to photos from elsewhere (the expression), the whole
/// photo what a face crop cannot see: cartoons, silhouettes, crowds. Cross-validated on the seed
/// photos it scores above the face-only model (README, "Choosing a model").
/// </remarks>
public sealed class FaceAndWholeClassifier : Module<Tensor, Tensor>, IPretrainedModel
{
    public const string ArchitectureName = "face-and-whole";
    public const int InputSize = FaceFeatureExtractor.InputSize;
    static readonly int Reading = FaceFeatureExtractor.Features + FaceExpressionNet.Expressions.Count;

    readonly FaceExpressionNet expression;
    readonly Dropout dropout;
    readonly Linear head;

    public FaceAndWholeClassifier(string name = "FaceAndWholeClassifier", double dropoutRate = 0.3, bool fineTune = false) : base(name)
    {
        expression = new FaceExpressionNet(nameof(expression));
        dropout = Dropout(dropoutRate);
        head = Linear((2 * Reading) + 1, 1);
        RegisterComponents();
        FaceExpressionClassifier.Freeze(expression, fineTune);
    }

    /// <summary>Fills the frozen part with face-api's weights (fetched on first use).</summary>
    public void LoadPretrained() => FaceExpressionClassifier.LoadPretrained(expression);

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var face = input.narrow(2, 0, InputSize);
        var whole = input.narrow(2, InputSize, InputSize);
        // A face view that is black everywhere is the "no face" marker; its reading must not count.
        var found = face.flatten(1).amax([1], keepdim: true).gt(0).to_type(ScalarType.Float32);
        var features = cat([Read(face).mul(found), found, Read(whole)], 1);
        return head.forward(dropout.forward(features)).MoveToOuterDisposeScope();
    }

    Tensor Read(Tensor view)
    {
        var features = expression.Extractor.forward(view);
        return cat([features, expression.Classifier.forward(features)], 1);
    }
}
