using System.Globalization;
using HappySad.Training.Data;
using HappySad.Training.Training;
using HappySad.Web.Data;

namespace HappySad.Web.Components.Pages.Runs.Components;

/// <summary>How run facts read on the pages.</summary>
public static class RunFormat
{
    public static string Duration(TimeSpan? duration) => duration switch
    {
        null => "–",
        { TotalHours: >= 1 } d => string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalHours} h {d.Minutes} min"),
        { TotalMinutes: >= 1 } d => string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalMinutes} min {d.Seconds} s"),
        { } d => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, d.TotalSeconds):0} s"),
    };

    /// <summary>The model type as people read it ("Face expression (transfer)").</summary>
    public static string Model(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return HappySad.Training.Models.ModelArchitectures.Types.FirstOrDefault(t => t.Name == run.Recipe.Architecture)?.DisplayName ?? run.Recipe.Architecture;
    }

    /// <summary>Whether the run's model read two views of each photo (face above whole), as its test thumbnails show.</summary>
    public static bool ReadsTwoViews(TrainingRun run) => CropOf(run) is { } crop && ImagePreparation.ViewsOf(crop) == 2;

    /// <summary>The crop the run asked for, else its model's default; null for an unknown model.</summary>
    static CropMode? CropOf(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Recipe.Crop ?? HappySad.Training.Models.ModelArchitectures.Types.FirstOrDefault(t => t.Name == run.Recipe.Architecture)?.DefaultCrop;
    }

    /// <summary>What a run did against overfitting, in one line: "face crop · augment · weight decay 0.001 · …", or "none".</summary>
    public static string Recipe(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var parts = new List<string>();
        var cropName = CropOf(run) switch { CropMode.Face => "face crop", CropMode.FaceAndWhole => "face crop + whole photo", _ => null };
        if (cropName is not null)
            parts.Add(run.FacesFound is { } faces ? string.Create(CultureInfo.InvariantCulture, $"{cropName} ({faces} of {run.TrainImages + run.ValidationImages + run.TestImages} had a face)") : cropName);
        if (run.Recipe.Augment)
            parts.Add("augment");
        if (run.Recipe.WeightDecay > 0)
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"weight decay {run.Recipe.WeightDecay:0.#####}"));
        if (run.Recipe.Architecture is not (HappySad.Training.Models.SeedCnn.ArchitectureName or HappySad.Training.Models.FaceVerdictClassifier.ArchitectureName or HappySad.Training.Models.FaceVerdictClassifier.PairArchitectureName or HappySad.Training.Models.FaceVerdictClassifier.RaisedHandsArchitectureName))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"dropout {run.Recipe.Dropout:0.##}"));
        if (run.Recipe.Patience > 0)
            parts.Add(run.RestoredEpoch is { } kept ? $"early stopping {run.Recipe.Patience} (kept epoch {kept})" : $"early stopping {run.Recipe.Patience}");
        if (run.Recipe.Schedule != LearningRateSchedule.Constant)
            parts.Add($"{Word(run.Recipe.Schedule)} schedule");
        if (run.Recipe.FineTune)
            parts.Add("fine-tune");
        return parts.Count == 0 ? "none" : string.Join(" · ", parts);
    }

    /// <summary>The device a run was asked to train on, as it was always shown: auto, cpu, cuda.</summary>
    public static string AskedDevice(TrainingRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return Word(run.Recipe.Device);
    }

    static string Word<TEnum>(TEnum value) where TEnum : struct, Enum => value.ToString().ToLowerInvariant();

    public static string ToDisplay(this RunSource source) => source switch
    {
        RunSource.CommandLine => "command line",
        _ => "dashboard",
    };
}
