namespace HappySad.Training.Data;

/// <summary>
/// Random changes applied to training images each time they are used, so a small data set looks
/// larger: a horizontal flip, a random resized crop, a small rotation and colour jitter. Labels never
/// change; validation, test and prediction images are never augmented.
/// </summary>
public sealed record AugmentOptions
{
    /// <summary>Light settings that keep a face recognisable: what <c>--augment</c> turns on.</summary>
    public static AugmentOptions Standard { get; } = new();

    public bool Flip { get; init; } = true;

    /// <summary>The smallest share of the image's area a random crop keeps (1 turns cropping off).</summary>
    public double MinCropArea { get; init; } = 0.75;

    public double MaxRotationDegrees { get; init; } = 10;

    /// <summary>Brightness, contrast and saturation each vary by up to this fraction (0 turns jitter off).</summary>
    public double ColorJitter { get; init; } = 0.2;

    public void Validate()
    {
        if (MinCropArea is <= 0 or > 1 || double.IsNaN(MinCropArea))
            throw new ArgumentException($"the smallest crop area must be above 0 and at most 1 (got {MinCropArea})");
        if (MaxRotationDegrees is < 0 or > 45 || double.IsNaN(MaxRotationDegrees))
            throw new ArgumentException($"rotation must be between 0 and 45 degrees (got {MaxRotationDegrees})");
        if (ColorJitter is < 0 or >= 1 || double.IsNaN(ColorJitter))
            throw new ArgumentException($"colour jitter must be at least 0 and below 1 (got {ColorJitter})");
    }
}

/// <summary>One draw of the random changes: enough to replay an augmentation exactly.</summary>
public sealed record AugmentParameters(
    bool Flip,
    double CropWidth,
    double CropHeight,
    double CentreX,
    double CentreY,
    double RotationDegrees,
    double Brightness,
    double Contrast,
    double Saturation)
{
    /// <summary>Changes nothing: the output equals the input pixel for pixel.</summary>
    public static AugmentParameters Identity { get; } = new(false, 1, 1, 0.5, 0.5, 0, 1, 1, 1);

    /// <summary>Crop sides and centre are fractions of the image side; factors of 1 leave colours alone.</summary>
    public static AugmentParameters Draw(AugmentOptions options, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        var area = options.MinCropArea + (random.NextDouble() * (1 - options.MinCropArea));
        // Aspect ratio between 3:4 and 4:3 drawn in log space, as torchvision's RandomResizedCrop does.
        var aspect = Math.Exp(Math.Log(3.0 / 4) + (random.NextDouble() * Math.Log(16.0 / 9)));
        var width = Math.Min(1, Math.Sqrt(area * aspect));
        var height = Math.Min(1, Math.Sqrt(area / aspect));
        double Factor() => 1 + (((random.NextDouble() * 2) - 1) * options.ColorJitter);
        return new AugmentParameters(
            options.Flip && random.NextDouble() < 0.5,
            width,
            height,
            (width / 2) + (random.NextDouble() * (1 - width)),
            (height / 2) + (random.NextDouble() * (1 - height)),
            ((random.NextDouble() * 2) - 1) * options.MaxRotationDegrees,
            Factor(),
            Factor(),
            Factor());
    }
}

/// <summary>Applies <see cref="AugmentParameters"/> to HWC RGB bytes: one geometric resampling (bilinear, edges repeated), then colour.</summary>
public static class Augmenter
{
    public static void Apply(ReadOnlySpan<byte> source, Span<byte> target, int size, AugmentParameters p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (source.Length != size * size * 3 || target.Length != source.Length)
            throw new ArgumentException($"images must be {size}x{size} RGB ({size * size * 3} bytes)");

        var angle = p.RotationDegrees * Math.PI / 180;
        var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
        for (var y = 0; y < size; y++)
        {
            // Output pixel centres in -0.5..0.5, mirrored for a flip, rotated about the crop's centre.
            var v = ((y + 0.5) / size) - 0.5;
            for (var x = 0; x < size; x++)
            {
                var u = ((x + 0.5) / size) - 0.5;
                if (p.Flip)
                    u = -u;
                var sourceX = (((p.CentreX + (((u * cos) - (v * sin)) * p.CropWidth)) * size) - 0.5);
                var sourceY = (((p.CentreY + (((u * sin) + (v * cos)) * p.CropHeight)) * size) - 0.5);
                Sample(source, size, sourceX, sourceY, target.Slice(((y * size) + x) * 3, 3));
            }
        }
        Colour(target, p);
    }

    static void Sample(ReadOnlySpan<byte> source, int size, double x, double y, Span<byte> pixel)
    {
        x = Math.Clamp(x, 0, size - 1);
        y = Math.Clamp(y, 0, size - 1);
        var (x0, y0) = ((int)x, (int)y);
        var (x1, y1) = (Math.Min(x0 + 1, size - 1), Math.Min(y0 + 1, size - 1));
        var (fx, fy) = (x - x0, y - y0);
        for (var c = 0; c < 3; c++)
        {
            var top = (source[(((y0 * size) + x0) * 3) + c] * (1 - fx)) + (source[(((y0 * size) + x1) * 3) + c] * fx);
            var bottom = (source[(((y1 * size) + x0) * 3) + c] * (1 - fx)) + (source[(((y1 * size) + x1) * 3) + c] * fx);
            pixel[c] = (byte)Math.Clamp(Math.Round((top * (1 - fy)) + (bottom * fy)), 0, 255);
        }
    }

    /// <summary>Brightness scales, contrast stretches about the image's mean grey, saturation blends with each pixel's grey.</summary>
    static void Colour(Span<byte> image, AugmentParameters p)
    {
        if (p.Brightness == 1 && p.Contrast == 1 && p.Saturation == 1)
            return;
        double meanGrey = 0;
        for (var i = 0; i < image.Length; i += 3)
            meanGrey += Grey(image[i], image[i + 1], image[i + 2]);
        meanGrey = meanGrey * 3 / image.Length * p.Brightness;
        for (var i = 0; i < image.Length; i += 3)
        {
            var (r, g, b) = (image[i] * p.Brightness, image[i + 1] * p.Brightness, image[i + 2] * p.Brightness);
            (r, g, b) = (meanGrey + ((r - meanGrey) * p.Contrast), meanGrey + ((g - meanGrey) * p.Contrast), meanGrey + ((b - meanGrey) * p.Contrast));
            var grey = Grey(r, g, b);
            image[i] = ToByte(grey + ((r - grey) * p.Saturation));
            image[i + 1] = ToByte(grey + ((g - grey) * p.Saturation));
            image[i + 2] = ToByte(grey + ((b - grey) * p.Saturation));
        }
    }

    static double Grey(double r, double g, double b) => (0.299 * r) + (0.587 * g) + (0.114 * b);

    static byte ToByte(double value) => (byte)Math.Clamp(Math.Round(value), 0, 255);
}
