using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Faces;
using HappySad.Training.Models;
using HappySad.Training.Models.FaceApi;
using HappySad.Training.Models.Human;
using HappySad.Training.Native;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;
using HappySad.Training.Pretrained;
using HappySad.Training.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Training;

public sealed class EarlyStoppingTests
{
    [Fact]
    public void StopsAfterPatienceAndPutsBackTheBestEpochsWeights()
    {
        TorchRuntime.EnsureInitialized();
        using var model = nn.Sequential(nn.Linear(3, 1));
        var context = new TrainingContext(new FitOptions(), model);
        using var stopping = new EarlyStopping(patience: 2);
        var weight = model.parameters().First();
        void SetWeights(float value)
        {
            using var noGrad = no_grad();
            weight.fill_(value);
        }
        EpochMetrics Epoch(int n, double valLoss) => new(n, 0.5, 0.5, valLoss, 0.5, 1);

        stopping.OnTrainBegin(context);
        SetWeights(1);
        stopping.OnEpochEnd(Epoch(1, 0.9), context);
        SetWeights(2);
        stopping.OnEpochEnd(Epoch(2, 0.6), context);
        SetWeights(3);
        stopping.OnEpochEnd(Epoch(3, 0.7), context);
        Assert.False(context.StopTraining);
        SetWeights(4);
        stopping.OnEpochEnd(Epoch(4, 0.8), context);
        Assert.True(context.StopTraining);

        stopping.OnTrainEnd(new TrainingHistory([Epoch(1, 0.9), Epoch(2, 0.6), Epoch(3, 0.7), Epoch(4, 0.8)], StoppedEarly: true), context);

        Assert.Equal(2, context.RestoredEpoch);
        Assert.All(weight.data<float>().ToArray(), v => Assert.Equal(2f, v));
    }
}

public sealed class StratifiedFoldTests
{
    [Fact]
    public void EveryImageIsTestedOnceAndEachFoldKeepsTheClassBalance()
    {
        var labels = Enumerable.Range(0, 301).Select(i => i < 151 ? 0 : 1).ToArray();
        var folds = DataSplit.StratifiedFolds(labels, 5, seed: 42);

        Assert.Equal(5, folds.Count);
        Assert.Equal(Enumerable.Range(0, 301), folds.SelectMany(f => f).Order());
        Assert.All(folds, f =>
        {
            Assert.InRange(f.Count, 60, 61);
            Assert.InRange(f.Count(i => labels[i] == 0), 30, 31);
        });
        Assert.Equal(folds, DataSplit.StratifiedFolds(labels, 5, seed: 42));
        Assert.NotEqual(folds, DataSplit.StratifiedFolds(labels, 5, seed: 7));
    }

    [Fact]
    public void RefusesMoreFoldsThanAClassHasImages()
    {
        var e = Assert.Throws<DataSetException>(() => DataSplit.StratifiedFolds([0, 0, 0, 1, 1, 1, 1, 1], 4, 1, classNames: ["happy", "sad"]));
        Assert.Equal("class 'happy' has 3 images, fewer than the 4 folds", e.Message);
    }
}

