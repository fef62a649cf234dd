using HappySad.Training.Data;
using HappySad.Web.Data;

namespace HappySad.Web.DataSets;

/// <summary>
/// A data set as a run would see it, before one is launched: how balanced its classes are, the
/// pictures it holds more than once in one class, and those it holds in both classes (label
/// conflicts). Groups are the ones a run's split keeps whole (<see cref="NearDuplicates"/>, from
/// the hashes the uploads stored), so what is shown here is what the run page will report.
/// </summary>
public sealed record DataHealth(IReadOnlyList<string> ClassNames, IReadOnlyList<int> ClassCounts, IReadOnlyList<IReadOnlyList<Photo>> Duplicates, IReadOnlyList<IReadOnlyList<Photo>> Conflicts)
{
    /// <summary>Below this share of the photos, a class is small enough for a model to learn to ignore it.</summary>
    public const double MinClassShare = 0.4;

    public int Photos => ClassCounts.Sum();

    /// <summary>The smallest class when it holds less than <see cref="MinClassShare"/> of the photos; null when the classes are balanced enough.</summary>
    public int? SmallClass
    {
        get
        {
            if (Photos == 0)
                return null;
            var smallest = Enumerable.Range(0, ClassCounts.Count).MinBy(i => ClassCounts[i]);
            return Share(smallest) < MinClassShare ? smallest : null;
        }
    }

    public double Share(int label) => Photos == 0 ? 0 : ClassCounts[label] / (double)Photos;

    /// <summary>Every photo of each duplicate group but the first uploaded: trashing them keeps one copy of each picture.</summary>
    public IReadOnlyList<int> ExtraCopies => [.. Duplicates.SelectMany(g => g.Skip(1)).Select(p => p.Id)];

    public IReadOnlyList<int> ConflictPhotos => [.. Conflicts.SelectMany(g => g).Select(p => p.Id)];

    /// <summary>The health of <paramref name="photos"/>, the usable ones of a data set with <paramref name="classNames"/>.</summary>
    public static DataHealth Of(IReadOnlyList<Photo> photos, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(photos);
        ArgumentNullException.ThrowIfNull(classNames);
        var ordered = photos.OrderBy(p => p.Id).ToList();
        var groups = NearDuplicates.Groups([.. ordered.Select(p => (ulong?)unchecked((ulong)p.PerceptualHash))]);
        var shared = Enumerable.Range(0, ordered.Count).GroupBy(i => groups[i]).Where(g => g.Count() > 1)
            .Select(g => (IReadOnlyList<Photo>)[.. g.Select(i => ordered[i])]).ToList();
        return new DataHealth(
            classNames,
            [.. classNames.Select(name => ordered.Count(p => p.ClassName == name))],
            [.. shared.Where(g => g.Select(p => p.ClassName).Distinct().Count() == 1)],
            [.. shared.Where(g => g.Select(p => p.ClassName).Distinct().Count() > 1)]);
    }
}
