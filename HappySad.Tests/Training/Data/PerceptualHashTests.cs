using HappySad.Tests.Support;
using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Tests.Training.Data;

public class PerceptualHashTests
{
    static ulong Hash(byte[] image) => PerceptualHash.Compute(ImageDecoder.Decode(image, 64));

    [Fact]
    public void ARightwardDarkeningGradientSetsEveryBit()
    {
        // Each cell is darker than its left neighbour, so every "left is brighter" bit is 1.
        var gradient = TestImages.Draw(90, 80, canvas =>
        {
            using var paint = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(90, 0), [SKColors.White, SKColors.Black], SKShaderTileMode.Clamp) };
            canvas.DrawRect(0, 0, 90, 80, paint);
        });

        Assert.Equal(ulong.MaxValue, Hash(gradient));
    }

    [Fact]
    public void AResizedRecompressedCopyStaysNearAndAnotherPictureDoesNot()
    {
        var original = TestImages.Blocks(1, 300, 300);
        using var bitmap = SKBitmap.Decode(original);
        using var small = bitmap.Resize(new SKImageInfo(120, 120), new SKSamplingOptions(SKFilterMode.Linear));
        var copy = TestImages.Encode(small, SKEncodedImageFormat.Jpeg, 70);

        Assert.InRange(PerceptualHash.Distance(Hash(original), Hash(copy)), 0, PerceptualHash.NearDuplicateDistance);
        Assert.True(PerceptualHash.Distance(Hash(original), Hash(TestImages.Blocks(2, 300, 300))) > PerceptualHash.NearDuplicateDistance);
    }

    [Fact]
    public void NearPairsListsEachClosepairOnce()
    {
        var items = new[] { ("a", 0b0000UL), ("b", 0b0011UL), ("c", ulong.MaxValue) };

        var pairs = PerceptualHash.NearPairs(items, i => i.Item2, maxDistance: 2);

        var pair = Assert.Single(pairs);
        Assert.Equal(("a", "b", 2), (pair.First.Item1, pair.Second.Item1, pair.Distance));
    }

    [Fact]
    public void NearPairsFindsWhatComparingEveryPairFindsInTheSameOrder()
    {
        // Clusters of hashes a few bits apart, so pairs fall at every distance around the limit.
        for (var trial = 0; trial < 10; trial++)
        {
            var random = new Random(trial);
            var centres = Enumerable.Range(0, 20).Select(_ => (ulong)random.NextInt64()).ToArray();
            var items = Enumerable.Range(0, 300).Select(_ =>
            {
                var h = centres[random.Next(centres.Length)];
                for (var k = random.Next(10); k > 0; k--)
                    h ^= 1UL << random.Next(64);
                return h;
            }).ToArray();
            foreach (var limit in new[] { 0, 3, PerceptualHash.NearDuplicateDistance, 20 })
            {
                var everyPair = new List<(ulong, ulong, int)>();
                for (var i = 0; i < items.Length; i++)
                {
                    for (var j = i + 1; j < items.Length; j++)
                    {
                        if (PerceptualHash.Distance(items[i], items[j]) <= limit)
                            everyPair.Add((items[i], items[j], PerceptualHash.Distance(items[i], items[j])));
                    }
                }

                Assert.Equal(everyPair, PerceptualHash.NearPairs(items, h => h, limit).Select(p => (p.First, p.Second, p.Distance)));
            }
        }
    }
}
