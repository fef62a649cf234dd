using HappySad.Tests.EndToEnd;
using Xunit.Abstractions;

[assembly: TestCollectionOrderer("HappySad.Tests.Support.LongestCollectionsFirst", "HappySad.Tests")]

namespace HappySad.Tests.Support;

/// <summary>
/// Starts the collections that take minutes before the ones that take seconds. xunit runs two
/// collections at a time here (one per core) and starts them in this order; in its own order the
/// browser tests beside the unit tests (about six minutes, one at a time) started last and then ran
/// alone for four minutes while the other core idled. Longest first keeps both cores busy to the end.
/// The rest keep a stable order by name. (Collections that run alone come after all of these anyway.)
/// </summary>
public sealed class LongestCollectionsFirst : ITestCollectionOrderer
{
    /// <summary>The long collections, longest first, as measured in CI (about 375 s, 300 s and 130 s).</summary>
    static readonly string[] Longest = [BesideUnitTestsEndToEnd.Name, TorchTraining.Name, PostgresServer.Name];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections
            .OrderBy(c => Array.IndexOf(Longest, c.DisplayName) is var rank and >= 0 ? rank : Longest.Length)
            .ThenBy(c => c.DisplayName, StringComparer.Ordinal);
}
