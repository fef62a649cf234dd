using System.Text.Json;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Training;

namespace HappySad.Tests.Training.Training;

public sealed class RunRecipeTests
{
    [Fact]
    public void ValidationReportsEveryProblemAtOnceInTheDashboardsWords()
    {
        var recipe = new RunRecipe
        {
            Epochs = 0,
            BatchSize = 2000,
            LearningRate = 0,
            ValidationFraction = 0.5,
            TestFraction = -0.1,
            Architecture = SeedCnn.ArchitectureName,
            FineTune = true,
            WeightDecay = 2,
            Dropout = 0.95,
            Patience = -1,
            Device = DevicePreference.Cuda,
        };

        var problems = recipe.Problems(cudaAvailable: false);

        Assert.Equal(
            [
                "Epochs must be between 1 and 1000 (got 0).",
                "Batch size must be between 1 and 1024 (got 2000).",
                "Learning rate must be above 0 and at most 10 (got 0).",
                "Test fraction must be between 0 and 0.9 (got -0.1).",
                "Fine-tuning applies to pretrained models only; 'seed-cnn' is trained from scratch.",
                "Weight decay must be between 0 and 1 (got 2).",
                "Dropout must be between 0 and 0.9 (got 0.95).",
                "Early-stopping patience must be between 0 (off) and 1000 (got -1).",
                RunRecipe.CudaUnavailable,
            ],
            problems);
        var refused = Assert.Throws<RunRecipeException>(() => recipe.EnsureValid(cudaAvailable: false));
        Assert.Equal(problems, refused.Problems);
        Assert.Equal(string.Join(" ", problems), refused.Message);
        Assert.Empty(new RunRecipe().Problems(cudaAvailable: false));
    }

    [Fact]
    public void APresetSetsTheModelAndTrainingAndIsRecordedOnlyWhileItIsFollowed()
    {
        var mine = new RunRecipe { Seed = 7, ValidationFraction = 0.3, Device = DevicePreference.Cpu };

        var best = mine.WithPreset(RunRecipe.BestPreset);

        Assert.Equal((FaceVerdictClassifier.RaisedHandsArchitectureName, 40, 16, 8, LearningRateSchedule.Cosine), (best.Architecture, best.Epochs, best.BatchSize, best.Patience, best.Schedule));
        Assert.Equal((7, 0.3, DevicePreference.Cpu), (best.Seed, best.ValidationFraction, best.Device));
        Assert.Equal(RunRecipe.BestPreset, best.Recorded().Preset);
        Assert.Equal(RunRecipe.BestPreset, (best with { Seed = 1 }).EffectivePreset());
        Assert.Null((best with { Epochs = 41 }).Recorded().Preset);
        Assert.Null(best.WithPreset(RunRecipe.NotebookPreset).Preset);
        Assert.True(new RunRecipe().SameModelAndTraining(best.WithPreset(RunRecipe.NotebookPreset)));
        Assert.Throws<ArgumentException>(() => mine.WithPreset("fastest"));
    }

    /// <summary>Over HTTP and the hub a run's recipe reads in these names, order and words (the wire's snake_case keys).</summary>
    [Fact]
    public void OverTheWireARecipeHasTheApisNamesAndWords()
    {
        var http = HappySad.Web.Api.WireJson.Options;
        var recipe = new RunRecipe().WithPreset(RunRecipe.BestPreset) with { Crop = CropMode.FaceAndWhole, Device = DevicePreference.Cuda };

        var json = JsonSerializer.Serialize(recipe, http);

        Assert.Equal(
            """{"architecture":"face-verdict-pair-hands","epochs":40,"batch_size":16,"learning_rate":0.01,"validation_fraction":0.2,"test_fraction":0.1,"seed":42,"device":"cuda","preset":"best","crop":"face-and-whole","augment":false,"weight_decay":0,"dropout":0.3,"patience":8,"schedule":"cosine","fine_tune":false}""",
            json);
        Assert.Equal(recipe, JsonSerializer.Deserialize<RunRecipe>(json, http));
        Assert.Equal(DevicePreference.Cuda, JsonSerializer.Deserialize<RunRecipe>("""{"device":"Cuda","crop":null}""", http)!.Device);
    }
}
