using System.Diagnostics;
using HappySad.Training.Data;
using SkiaSharp;

namespace HappySad.Web.Cli.Commands;

/// <summary>What <see cref="ScalePhotos.Generate"/> wrote: good photos per format, and the broken files among them.</summary>
internal sealed record ScaleGeneration(int Files, int Photos, int Broken, IReadOnlyDictionary<string, int> Formats, double Seconds);

/// <summary>
/// A large class-folder data set made from a few hundred seed photos, for <c>bench --scale</c>: each
/// photo is a seed photo cropped, maybe mirrored, recoloured and resized at random, encoded as JPEG,
/// PNG or WebP, so its bytes are its own while near-duplicate detection may still group it with its
/// siblings, as happens with real collections. A few files are broken the ways real ones are. The
/// same seed makes the same files, whatever the number of threads.
/// </summary>
internal static class ScalePhotos
{
    /// <summary>Broken files: one in 500, and at least one of each kind.</summary>
    public static int BrokenCount(int files) => Math.Max(BrokenKinds, files / 500);

    const int BrokenKinds = 3;

    public static ScaleGeneration Generate(string seedFolder, string target, int files, int seed, int maxSide, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var folder = ImageFolder.Open(seedFolder);
        // Seeds in file order, classes in proportion: photo i is a variant of seed i mod seeds.Count.
        var seeds = folder.Files.Where(f => Decodable(f.Path)).ToList();
        if (seeds.Count == 0)
            throw new DataSetException($"{seedFolder} has no photo SkiaSharp can decode");
        var broken = BrokenCount(files);
        var photos = files - broken;
        if (photos < 1)
            throw new UsageException($"--scale must be more than {broken} (the broken files it includes)");
        foreach (var className in folder.ClassNames)
            Directory.CreateDirectory(Path.Combine(target, className));

        var formats = new int[3];
        var done = 0;
        // One seed per task: each seed is decoded once for all its variants.
        Parallel.For(0, Math.Min(seeds.Count, photos), new ParallelOptions { CancellationToken = cancellationToken }, s =>
        {
            using var source = DecodeForSide(seeds[s].Path, maxSide);
            using var image = SKImage.FromBitmap(source);
            var className = folder.ClassNames[seeds[s].Label];
            var stem = Path.GetFileNameWithoutExtension(seeds[s].Path);
            stem = stem[..Math.Min(stem.Length, 40)];
            for (var i = s; i < photos; i += seeds.Count)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var random = new Random(HashCode.Combine(seed, i));
                var format = (i % 10) switch { < 6 => SKEncodedImageFormat.Jpeg, < 8 => SKEncodedImageFormat.Png, _ => SKEncodedImageFormat.Webp };
                var bytes = Variant(image, random, maxSide, format);
                File.WriteAllBytes(Path.Combine(target, className, $"{i:D6}-{stem}{Extension(format)}"), bytes);
                Interlocked.Increment(ref formats[format switch { SKEncodedImageFormat.Jpeg => 0, SKEncodedImageFormat.Png => 1, _ => 2 }]);
                progress?.Report(Interlocked.Increment(ref done));
            }
        });

        for (var b = 0; b < broken; b++)
        {
            var random = new Random(HashCode.Combine(seed, -1 - b));
            var className = folder.ClassNames[b % folder.ClassNames.Count];
            var (name, bytes) = (b % BrokenKinds) switch
            {
                0 => ($"broken-{b:D4}-truncated.jpg", Truncated(seeds[b % seeds.Count].Path, random, maxSide)),
                1 => ($"broken-{b:D4}-noise.jpg", RandomBytes(random)),
                _ => ($"broken-{b:D4}-notes.png", "These are notes, not a photo.\n"u8.ToArray()),
            };
            File.WriteAllBytes(Path.Combine(target, className, name), bytes);
        }
        return new ScaleGeneration(files, photos, broken,
            new Dictionary<string, int> { ["jpeg"] = formats[0], ["png"] = formats[1], ["webp"] = formats[2] },
            Math.Round(clock.Elapsed.TotalSeconds, 2));
    }

    /// <summary>A random crop (60 to 100% of each side), maybe mirrored, brightness and saturation changed, at a random size.</summary>
    static byte[] Variant(SKImage source, Random random, int maxSide, SKEncodedImageFormat format)
    {
        var cropWidth = source.Width * (0.6f + 0.4f * random.NextSingle());
        var cropHeight = source.Height * (0.6f + 0.4f * random.NextSingle());
        var left = (source.Width - cropWidth) * random.NextSingle();
        var top = (source.Height - cropHeight) * random.NextSingle();
        var longest = random.Next(Math.Min(200, maxSide), maxSide + 1);
        var scale = longest / Math.Max(cropWidth, cropHeight);
        var width = Math.Max(1, (int)Math.Round(cropWidth * scale));
        var height = Math.Max(1, (int)Math.Round(cropHeight * scale));

        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { ColorFilter = Recolour(0.8f + 0.4f * random.NextSingle(), 0.6f + 0.8f * random.NextSingle()) })
        {
            if (random.Next(2) == 0)
                canvas.Scale(-1, 1, width / 2f, 0);
            canvas.DrawImage(source, SKRect.Create(left, top, cropWidth, cropHeight), SKRect.Create(width, height), new SKSamplingOptions(SKFilterMode.Linear), paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(format, random.Next(70, 96));
        return encoded.ToArray();
    }

    /// <summary>Scales every channel by <paramref name="brightness"/> and moves colours towards or away from grey by <paramref name="saturation"/>.</summary>
    static SKColorFilter Recolour(float brightness, float saturation)
    {
        var (r, g, b) = ((1 - saturation) * 0.2126f, (1 - saturation) * 0.7152f, (1 - saturation) * 0.0722f);
        return SKColorFilter.CreateColorMatrix(
        [
            brightness * (r + saturation), brightness * g, brightness * b, 0, 0,
            brightness * r, brightness * (g + saturation), brightness * b, 0, 0,
            brightness * r, brightness * g, brightness * (b + saturation), 0, 0,
            0, 0, 0, 1, 0,
        ]);
    }

    /// <summary>A JPEG of the seed cut off part way through its pixel data, as an interrupted download leaves it.</summary>
    static byte[] Truncated(string seedPath, Random random, int maxSide)
    {
        using var source = DecodeForSide(seedPath, maxSide);
        using var image = SKImage.FromBitmap(source);
        var whole = Variant(image, random, maxSide, SKEncodedImageFormat.Jpeg);
        return whole[..(whole.Length * 6 / 10)];
    }

    static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[4096];
        random.NextBytes(bytes);
        return bytes;
    }

    static bool Decodable(string path)
    {
        using var codec = SKCodec.Create(path);
        return codec is not null;
    }

    /// <summary>The seed decoded no larger than needed: JPEG's scaled decoding down to about <paramref name="maxSide"/>.</summary>
    static SKBitmap DecodeForSide(string path, int maxSide)
    {
        using var codec = SKCodec.Create(path) ?? throw new DataSetException($"{path} cannot be decoded");
        var scale = Math.Min(1f, (float)maxSide / Math.Max(codec.Info.Width, codec.Info.Height));
        var size = codec.GetScaledDimensions(scale);
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        return SKBitmap.Decode(codec, info) ?? throw new DataSetException($"{path} cannot be decoded");
    }

    static string Extension(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => ".jpg",
        SKEncodedImageFormat.Png => ".png",
        _ => ".webp",
    };
}
