using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Native;
using HappySad.Training.Training;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Data;

public sealed class AugmentationTests
{
    const int Size = 32;

    /// <summary>Every pixel different: red follows x, green follows y, blue mixes both.</summary>
    static byte[] Gradient()
    {
        var rgb = new byte[Size * Size * 3];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var at = ((y * Size) + x) * 3;
                (rgb[at], rgb[at + 1], rgb[at + 2]) = ((byte)(x * 8), (byte)(y * 8), (byte)((x * 3) + (y * 5)));
            }
        }
        return rgb;
    }

    static byte[] Apply(byte[] source, AugmentParameters parameters)
    {
        var target = new byte[source.Length];
        Augmenter.Apply(source, target, Size, parameters);
        return target;
    }

    static (byte R, byte G, byte B) Pixel(byte[] rgb, int x, int y) => (rgb[((y * Size) + x) * 3], rgb[(((y * Size) + x) * 3) + 1], rgb[(((y * Size) + x) * 3) + 2]);

    [Fact]
    public void IdentityParametersLeaveEveryPixelAsItWas()
    {
        var source = Gradient();
        Assert.Equal(source, Apply(source, AugmentParameters.Identity));
    }

    [Fact]
    public void FlipMirrorsEveryRow()
    {
        var source = Gradient();
        var flipped = Apply(source, AugmentParameters.Identity with { Flip = true });
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
                Assert.Equal(Pixel(source, Size - 1 - x, y), Pixel(flipped, x, y));
        }
    }

    [Fact]
    public void HalfRotationTurnsTheImageUpsideDown()
    {
        var source = Gradient();
        var turned = Apply(source, AugmentParameters.Identity with { RotationDegrees = 180 });
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
                Assert.Equal(Pixel(source, Size - 1 - x, Size - 1 - y), Pixel(turned, x, y));
        }
    }

    [Fact]
    public void SmallRotationTurnsAboutTheCentre()
    {
        var source = Gradient();
        var turned = Apply(source, AugmentParameters.Identity with { RotationDegrees = 10 });
        // The centre stays where it was; a pixel near the right edge moves vertically (x follows red, y follows green).
        Assert.InRange(Pixel(turned, Size / 2, Size / 2).G - Pixel(source, Size / 2, Size / 2).G, -8, 8);
        var (_, g, _) = Pixel(turned, Size - 2, Size / 2);
        Assert.True(g > Pixel(source, Size - 2, Size / 2).G + 8, $"rotating by 10 degrees should move the right edge's content: green {g}");
    }

    [Fact]
    public void CropOfTheTopLeftQuarterFillsTheImageWithIt()
    {
        var source = new byte[Size * Size * 3];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var at = ((y * Size) + x) * 3;
                (source[at], source[at + 1], source[at + 2]) = (x < Size / 2, y < Size / 2) switch
                {
                    (true, true) => ((byte)200, (byte)40, (byte)40),
                    (false, true) => ((byte)40, (byte)200, (byte)40),
                    (true, false) => ((byte)40, (byte)40, (byte)200),
                    _ => ((byte)90, (byte)90, (byte)90),
                };
            }
        }
        var cropped = Apply(source, AugmentParameters.Identity with { CropWidth = 0.45, CropHeight = 0.45, CentreX = 0.25, CentreY = 0.25 });
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
                Assert.Equal(((byte)200, (byte)40, (byte)40), Pixel(cropped, x, y));
        }
    }

    [Fact]
    public void BrightnessScalesEveryPixelAndContrastStretchesAboutTheMean()
    {
        var grey = Enumerable.Repeat((byte)100, Size * Size * 3).ToArray();
        Assert.All(Apply(grey, AugmentParameters.Identity with { Brightness = 1.2 }), v => Assert.Equal(120, v));

        var halves = Gradient();
        var stretched = Apply(halves, AugmentParameters.Identity with { Contrast = 1.2 });
        var spread = (byte[] image) => image.Where((_, i) => i % 3 == 0).Max() - image.Where((_, i) => i % 3 == 0).Min();
        Assert.True(spread(stretched) > spread(halves), "more contrast widens the range of values");
    }

    [Fact]
    public void ZeroSaturationTurnsColoursGrey()
    {
        var image = Apply(Gradient(), AugmentParameters.Identity with { Saturation = 0 });
        for (var i = 0; i < image.Length; i += 3)
        {
            Assert.InRange(image[i] - image[i + 1], -1, 1);
            Assert.InRange(image[i + 1] - image[i + 2], -1, 1);
        }
    }

    [Fact]
    public void DrawsStayWithinTheirOptions()
    {
        var options = new AugmentOptions { MinCropArea = 0.6, MaxRotationDegrees = 12, ColorJitter = 0.3 };
        var random = new Random(7);
        var draws = Enumerable.Range(0, 500).Select(_ => AugmentParameters.Draw(options, random)).ToList();
        Assert.All(draws, d =>
        {
            Assert.InRange(d.RotationDegrees, -12, 12);
            Assert.InRange(d.Brightness, 0.7, 1.3);
            Assert.InRange(d.Contrast, 0.7, 1.3);
            Assert.InRange(d.Saturation, 0.7, 1.3);
            Assert.InRange(d.CropWidth, 0, 1);
            Assert.InRange(d.CropHeight, 0, 1);
            Assert.InRange(d.CentreX - (d.CropWidth / 2), -1e-9, 1);
            Assert.InRange(d.CentreX + (d.CropWidth / 2), 0, 1 + 1e-9);
        });
        Assert.InRange(draws.Count(d => d.Flip), 200, 300);
        Assert.Contains(draws, d => d.CropWidth * d.CropHeight < 0.8);
    }
}

