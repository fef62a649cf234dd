using System.CommandLine;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;

namespace HappySad.Web.Cli.Commands;

/// <summary>
/// <c>faces</c>: how well each face detector setting finds faces in a data set, and how fast; with
/// <c>--labels</c> (a hand-made <c>file,label,faces,note</c> list) its recall and false detections.
/// </summary>
internal static class FacesCommand
{
    public static Command Create(CliContext cli)
    {
        var data = CliOptions.Data();
        var labels = new Option<string?>("--labels")
        {
            Description = "A hand-made list of file,label,faces,note rows (labels face, tiny, drawn, none): adds recall and false detections.",
            HelpName = "FILE",
        };
        var json = CliOptions.Json();
        var command = new Command("faces", "Each face detector setting on a data set: how often it finds a face and its time per photo.") { data, labels, json };
        command.SetAction((parse, _) => RunAsync(cli.ForJson(parse.GetValue(json)), parse.GetRequiredValue(data), parse.GetValue(labels), parse.GetValue(json)));
        return command;
    }

    static async Task<int> RunAsync(CliContext cli, string data, string? labelsFile, bool json)
    {
        var folder = ImageFolder.Open(data);
        var labels = labelsFile is not null ? FacePresence.Load(labelsFile) : null;
        if (labels is not null)
            await CheckNamesAsync(cli, labels, labelsFile!, folder, data);
        var scores = FaceDetectionReport.Measure(
            folder,
            FaceDetectionReport.Settings,
            labels,
            progress: new InlineProgress<int>(n => cli.Progress.Report("Detecting", n, folder.Files.Count)),
            cancellationToken: cli.CancellationToken);
        cli.Progress.Clear();
        if (json)
        {
            await cli.WriteJsonAsync(scores.Select(s => new FacesReport(
                s.Setting, s.Photos, s.FoundAny, s.FoundShare, s.Faces, s.FacesFound, s.Recall, s.NoFace, s.FalseDetections, s.FalseDetectionRate,
                s.Drawn, s.DrawnFound, s.Tiny, s.TinyFound, s.MillisecondsP50, s.MillisecondsP95, s.Missed, s.FalselyFound)).ToList());
            return 0;
        }
        foreach (var s in scores)
        {
            cli.Output.WriteLine(s.Setting);
            cli.Output.Write($"  a face in {s.FoundAny} of {s.Photos} photos ({s.FoundShare:P1}); {s.MillisecondsP50:0} ms p50, {s.MillisecondsP95:0} ms p95 per photo");
            cli.Output.WriteLine(labels is null ? "" : $"; recall {s.Recall:P1} ({s.FacesFound}/{s.Faces} labelled faces), false detections {s.FalseDetectionRate:P1} ({s.FalseDetections}/{s.NoFace} photos without any face), drawn faces {s.DrawnFound}/{s.Drawn}, tiny faces {s.TinyFound}/{s.Tiny}");
        }
        return 0;
    }

    /// <summary>
    /// A labels file is matched to the photos by name: one that names none of them would score
    /// nothing (an error, before any detector runs), and names that match no photo are left out
    /// (a warning with the counts).
    /// </summary>
    static async Task CheckNamesAsync(CliContext cli, IReadOnlyDictionary<string, FacePresence> labels, string labelsFile, ImageFolder folder, string data)
    {
        if (labels.Count == 0)
            throw new DataSetException($"'{labelsFile}' names no photo: it has no file,label rows");
        var unmatched = FacePresence.Unmatched(labels, folder);
        if (unmatched.Count == labels.Count)
        {
            var example = folder.Files.Count > 0 ? $"; name each photo by its path in the data folder, such as '{FacePresence.NameOf(folder, folder.Files[0])}'" : "";
            throw new DataSetException($"'{labelsFile}' names no photo of {data}: none of its {labels.Count} names match (e.g. '{unmatched[0]}'){example}");
        }
        if (unmatched.Count > 0)
            await cli.Error.WriteLineAsync($"warning: {unmatched.Count} of the {labels.Count} names in '{labelsFile}' match no photo of {data} (e.g. '{unmatched[0]}'); recall and false detections count the {labels.Count - unmatched.Count} that match");
    }
}
