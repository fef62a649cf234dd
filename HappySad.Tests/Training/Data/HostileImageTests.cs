using System.Diagnostics;
using HappySad.Tests.Support;
using HappySad.Training.Data;

namespace HappySad.Tests.Training.Data;

/// <summary>Images built to hurt the decoder: each gets the answer a person would expect, before memory is spent.</summary>
public class HostileImageTests
{
    [Fact]
    public void AnIntactProgressiveJpegDecodes()
    {
        var image = ImageDecoder.Decode(HostileFiles.ProgressiveJpeg, 64);

        Assert.Equal((ImageFormat.Jpeg, 64, 64), (image.Format, image.SourceWidth, image.SourceHeight));
    }

    [Fact]
    public void ATruncatedProgressiveJpegIsRefusedAsTruncated()
    {
        var jpeg = HostileFiles.ProgressiveJpeg;

        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(jpeg.AsSpan(0, jpeg.Length * 2 / 3), 64));

        Assert.Equal(RejectionKind.Truncated, e.Kind);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AJpegOfMoreScansThanEncodersWriteIsRefusedBeforeItIsDecoded()
    {
        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(HostileFiles.ProgressiveJpegOfScans(JpegStructure.MaxScans + 1), 64));

        Assert.Equal(RejectionKind.Unsupported, e.Kind);
        Assert.Contains($"more than {JpegStructure.MaxScans} scans", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AJpegOfAsManyScansAsTheLimitIsNotRefusedForThem()
    {
        var jpeg = HostileFiles.ProgressiveJpegOfScans(JpegStructure.MaxScans);

        Assert.Equal(JpegStructure.MaxScans, Enumerable.Range(0, jpeg.Length - 1).Count(i => jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA));
        Assert.Null(JpegStructure.Refusal(jpeg));
        Assert.Null(JpegStructure.Refusal(HostileFiles.ProgressiveJpeg));
    }

    [Fact]
    public void AJpegWhoseHeaderClaims6000SquareOver100SquareDataIsRefusedAsTruncated()
    {
        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(HostileFiles.JpegClaiming(6000, 6000)));

        Assert.Equal(RejectionKind.Truncated, e.Kind);
    }

    [Theory]
    [InlineData("jpeg")]
    [InlineData("png")]
    [InlineData("webp")]
    public void HeadersClaimingTooManyPixelsAreRefusedWithoutDecoding(string format)
    {
        var bomb = format switch
        {
            "jpeg" => HostileFiles.JpegClaiming(60_000, 60_000),
            "png" => HostileFiles.PngBomb(9000, 9000),
            _ => HostileFiles.WebPClaiming(16_000, 16_000),
        };
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(bomb));

        Assert.Equal(RejectionKind.TooLarge, e.Kind);
        Assert.Contains("megapixel limit", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000, "refused before any pixel buffer was allocated");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void AGifFrameLargerThanTheBudgetIsRefusedThoughItsScreenIsSmall()
    {
        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(HostileFiles.Gif(100, 100, 7000, 7000)));

        Assert.Equal(RejectionKind.TooLarge, e.Kind);
    }

    [Fact]
    public void AGifScreenLargerThanTheBudgetIsRefusedThoughItsFrameIsSmall()
    {
        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(HostileFiles.Gif(7000, 7000, 64, 64)));

        Assert.Equal(RejectionKind.TooLarge, e.Kind);
        Assert.Contains("7000x7000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHandWrittenGifWithinBudgetDecodes()
    {
        var image = ImageDecoder.Decode(HostileFiles.Gif(64, 64, 64, 64), 32);

        Assert.Equal((ImageFormat.Gif, 64, 64), (image.Format, image.SourceWidth, image.SourceHeight));
    }

    [Fact]
    public void ThumbnailsAreRefusedForBombsToo()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, HostileFiles.Gif(100, 100, 7000, 7000));

            var e = Assert.Throws<ImageRejectedException>(() => Thumbnails.Jpeg(file));

            Assert.Equal(RejectionKind.TooLarge, e.Kind);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ADecodeWaitsForAPermitWhileTheGateIsFull()
    {
        // A gate of its own (permit counts are shared process-wide), held here so the decode must queue.
        var limits = new ImageLimits { Gate = DecodeGate.For(97) };
        var held = Enumerable.Range(0, 97).Select(_ => limits.Gate.Enter()).ToList();
        var decode = Task.Run(() => ImageDecoder.Decode(HostileFiles.PngBomb(400, 400), 32, limits));

        var finishedWhileFull = await Task.WhenAny(decode, Task.Delay(TimeSpan.FromMilliseconds(500))) == decode;
        held[0].Dispose();
        var image = await decode;
        held.Skip(1).ToList().ForEach(p => p.Dispose());

        Assert.False(finishedWhileFull, "the decode ran while every permit was taken");
        Assert.Equal(400, image.SourceWidth);
        Assert.Same(limits.Gate, DecodeGate.For(97));
    }
}
