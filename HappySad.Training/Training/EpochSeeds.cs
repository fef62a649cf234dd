namespace HappySad.Training.Training;

/// <summary>
/// The seeds of one epoch's random streams, each a pure function of (run seed, epoch, stream): an
/// epoch draws the same shuffle, augmentations and dropout masks whether the fit ran straight
/// through or resumed at that epoch in another process. No stream carries over from the epoch before,
/// and none depends on <see cref="HashCode"/>, whose values change from process to process.
/// </summary>
internal static class EpochSeeds
{
    const ulong ShuffleStream = 0x5348554646, AugmentStream = 0x4155474D, TorchStream = 0x544F524348;

    /// <summary>The batch order.</summary>
    public static int Shuffle(int seed, int epoch) => Mix(seed, epoch, ShuffleStream);

    /// <summary>The augmentation draws, apart from the batch order so that turning augmentation on does not change it.</summary>
    public static int Augment(int seed, int epoch) => Mix(seed, epoch, AugmentStream);

    /// <summary>libtorch's global generator (dropout), set at the start of each epoch.</summary>
    public static long Torch(int seed, int epoch) => Mix(seed, epoch, TorchStream);

    /// <summary>SplitMix64's finaliser over the three inputs: neighbouring seeds and epochs give unrelated streams.</summary>
    static int Mix(int seed, int epoch, ulong stream)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)epoch) ^ (stream * 0x9E3779B97F4A7C15);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }
}