/// <summary>Each model type trained with its pipeline, saved, reloaded: the reloaded model predicts exactly the same.</summary>
[Collection(TorchTraining.Name)]
public sealed class RecipeRoundTripTests
{
    [Theory]
    [InlineData(FaceExpressionClassifier.ArchitectureName)]
    [InlineData(FaceAndWholeClassifier.ArchitectureName)]
    [InlineData(FaceVerdictClassifier.ArchitectureName)]
    [InlineData(FaceVerdictClassifier.PairArchitectureName)]
    [InlineData(FaceVerdictClassifier.RaisedHandsArchitectureName)]
    [InlineData(CompactCnn.ArchitectureName)]
    public async Task AModelTrainedWithAPipelineReloadsAndPredictsIdentically(string architecture)
    {
        using var data = SharedPhotos.Subset(perClass: 12);
        var recipe = new RunRecipe
        {
            Architecture = architecture,
            Epochs = 3, BatchSize = 8, LearningRate = 3e-3, Augment = true, WeightDecay = 1e-3, Patience = 2, Schedule = LearningRateSchedule.Cosine,
            Dropout = 0.3,
            Device = DevicePreference.Cpu,
            Preset = "test",
        };
        var load = ImageFolder.Open(data.Path).Load(recipe.Preparation());
        var outcome = await TrainingPipeline.RunAsync(load.Images, recipe);
        using var trained = outcome.Classifier;
        var file = data.File("model" + ModelStore.Extension);
        ModelStore.Save(file, trained.Module, trained.Card);

        using var reloaded = ModelStore.Load(file, CPU);

        var type = ModelArchitectures.Describe(architecture);
        Assert.Equal(type.DefaultCrop, reloaded.Card.Preprocessing.Crop);
        Assert.Equal(type.InputSize, reloaded.Card.Preprocessing.InputSize);
        Assert.Equal(AugmentOptions.Standard, reloaded.Card.Training!.Augmentation);
        Assert.Equal(LearningRateSchedule.Cosine, reloaded.Card.Training.Schedule);
        Assert.Equal("test", reloaded.Card.Training.Preset);
        var photos = Directory.EnumerateFiles(data.Path, "*", SearchOption.AllDirectories).Where(p => !p.EndsWith(ModelStore.Extension, StringComparison.Ordinal)).Order().Take(8).ToList();
        foreach (var photo in photos)
        {
            var before = trained.Predict(photo);
            var after = reloaded.Predict(photo);
            Assert.Equal(before.ClassProbabilities["sad"], after.ClassProbabilities["sad"]);
            Assert.Equal(before.Face, after.Face);
        }
        if (type.DefaultCrop != CropMode.None)
            Assert.Contains(photos, p => reloaded.Predict(p).Face is not null);
    }

