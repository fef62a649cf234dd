using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Training;
using HappySad.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HappySad.Tests.Web.Data;

/// <summary>A database written by an earlier version of the app opens in this one with nothing lost.</summary>
public sealed class RunDatabaseMigrationTests
{
    /// <summary>The last migration before a run's recipe became one complex property.</summary>
    const string BeforeRecipe = "20261124163004_CropNames";

    [Fact]
    public async Task ARunRecordedBeforeTheRecipeMigrationReadsBackWithItsRecipeEpochsAndImages()
    {
        using var data = new TempDirectory();
        await using (var old = Context(data.Path))
        {
            await old.GetService<IMigrator>().MigrateAsync(BeforeRecipe);
            // The columns and words the previous version wrote: lower-cased enums, the crop as the command line spells it.
            await old.Database.ExecuteSqlRawAsync("""
                INSERT INTO TrainingRuns (Id, Source, Status, DataSetId, DataName, Architecture, Epochs, BatchSize, LearningRate,
                    ValidationFraction, TestFraction, Seed, DevicePreference, Preset, Crop, Augment, WeightDecay, Dropout, Patience,
                    Schedule, FineTune, Device, CreatedAt, ClassNames, TrainImages, ValidationImages, TestImages, SkippedImages, TestAccuracy)
                VALUES (7, 'CommandLine', 'Succeeded', NULL, '/photos', 'face-and-whole', 40, 16, 0.01,
                    0.25, 0.15, 9, 'cpu', 'best', 'face-and-whole', 1, 0.001, 0.5, 8,
                    'cosine', 1, 'cpu', 638000000000000000, '["happy","sad"]', 70, 20, 10, 1, 0.875);
                INSERT INTO RunEpochs (RunId, Epoch, Loss, Accuracy, ValLoss, ValAccuracy, Seconds) VALUES (7, 1, 0.69, 0.5, 0.7, 0.45, 3.5);
                INSERT INTO RunImages (RunId, PhotoId, Path, Name, Sha256, Label, Split) VALUES (7, NULL, 'sad/a.jpg', 'a.jpg', 'abc', 1, 'Test');
                """);
        }

        await using var context = Context(data.Path);
        await context.Database.MigrateAsync();
        var run = await context.TrainingRuns.AsNoTracking().Include(r => r.History).Include(r => r.Images).SingleAsync();

        Assert.Equal(
            new RunRecipe
            {
                Architecture = FaceAndWholeClassifier.ArchitectureName,
                Epochs = 40,
                BatchSize = 16,
                LearningRate = 0.01,
                ValidationFraction = 0.25,
                TestFraction = 0.15,
                Seed = 9,
                Device = DevicePreference.Cpu,
                Preset = RunRecipe.BestPreset,
                Crop = CropMode.FaceAndWhole,
                Augment = true,
                WeightDecay = 0.001,
                Dropout = 0.5,
                Patience = 8,
                Schedule = LearningRateSchedule.Cosine,
                FineTune = true,
            },
            run.Recipe);
        Assert.Equal((7, RunStatus.Succeeded, "/photos", 0.875), (run.Id, run.Status, run.DataName, run.TestAccuracy));
        Assert.Equal(["happy", "sad"], run.ClassNames);
        Assert.Equal(0.45, Assert.Single(run.History).ValAccuracy);
        Assert.Equal("sad/a.jpg", Assert.Single(run.Images).Path);

        // Written back in the same words, so a database stays readable by the words it always used.
        var tracked = await context.TrainingRuns.SingleAsync();
        tracked.Recipe = tracked.Recipe with { Crop = CropMode.Face, Device = DevicePreference.Auto };
        await context.SaveChangesAsync();
        var stored = await context.Database.SqlQueryRaw<string>("SELECT Recipe_Crop || ' ' || Recipe_Device || ' ' || Recipe_Schedule AS Value FROM TrainingRuns").SingleAsync();
        Assert.Equal("face auto cosine", stored);
    }

    static HappySadDbContext Context(string dataDirectory) =>
        new(new DbContextOptionsBuilder<HappySadDbContext>().UseSqlite($"Data Source={Path.Combine(dataDirectory, "happysad.db")};Pooling=false").Options);
}
