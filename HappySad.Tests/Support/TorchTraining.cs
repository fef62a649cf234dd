namespace HappySad.Tests.Support;

/// <summary>
/// Test classes that train networks in this process. They run one at a time: libtorch's CPU kernels
/// split work across one shared thread pool, and two trainings at once change how sums are split
/// and so the last bits of the numbers, which a reproducibility test notices. (The app trains one
/// run at a time for the same reason.) Those that train over PostgreSQL share its <see cref="PostgresServer"/>.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TorchTraining : ICollectionFixture<PostgresServer>
{
    public const string Name = "Training in this process";
}

/// <summary>
/// Tests that compare two fits bit for bit across a resume. Dropout draws from libtorch's one global
/// generator, which each epoch reseeds; any other test in the process that draws from it during an
/// epoch (building or loading a model) changes the draws, so these run with no other test beside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchAlone
{
    public const string Name = "Training with nothing else in this process";
}
