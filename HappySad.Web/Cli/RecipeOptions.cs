using System.CommandLine;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Training;

namespace HappySad.Web.Cli;

/// <summary>
/// The options that describe a run's recipe, defined once for <c>train</c> and <c>crossval</c>.
/// They fill the same <see cref="RunRecipe"/> as the dashboard's dialog and the API, and only
/// <see cref="RunRecipe.Problems"/> judges them, so every surface accepts the same ranges and
/// refuses with the same words. A preset (the notebook's unless <c>--preset</c> says otherwise) sets
/// the model and training options; each one given beside it overrides it.
/// </summary>
internal sealed class RecipeOptions
{
    static readonly RunRecipe Notebook = new();

    readonly Option<string?> _preset = CliOptions.OneOf<string?>("--preset",
        "A recipe to start from: it sets the model and training options below, and each one given overrides it. The defaults shown are the notebook's.",
        [.. RunRecipe.Presets.Select(p => (p, (string?)p))], RunRecipe.NotebookPreset);
    readonly Option<string> _model = new("--model")
    {
        Description = $"The model type: {string.Join(", ", ModelArchitectures.Names)}.",
        HelpName = "TYPE",
        DefaultValueFactory = _ => Notebook.Architecture,
    };
    readonly Option<CropMode?> _crop = CliOptions.OneOf<CropMode?>("--crop", "What of each photo the model sees (default: the model type's own).",
        [.. CropNames.All.Select(name => (name, CropNames.Parse(name)))]);
    readonly Option<int> _epochs = CliOptions.Int("--epochs", "Passes over the training photos.", Notebook.Epochs);
    readonly Option<int> _batchSize = CliOptions.Int("--batch-size", "Photos per training step.", Notebook.BatchSize);
    readonly Option<double> _learningRate = CliOptions.Number("--lr", "Learning rate (Adam).", Notebook.LearningRate);
    readonly Option<int> _seed = CliOptions.Int("--seed", "Seeds the split, the weights and the shuffling.", Notebook.Seed);
    readonly Option<double> _validation = CliOptions.Number("--validation", "Share of each class held out for validation.", Notebook.ValidationFraction);
    readonly Option<double> _test = CliOptions.Number("--test", "Share of each class held out for the final test.", Notebook.TestFraction);
    readonly Option<DevicePreference> _device = CliOptions.OneOf("--device", "Where to train.",
        [("auto", DevicePreference.Auto), ("cpu", DevicePreference.Cpu), ("cuda", DevicePreference.Cuda)], "auto");
    readonly Option<bool> _augment = new("--augment") { Description = "Random flips, crops and colour changes of the training photos." };
    readonly Option<double> _weightDecay = CliOptions.Number("--weight-decay", "AdamW weight decay.", Notebook.WeightDecay);
    readonly Option<double> _dropout = CliOptions.Number("--dropout", "Dropout before the classifier.", Notebook.Dropout);
    readonly Option<int> _patience = CliOptions.Int("--patience", "Early stopping: epochs without a better validation loss before stopping; 0 is off.", Notebook.Patience);
    readonly Option<LearningRateSchedule> _schedule = CliOptions.OneOf("--schedule", "How the learning rate changes over the epochs.",
        [.. Enum.GetValues<LearningRateSchedule>().Select(s => (s.ToString().ToLowerInvariant(), s))], "constant");
    readonly Option<bool> _fineTune = new("--fine-tune") { Description = "Also train a pretrained model's own layers." };

    public RecipeOptions() => _model.CompletionSources.Add([.. ModelArchitectures.Names]);

    IEnumerable<Option> All =>
        [_preset, _model, _crop, _epochs, _batchSize, _learningRate, _seed, _validation, _test, _device,
         _augment, _weightDecay, _dropout, _patience, _schedule, _fineTune];

    public void AddTo(Command command)
    {
        foreach (var option in All)
            command.Options.Add(option);
    }

    /// <summary>The preset first, then each option given over it. Throws <see cref="RunRecipeException"/> when the recipe cannot work.</summary>
    public RunRecipe Read(ParseResult parse)
    {
        var preset = new RunRecipe().WithPreset(parse.GetValue(_preset) ?? RunRecipe.NotebookPreset);
        // An option's default is the notebook's value, shown in help; left out, the preset's value counts.
        T Given<T>(Option<T> option, T presetValue) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : presetValue;
        var recipe = preset with
        {
            Epochs = Given(_epochs, preset.Epochs),
            BatchSize = Given(_batchSize, preset.BatchSize),
            LearningRate = Given(_learningRate, preset.LearningRate),
            Seed = parse.GetValue(_seed),
            ValidationFraction = parse.GetValue(_validation),
            TestFraction = parse.GetValue(_test),
            Device = Given(_device, Notebook.Device),
            Architecture = Given(_model, preset.Architecture),
            Crop = Given(_crop, preset.Crop),
            Augment = parse.GetValue(_augment) || preset.Augment,
            WeightDecay = Given(_weightDecay, preset.WeightDecay),
            Dropout = Given(_dropout, preset.Dropout),
            Patience = Given(_patience, preset.Patience),
            Schedule = Given(_schedule, preset.Schedule),
            FineTune = parse.GetValue(_fineTune) || preset.FineTune,
        };
        return recipe.EnsureValid(TorchDevices.CudaAvailable).Recorded();
    }
}
