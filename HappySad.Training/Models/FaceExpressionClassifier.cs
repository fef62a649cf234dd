using HappySad.Training.Models.FaceApi;
using HappySad.Training.Pretrained;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HappySad.Training.Models;

/// <summary>
/// Transfer learning from face-api's pretrained expression network (trained on far more faces than
/// we have): its feature extractor and seven-expression layer are frozen, and a small head learns
/// our two classes from the 256 face features plus the 7 expression logits. Input: a 112x112 face
/// crop. Fine-tuning unfreezes the extractor's last dense block as well.
/// </summary>
/// <remarks>The frozen weights are saved with the model, so a saved file needs no download to predict.</remarks>
public sealed class FaceExpressionClassifier : Module<Tensor, Tensor>, IPretrainedModel, IFrozenFront
{
    public const string ArchitectureName = "face-expression";
    public const int InputSize = FaceFeatureExtractor.InputSize;

    readonly FaceExpressionNet expression;
    readonly Dropout dropout;
    readonly Linear head;
    readonly bool fineTune;

    public FaceExpressionClassifier(string name = "FaceExpressionClassifier", double dropoutRate = 0.3, bool fineTune = false) : base(name)
    {
        expression = new FaceExpressionNet(nameof(expression));
        dropout = Dropout(dropoutRate);
        head = Linear(FaceFeatureExtractor.Features + FaceExpressionNet.Expressions.Count, 1);
        this.fineTune = fineTune;
        RegisterComponents();
        Freeze(expression, fineTune);
    }

    /// <summary>Fills the frozen part with face-api's weights (fetched on first use).</summary>
    public void LoadPretrained() => LoadPretrained(expression);

    /// <summary>Freezes the pretrained network; fine-tuning leaves its extractor's last dense block trainable.</summary>
    internal static void Freeze(FaceExpressionNet expression, bool fineTune)
    {
        foreach (var parameter in expression.parameters())
            parameter.requires_grad = false;
        if (fineTune)
        {
            foreach (var parameter in expression.Extractor.LastBlock.parameters())
                parameter.requires_grad = true;
        }
    }

    internal static void LoadPretrained(FaceExpressionNet expression)
    {
        var pretrained = FaceExpressionNet.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.FaceExpression)));
        using (pretrained)
        using (no_grad())
        {
            var source = pretrained.state_dict();
            foreach (var (key, tensor) in expression.state_dict())
                tensor.copy_(source[key]);
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Head(Front(input)).MoveToOuterDisposeScope();
    }

    public bool FrontIsFrozen => !fineTune;

    /// <summary>The 256 face features and the 7 expression logits: <c>[N, 263]</c>.</summary>
    public Tensor Front(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = expression.Extractor.forward(input);
        var logits = expression.Classifier.forward(features);
        return cat([features, logits], 1).MoveToOuterDisposeScope();
    }

    public Tensor Head(Tensor front) => head.forward(dropout.forward(front));
}