/// <summary>Augmentation inside a real fit: shapes, value range and labels survive, and the network still learns.</summary>
[Collection(TorchTraining.Name)]
public sealed class AugmentedTrainingTests
{
    [Fact]
    public async Task AugmentedBatchesKeepShapeAndRangeAndTheLabelsStillLearnable()
    {
        TorchRuntime.EnsureInitialized();
        // Dark images are class 0, bright ones class 1: colour jitter of 20% cannot turn one into the other.
        var random = new Random(3);
        var images = new List<DecodedImage>();
        var labels = new List<int>();
        for (var i = 0; i < 40; i++)
        {
            var label = i % 2;
            var rgb = new byte[16 * 16 * 3];
            for (var p = 0; p < rgb.Length; p++)
                rgb[p] = (byte)((label == 0 ? 30 : 200) + random.Next(0, 40));
            images.Add(new DecodedImage(rgb, 16, ImageFormat.Png, 16, 16));
            labels.Add(label);
        }
        var set = ImageSet.FromDecoded(["dark", "bright"], images, labels, [.. labels.Select((_, i) => $"{i}")], 16);

        using var batch = Augmented(set, [0, 1, 2, 3]);
        Assert.Equal(new long[] { 4, 3, 16, 16 }, batch.shape);
        Assert.True(batch.min().item<float>() >= 0 && batch.max().item<float>() <= 1);
        using var plain = ImageBatches.Inputs(set, [0, 1, 2, 3], CPU);
        Assert.False(plain.allclose(batch), "augmented batches differ from the originals");

        using var model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 1));
        var history = await new Trainer(CPU).FitAsync(model, set, set, new FitOptions { Epochs = 30, BatchSize = 8, LearningRate = 0.1, Augmentation = AugmentOptions.Standard });

        Assert.True(history.Last!.ValAccuracy == 1.0, string.Join("; ", history.Epochs.Select(e => $"{e.Loss:0.000}/{e.ValLoss:0.000}/{e.ValAccuracy:0.00}")));
        Assert.True(history.Last.Loss < history.Epochs[0].Loss, "the loss falls with augmentation on");
    }

    [Fact]
    public void EachViewOfATwoViewImageIsAugmentedOnItsOwnAndABlackViewStaysBlack()
    {
        TorchRuntime.EnsureInitialized();
        // Top view black (no face), bottom view a gradient: augmenting must not bleed one into the other.
        var rgb = new byte[2 * 16 * 16 * 3];
        for (var p = 16 * 16 * 3; p < rgb.Length; p++)
            rgb[p] = (byte)(40 + (p % 150));
        var image = new DecodedImage(rgb, 16, ImageFormat.Png, 16, 32) { Views = 2 };
        var set = ImageSet.FromDecoded(["happy", "sad"], [image, image], [0, 1], ["a", "b"], 16);

        using var batch = Augmented(set, [0, 1]);

        Assert.Equal(new long[] { 2, 3, 32, 16 }, batch.shape);
        using var top = batch.narrow(2, 0, 16);
        using var bottom = batch.narrow(2, 16, 16);
        Assert.Equal(0f, top.abs().max().item<float>());
        Assert.True(bottom.min().item<float>() > 0.05f, "the photo view keeps its content");
        using var plain = ImageBatches.Inputs(set, [0, 1], CPU);
        Assert.Equal(new long[] { 2, 3, 32, 16 }, plain.shape);
        Assert.False(plain.allclose(batch), "the photo view is augmented");
    }

    /// <summary>
    /// The face view of a photo without a face where hands are raised is black but for its white last
    /// row (the mark the raised-hands model reads): augmenting keeps it exactly, where a crop or a turn
    /// would move the row into the picture and make it read as a face.
    /// </summary>
    [Fact]
    public void TheRaisedHandsMarkOfAPhotoWithoutAFaceIsNotAugmented()
    {
        TorchRuntime.EnsureInitialized();
        var rgb = new byte[2 * 16 * 16 * 3];
        rgb.AsSpan(15 * 16 * 3, 16 * 3).Fill(255);
        for (var p = 16 * 16 * 3; p < rgb.Length; p++)
            rgb[p] = (byte)(40 + (p % 150));
        var image = new DecodedImage(rgb, 16, ImageFormat.Png, 16, 32) { Views = 2, Found = new(RaisedHands: true) };
        var set = ImageSet.FromDecoded(["happy", "sad"], [image, image, image, image], [0, 1, 0, 1], ["a", "b", "c", "d"], 16);

        using var batch = Augmented(set, [0, 1, 2, 3]);

        using var plain = ImageBatches.Inputs(set, [0, 1, 2, 3], CPU);
        Assert.True(plain.narrow(2, 0, 16).allclose(batch.narrow(2, 0, 16), rtol: 0, atol: 0), "the marked face view is unchanged");
        Assert.False(plain.narrow(2, 16, 16).allclose(batch.narrow(2, 16, 16)), "the photo view is augmented");
    }

    /// <summary>The training loader's augmented batch of <paramref name="indices"/>, as the network gets it.</summary>
    static Tensor Augmented(ImageSet set, int[] indices)
    {
        var chunk = BatchLoader.Assemble(set, indices, indices.Length, AugmentOptions.Standard, new Random(1)).Chunks.Single();
        return ImageBatches.FromBytes(chunk.Pixels, chunk.Count, set.Size, CPU, set.Views);
    }
}
