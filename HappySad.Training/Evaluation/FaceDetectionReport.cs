using System.Diagnostics;
using HappySad.Training.Data;
using HappySad.Training.Faces;

namespace HappySad.Training.Evaluation;

/// <summary>What a person saw in a photo, from a hand-made labels file (<c>file,label,faces,note</c>).</summary>
/// <param name="File">The photo's path relative to the data folder, with forward slashes (<c>happy/1-2.jpg</c>).</param>
/// <param name="Label"><c>face</c> (a real face whose expression can be read), <c>tiny</c> (faces too small to read), <c>drawn</c> (a cartoon, emoji or statue face), <c>none</c> or <c>unreadable</c>.</param>
public sealed record FacePresence(string File, string Label, int Faces, string Note)
{
    public const string Face = "face";
    public const string Tiny = "tiny";
    public const string Drawn = "drawn";
    public const string None = "none";

    /// <summary>Reads a labels file; a malformed line is an error naming its number.</summary>
    public static IReadOnlyDictionary<string, FacePresence> Load(string path)
    {
        var labels = new Dictionary<string, FacePresence>(StringComparer.Ordinal);
        var lines = System.IO.File.ReadAllLines(path);
        for (var i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
                continue;
            var fields = SplitCsv(lines[i]);
            if (fields.Count < 2 || (fields.Count > 2 && !int.TryParse(fields[2], out _)))
                throw new DataSetException($"'{path}' line {i + 1} is not 'file,label,faces,note'");
            labels[fields[0]] = new FacePresence(fields[0], fields[1], fields.Count > 2 ? int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture) : 0, fields.Count > 3 ? fields[3] : "");
        }
        return labels;
    }

    /// <summary>A photo's name in a labels file: its path relative to the data folder, with forward slashes.</summary>
    public static string NameOf(ImageFolder folder, LabeledFile file)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(file);
        return Path.GetRelativePath(folder.Root, file.Path).Replace('\\', '/');
    }

    /// <summary>The names in <paramref name="labels"/> that are no photo of <paramref name="folder"/>: they are not scored.</summary>
    public static IReadOnlyList<string> Unmatched(IReadOnlyDictionary<string, FacePresence> labels, ImageFolder folder)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(folder);
        var photos = folder.Files.Select(f => NameOf(folder, f)).ToHashSet(StringComparer.Ordinal);
        return [.. labels.Keys.Where(name => !photos.Contains(name))];
    }

    static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"')
            {
                field.Append('"');
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }
        fields.Add(field.ToString());
        return fields;
    }
}

/// <summary>How one detector setting did on a folder, against hand-made labels when there are some.</summary>
public sealed record DetectorScore(
    string Setting,
    int Photos,
    int FoundAny,
    int Faces,
    int FacesFound,
    int NoFace,
    int FalseDetections,
    int Drawn,
    int DrawnFound,
    int Tiny,
    int TinyFound,
    double MillisecondsP50,
    double MillisecondsP95,
    IReadOnlyList<string> Missed,
    IReadOnlyList<string> FalselyFound)
{
    public double FoundShare => Photos == 0 ? 0 : (double)FoundAny / Photos;
    /// <summary>Of the photos labelled <c>face</c>, the share where a face was found.</summary>
    public double? Recall => Faces == 0 ? null : (double)FacesFound / Faces;
    /// <summary>Of the photos labelled <c>none</c> (no face of any kind), the share where a face was "found".</summary>
    public double? FalseDetectionRate => NoFace == 0 ? null : (double)FalseDetections / NoFace;
}

/// <summary>
/// Measures face detector settings on a class-folder data set: how often each finds a face, how
/// long it takes per photo (decoded as face crops decode it), and, with <see cref="FacePresence"/>
/// labels, its recall on real faces and its false detections on photos with none.
/// </summary>
public static class FaceDetectionReport
{
    /// <summary>The settings compared by default: face-api's two detectors as shipped, the SSD at a lower score, with extra passes, and what new models use without and with the close-up look.</summary>
    public static IReadOnlyList<FaceDetection> Settings { get; } =
    [
        FaceDetection.Legacy,
        new() { MinScore = 0.5, ExtraPasses = false, TinyFirstMinScore = 0 },
        new() { MinScore = 0.3, ExtraPasses = false, TinyFirstMinScore = 0 },
        new() { MinScore = 0.4, ExtraPasses = false, TinyFirstMinScore = 0 },
        new() { MinScore = 0.4, TinyFirstMinScore = 0 },
        new() { MinScore = 0.3, ExtraPassMinScore = 0.3, TileMinScore = 0.3, TinyFirstMinScore = 0 },
        FaceDetection.Default with { CloseUpMinScore = 0 },
        FaceDetection.Default,
    ];

    public static IReadOnlyList<DetectorScore> Measure(
        ImageFolder folder,
        IReadOnlyList<FaceDetection> settings,
        IReadOnlyDictionary<string, FacePresence>? labels = null,
        ImageLimits? limits = null,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(settings);
        var found = settings.Select(_ => new List<(string File, bool Found, double Milliseconds)>()).ToArray();
        var done = 0;
        foreach (var file in folder.Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = FacePresence.NameOf(folder, file);
            SourceBitmap? source = null;
            try
            {
                source = ImageDecoder.DecodeBitmap(ImageDecoder.ReadFile(file.Path, limits ?? ImageLimits.Default), FaceCrop.WorkingSize, limits, SourceUse.FaceWork);
            }
            catch (ImageRejectedException)
            {
            }
            if (source is not null)
            {
                using (source)
                {
                    for (var s = 0; s < settings.Count; s++)
                    {
                        var clock = Stopwatch.StartNew();
                        var faces = settings[s].Find(source.Bitmap);
                        found[s].Add((relative, faces.Count > 0, clock.Elapsed.TotalMilliseconds));
                    }
                }
            }
            progress?.Report(++done);
        }

        return [.. settings.Select((setting, s) =>
        {
            var results = found[s];
            bool Is(string file, string label) => labels is not null && labels.TryGetValue(file, out var presence) && presence.Label == label;
            int Count(string label, bool? detected = null) => results.Count(r => Is(r.File, label) && (detected is null || r.Found == detected));
            var times = results.Select(r => r.Milliseconds).Order().ToArray();
            return new DetectorScore(
                setting.Describe(),
                results.Count,
                results.Count(r => r.Found),
                Count(FacePresence.Face),
                Count(FacePresence.Face, true),
                Count(FacePresence.None),
                Count(FacePresence.None, true),
                Count(FacePresence.Drawn),
                Count(FacePresence.Drawn, true),
                Count(FacePresence.Tiny),
                Count(FacePresence.Tiny, true),
                Percentile(times, 0.5),
                Percentile(times, 0.95),
                [.. results.Where(r => Is(r.File, FacePresence.Face) && !r.Found).Select(r => r.File)],
                [.. results.Where(r => Is(r.File, FacePresence.None) && r.Found).Select(r => r.File)]);
        })];
    }

    static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * sorted.Length))];
}