    [Fact]
    public void TheTransferModelTrainsOnlyItsHead()
    {
        using var model = ModelArchitectures.Create(FaceExpressionClassifier.ArchitectureName, seed: 1);
        var trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        Assert.Equal(256 + 7 + 1, trainable);

        using var tuned = ModelArchitectures.Create(FaceExpressionClassifier.ArchitectureName, seed: 1, new ModelOptions(FineTune: true));
        Assert.True(tuned.parameters().Where(p => p.requires_grad).Sum(p => p.numel()) > 100_000);

        // One scale for face-api's own verdict on a face, and a linear head on the whole photo's reading.
        using var both = ModelArchitectures.Create(FaceAndWholeClassifier.ArchitectureName, seed: 1);
        Assert.Equal(1 + 256 + 7 + 1, both.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));
    }

    /// <summary>
    /// The face-and-whole model routes on the "no face" marker (an all-black face view): with a face
    /// the output is face-api's happy log-odds times the face scale, and the whole-photo head does not
    /// reach it; without one, only the whole-photo head does.
    /// </summary>
    [Fact]
    public void TheFaceAndWholeModelReadsAFaceWithFaceApiAndTheRestWithItsHead()
    {
        using var model = ModelArchitectures.Create(FaceAndWholeClassifier.ArchitectureName, seed: 1);
        model.eval();
        var (withFace, noFace) = TwoViewPhotos();
        float Output(DecodedImage image) => OutputOf(model, image);
        Parameter Named(string name) => model.named_parameters().Single(p => p.name == name).parameter;

        // Untrained, the face scale is zero: no opinion on a face, whatever the whole photo says.
        Assert.Equal(0f, Output(withFace));
        var noFaceBefore = Output(noFace);
        Assert.NotEqual(0f, noFaceBefore);

        // A scale of -1 on a face gives log(p_not_happy / p_happy) of face-api's own reading: sad when it is not happy.
        using (no_grad())
            Named("faceScale").fill_(-1f);
        // log(p_not_happy / p_happy) of face-api's own reading: minus its happy log-odds.
        var expected = (float)-HappyLogOddsOfFace(withFace, mirrored: false);
        Assert.Equal(expected, Output(withFace), 1e-3f);
        Assert.Equal(noFaceBefore, Output(noFace));

        // The whole-photo head reaches only photos without a face.
        using (no_grad())
            Named("wholeHead.weight").add_(1.0f);
        Assert.Equal(expected, Output(withFace), 1e-3f);
        Assert.NotEqual(noFaceBefore, Output(noFace));
    }

    /// <summary>
    /// The face-verdict model: untrained it has no opinion at all; with a face its output is the
    /// scaled and shifted mean of face-api's happy log-odds on the face and its mirror image;
    /// without one it is a single learnt lean. Its colour weights are frozen at zero for new models,
    /// but a model file that learnt them (before they were frozen) still reads them, and only for
    /// photos without a face.
    /// </summary>
    [Fact]
    public void TheFaceVerdictModelReadsAFaceWithFaceApiAndGivesTheRestTheLeanOfPhotosWithoutOne()
    {
        using var model = ModelArchitectures.Create(FaceVerdictClassifier.ArchitectureName, seed: 1);
        model.eval();
        Assert.Equal(3, model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));
        var (withFace, noFace) = TwoViewPhotos();
        float Output(DecodedImage image) => OutputOf(model, image);
        Parameter Named(string name) => model.named_parameters().Single(p => p.name == name).parameter;
        Assert.False(Named("colourHead.weight").requires_grad);

        Assert.Equal(0f, Output(withFace));
        Assert.Equal(0f, Output(noFace));

        using (no_grad())
        {
            Named("faceScale").fill_(-1f);
            Named("faceBias").fill_(0.5f);
            Named("colourHead.bias").fill_(-0.25f);
        }
        var expected = (-(HappyLogOddsOfFace(withFace, mirrored: false) + HappyLogOddsOfFace(withFace, mirrored: true)) / 2) + 0.5;
        Assert.Equal(expected, Output(withFace), 1e-3);
        Assert.Equal(-0.25f, Output(noFace), 1e-6f);

        // A model file from before the colour weights were frozen.
        using (no_grad())
            Named("colourHead.weight").fill_(1f);
        Assert.Equal(expected, Output(withFace), 1e-3);
        Assert.NotEqual(-0.25f, Output(noFace), 1e-3f);
    }

    /// <summary>
    /// The pair adds one learnt number: the scale of human-models' emotion network's happy log-odds,
    /// read on the same face and its mirror image. Untrained it has no opinion; photos without a face
    /// get the lean alone, as in face-verdict.
    /// </summary>
    [Fact]
    public void TheFaceVerdictPairAddsTheEmotionNetworksReadingOfTheFace()
    {
        using var model = ModelArchitectures.Create(FaceVerdictClassifier.PairArchitectureName, seed: 1);
        model.eval();
        Assert.Equal(4, model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));
        var (withFace, noFace) = TwoViewPhotos();
        float Output(DecodedImage image) => OutputOf(model, image);
        Parameter Named(string name) => model.named_parameters().Single(p => p.name == name).parameter;
        Assert.Equal(0f, Output(withFace));

        using (no_grad())
        {
            Named("faceScale").fill_(0.5f);
            Named("emotionScale").fill_(-2f);
            Named("faceBias").fill_(0.25f);
            Named("colourHead.bias").fill_(-0.75f);
        }
        var faceApi = (HappyLogOddsOfFace(withFace, mirrored: false) + HappyLogOddsOfFace(withFace, mirrored: true)) / 2;
        var emotion = (EmotionLogOddsOfFace(withFace, mirrored: false) + EmotionLogOddsOfFace(withFace, mirrored: true)) / 2;
        Assert.True(Math.Abs(emotion) > 0.1, $"the emotion network has an opinion of the portrait ({emotion})");
        Assert.Equal((0.5 * faceApi) - (2 * emotion) + 0.25, Output(withFace), 1e-3);
        Assert.Equal(-0.75f, Output(noFace), 1e-6f);
    }

    /// <summary>
    /// Raised hands add one learnt number to the pair, for photos without a face where the preparation
    /// marked someone raising a hand above their head: it moves their verdict and nothing else. The
    /// verdict names what was read.
    /// </summary>
    [Fact]
    public void TheRaisedHandsModelAddsOneNumberWherePhotosWithoutAFaceShowRaisedHands()
    {
        var recipe = new RunRecipe().WithPreset(RunRecipe.BestPreset);
        Assert.Equal(FaceVerdictClassifier.RaisedHandsArchitectureName, recipe.Architecture);
        var preparation = recipe.Preparation();
        Assert.Equal(RaisedHands.Default, preparation.FaceDetection.RaisedHands);
        using var model = ModelArchitectures.Create(recipe.Architecture, seed: 1);
        model.eval();
        Assert.Equal(5, model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()));
        var withFace = preparation.Prepare(File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg")));
        var jumping = preparation.Prepare(File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "happy", "_happy_jumping_on_beach-40815.jpg")));
        var noFace = preparation.Prepare(TestImages.Quadrants(300));
        Assert.NotNull(withFace.Found.Face);
        Assert.True(jumping.Found.RaisedHands, "people jumping with their arms up");
        Assert.Null(noFace.Found.Face);
        Assert.False(noFace.Found.RaisedHands);
        float Output(DecodedImage image) => OutputOf(model, image);
        Parameter Named(string name) => model.named_parameters().Single(p => p.name == name).parameter;

        // Read by the front: a face where one was found, raised hands where none was.
        using (var noGrad = no_grad())
        using (var batch = ImageBatches.FromBytes([.. withFace.Rgb, .. jumping.Rgb, .. noFace.Rgb], 3, 112, CPU, views: 2))
        using (var front = ((IFrozenFront)model).Front(batch))
        {
            Assert.Equal(new long[] { 3, 6 }, front.shape);
            Assert.Equal(new[] { 1f, 0f, 0f }, front.select(1, 4).data<float>().ToArray());
            Assert.Equal(new[] { 0f, 1f, 0f }, front.select(1, 5).data<float>().ToArray());
        }

        using (no_grad())
        {
            Named("faceScale").fill_(0.5f);
            Named("emotionScale").fill_(-2f);
            Named("faceBias").fill_(0.25f);
            Named("colourHead.bias").fill_(-0.75f);
        }
        var faceBefore = Output(withFace);
        Assert.Equal(-0.75f, Output(jumping), 1e-6f);
        using (no_grad())
            Named("raisedHandsWeight").fill_(3f);
        Assert.Equal(2.25f, Output(jumping), 1e-6f);
        Assert.Equal(-0.75f, Output(noFace), 1e-6f);
        Assert.Equal(faceBefore, Output(withFace));

        var card = new ModelCard { Architecture = recipe.Architecture, ClassNames = ["sad", "happy"], Preprocessing = new Preprocessing { InputSize = 112, Crop = CropMode.FaceAndWhole, FaceDetection = preparation.Detection } };
        var classifier = new ImageClassifier(model, card, CPU);
        Assert.Equal((ImageRegion.RaisedHands, "happy"), (classifier.Predict(jumping).Region, classifier.Predict(jumping).Label));
        Assert.Equal(ImageRegion.NoFaceFound, classifier.Predict(noFace).Region);
        Assert.Equal(ImageRegion.Face, classifier.Predict(withFace).Region);

        // A small face under raised hands is read as raised hands, and its verdict still shows the face.
        var smallFace = preparation.Prepare(File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "happy", "1902539.jpg")));
        Assert.Equal(2.25f, Output(smallFace), 1e-6f);
        var verdict = classifier.Predict(smallFace);
        Assert.Equal((ImageRegion.RaisedHandsOverSmallFace, "happy", smallFace.Found.Face), (verdict.Region, verdict.Label, verdict.Face));
        Assert.NotNull(verdict.Face);

        // The pair without raised hands keeps its weights exactly: its model files load as before.
        using var pair = ModelArchitectures.Create(FaceVerdictClassifier.PairArchitectureName, seed: 1);
        Assert.Equal(
            [.. model.named_parameters().Select(p => p.name).Where(n => n != "raisedHandsWeight")],
            pair.named_parameters().Select(p => p.name).ToArray());
    }

    /// <summary>The emotion network's happy log-odds on the face view, from its logits in doubles.</summary>
    static double EmotionLogOddsOfFace(DecodedImage image, bool mirrored)
    {
        using var pretrained = EmotionNet.FromPretrained(TfjsWeights.Load(HumanModelsPackage.EmotionModel()));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var face = ImageBatches.FromBytes(image.Rgb, 1, 112, CPU, views: 2).narrow(2, 0, 112);
        return LogOddsAgainstTheRest(pretrained.ReadFace(mirrored ? face.flip(3) : face), EmotionNet.Emotions.ToList().IndexOf("happy"));
    }

    /// <summary>The portrait (a face is found) and a colour pattern (none is), prepared as two views.</summary>
    static (DecodedImage WithFace, DecodedImage NoFace) TwoViewPhotos()
    {
        var preparation = new ImagePreparation(112, CropMode.FaceAndWhole);
        var withFace = preparation.Prepare(File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg")));
        var noFace = preparation.Prepare(TestImages.Quadrants(300));
        Assert.NotNull(withFace.Found.Face);
        Assert.Null(noFace.Found.Face);
        return (withFace, noFace);
    }

    static float OutputOf(nn.Module<Tensor, Tensor> model, DecodedImage image)
    {
        using var noGrad = no_grad();
        using var input = ImageBatches.FromBytes(image.Rgb, 1, 112, CPU, views: 2);
        using var output = model.forward(input);
        return output.item<float>();
    }

    /// <summary>face-api's happy log-odds on the face view, from its raw logits in doubles (a very happy face has p_happy = 1 in floats).</summary>
    static double HappyLogOddsOfFace(DecodedImage image, bool mirrored)
    {
        using var pretrained = FaceExpressionNet.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.FaceExpression)));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        pretrained.eval();
        var face = ImageBatches.FromBytes(image.Rgb, 1, 112, CPU, views: 2).narrow(2, 0, 112);
        return LogOddsAgainstTheRest(pretrained.forward(mirrored ? face.flip(3) : face), 1);
    }

    /// <summary>log(p / (1 - p)) for p = softmax(logits)[index], in doubles.</summary>
    static double LogOddsAgainstTheRest(Tensor logits, int index)
    {
        var values = logits.data<float>().Select(v => (double)v).ToArray();
        return values[index] - Math.Log(values.Where((_, i) => i != index).Sum(Math.Exp));
    }

    [Fact]
    public void ColourCuesAreMeanLumaAndMeanSaturation()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        // Mid grey: luma 0.5, no saturation. Pure red: luma 0.299, full saturation. Black: no saturation, not a division by zero.
        var grey = full(1, 3, 4, 4, 0.5f);
        var red = cat([ones(1, 1, 4, 4), zeros(1, 2, 4, 4)], 1);
        var black = zeros(1, 3, 4, 4);

        var cues = FaceVerdictClassifier.ColourCues(cat([grey, red, black], 0)).data<float>().ToArray();

        Assert.Equal([0.5f, 0f, 0.299f, 1f, 0f, 0f], cues, (a, b) => Math.Abs(a - b) < 1e-5);
    }
}
