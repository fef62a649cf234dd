using HappySad.Training.Data;
using HappySad.Training.Evaluation;

namespace HappySad.Web.Cli.Commands;

/// <summary>
/// <c>faces</c>: how well each face detector setting finds faces in a data set, and how fast; with
/// <c>--labels</c> (a hand-made <c>file,label,faces,note</c> list) its recall and false detections.
/// </summary>
internal static class FacesCommand
{
    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        var json = args.Flag("json");
        var folder = ImageFolder.Open(args.Required("data"));
        var labels = args.Optional("labels") is { } path ? FacePresence.Load(path) : null;
        var scores = FaceDetectionReport.Measure(
            folder,
            FaceDetectionReport.Settings,
            labels,
            progress: new InlineProgress<int>(n => cli.Progress.Report("Detecting", n, folder.Files.Count)),
            cancellationToken: cli.CancellationToken);
        cli.Progress.Clear();
        if (json)
        {
            await cli.WriteJsonAsync(scores.Select(s => new
            {
                setting = s.Setting,
                photos = s.Photos,
                found = s.FoundAny,
                found_share = s.FoundShare,
                faces = s.Faces,
                faces_found = s.FacesFound,
                recall = s.Recall,
                no_face = s.NoFace,
                false_detections = s.FalseDetections,
                false_detection_rate = s.FalseDetectionRate,
                drawn = s.Drawn,
                drawn_found = s.DrawnFound,
                tiny = s.Tiny,
                tiny_found = s.TinyFound,
                ms_p50 = s.MillisecondsP50,
                ms_p95 = s.MillisecondsP95,
                missed = s.Missed,
                falsely_found = s.FalselyFound,
            }));
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
}
