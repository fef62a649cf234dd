using SkiaSharp;

namespace HappySad.Training.Data;

/// <summary>Why an image file was refused; the <see cref="ImageRejectedException"/>'s message is meant for people.</summary>
public enum RejectionKind
{
    Empty,
    Unsupported,
    Truncated,
    Undecodable,
    TooSmall,
    TooLarge,
    TooManyBytes,

    /// <summary>The file was listed but is gone (moved or deleted while a run was preparing).</summary>
    Missing,

    /// <summary>The file is there but cannot be read: no permission, a directory, a link that loops.</summary>
    Unreadable,
}

public sealed class ImageRejectedException(RejectionKind kind, string message) : Exception(message)
{
    public RejectionKind Kind { get; } = kind;
}

/// <summary>Limits that protect decoding from tiny, huge and hostile files.</summary>
public sealed record ImageLimits
{
    public static readonly ImageLimits Default = new();

    /// <summary>Images smaller than this on either side are refused.</summary>
    public int MinSide { get; init; } = 32;

    /// <summary>Images above this many pixels are refused before any pixel is decoded (decompression bombs).</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>Files above this many bytes are refused before they are read.</summary>
    public long MaxBytes { get; init; } = 25 * 1024 * 1024;

    /// <summary>Bounds how many images decode at once, so concurrent bombs queue rather than multiply memory.</summary>
    public DecodeGate Gate { get; init; } = DecodeGate.Default;
}

/// <summary>
/// An image decoded and resized for the network: <c>Size x Size</c> RGB bytes, row-major (HWC), or
/// <see cref="Views"/> such squares stacked top to bottom (a face crop above the whole photo).
/// <see cref="Found"/> says what a face crop's preparation found: the face, and raised hands.
/// </summary>
public sealed record DecodedImage(byte[] Rgb, int Size, ImageFormat Format, int SourceWidth, int SourceHeight)
{
    /// <summary>What a face crop's preparation found; <see cref="Faces.PhotoFindings.None"/> without one.</summary>
    public Faces.PhotoFindings Found { get; init; } = Faces.PhotoFindings.None;

    /// <summary>How many <c>Size x Size</c> views <see cref="Rgb"/> holds, stacked vertically.</summary>
    public int Views { get; init; } = 1;

    public byte R(int x, int y) => Rgb[((y * Size) + x) * 3];
    public byte G(int x, int y) => Rgb[(((y * Size) + x) * 3) + 1];
    public byte B(int x, int y) => Rgb[(((y * Size) + x) * 3) + 2];
}

/// <summary>
/// Decodes JPEG, PNG, BMP, GIF (first frame) and WebP with SkiaSharp and resizes to a square,
/// ignoring aspect ratio, with bilinear filtering: what Keras's <c>image_dataset_from_directory</c>
/// does for the notebook. Alpha is dropped (not composited), as TensorFlow's 3-channel decode does;
/// grayscale and palette images come out as RGB.
/// </summary>
public static class ImageDecoder
{
    public const int DefaultSize = 256;

    public static DecodedImage Decode(string path, int size = DefaultSize, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        return Decode(ReadFile(path, limits), size, limits);
    }

    /// <summary>
    /// The bytes of the file at <paramref name="path"/>, refused when it is over the byte limit (before
    /// any of it is read) or cannot be
    /// read (no permission, a directory, a link that loops). A file that is not there still throws
    /// <see cref="FileNotFoundException"/>: callers tell a photo that went away from a broken one.
    /// </summary>
    public static byte[] ReadFile(string path, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            using var file = File.OpenRead(path);
            var length = file.Length;
            if (length > limits.MaxBytes)
                throw new ImageRejectedException(RejectionKind.TooManyBytes, $"file is {FormatBytes(length)}, over the {FormatBytes(limits.MaxBytes)} limit");
            var bytes = new byte[length];
            file.ReadExactly(bytes);
            return bytes;
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(path))
        {
            // .NET opens a folder as a file it may not read.
            throw new ImageRejectedException(RejectionKind.Unreadable, "a folder, not a photo: name the photos in it");
        }
        catch (UnauthorizedAccessException)
        {
            throw new ImageRejectedException(RejectionKind.Unreadable, "file cannot be read: permission denied");
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new ImageRejectedException(RejectionKind.Unreadable, "file cannot be read: an I/O error");
        }
    }

    public static DecodedImage Decode(Stream stream, int size = DefaultSize, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= ImageLimits.Default;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + read > limits.MaxBytes)
                throw new ImageRejectedException(RejectionKind.TooManyBytes, $"file is over the {FormatBytes(limits.MaxBytes)} limit");
            buffer.Write(chunk, 0, read);
        }
        return Decode(buffer.ToArray(), size, limits);
    }

    /// <summary>Decodes an encoded image held in memory (a file's bytes, or the filled part of a pooled buffer).</summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> bytes, int size = DefaultSize, ImageLimits? limits = null)
    {
        using var source = DecodeBitmap(bytes, size, limits);
        return new DecodedImage(ResizeToRgb(source.Bitmap, size), size, source.Format, source.Width, source.Height);
    }

    /// <summary>
    /// Checks <paramref name="bytes"/> against the limits and decodes them at the smallest scale that
    /// still covers <paramref name="coverSize"/> on both sides (or full size): the shared first step of
    /// every way an image is prepared.
    /// </summary>
    internal static SourceBitmap DecodeBitmap(ReadOnlySpan<byte> bytes, int coverSize, ImageLimits? limits, SourceUse use = SourceUse.WholePhoto) =>
        DecodeBitmap(bytes, (_, _) => coverSize, limits, use);

    /// <summary>As above, with the size to cover chosen from the image's width and height (read from its header).</summary>
    internal static SourceBitmap DecodeBitmap(ReadOnlySpan<byte> bytes, Func<int, int, int> coverSizeOf, ImageLimits? limits, SourceUse use = SourceUse.WholePhoto)
    {
        limits ??= ImageLimits.Default;
        if (bytes.Length == 0)
            throw new ImageRejectedException(RejectionKind.Empty, "file is empty (0 bytes)");
        if (bytes.Length > limits.MaxBytes)
            throw new ImageRejectedException(RejectionKind.TooManyBytes, $"file is {FormatBytes(bytes.Length)}, over the {FormatBytes(limits.MaxBytes)} limit");

        var format = ImageSniffer.Sniff(bytes[..Math.Min(bytes.Length, ImageSniffer.HeaderLength)]);
        if (!ImageSniffer.IsSupported(format))
            throw new ImageRejectedException(RejectionKind.Unsupported, UnsupportedReason(format));

        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new ImageRejectedException(RejectionKind.Undecodable, $"not a decodable {Describe(format)} (corrupt header)");
        var (width, height) = CheckDimensions(codec, limits);
        if (format == ImageFormat.Jpeg && JpegStructure.Refusal(bytes) is { } refusal)
            throw new ImageRejectedException(refusal.Kind, refusal.Reason);

        // Everything after decoding sees the photo as it is shown: turned as its EXIF orientation says.
        var origin = codec.EncodedOrigin;
        var (shownWidth, shownHeight) = Orientation.SwapsSides(origin) ? (height, width) : (width, height);
        var permit = limits.Gate.Enter();
        try
        {
            var stored = DecodeScaled(codec, bytes, coverSizeOf(shownWidth, shownHeight), format, use);
            var upright = Orientation.Upright(stored, origin);
            // Only read from here on: Skia draws face crops from an immutable bitmap without copying it first.
            upright.SetImmutable();
            return new SourceBitmap(upright, format, shownWidth, shownHeight, permit);
        }
        catch
        {
            permit.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Judges an image by its header alone, before a pixel is allocated: the canvas and the first
    /// frame (a GIF's or WebP's frame may claim more than its logical screen) against the limits.
    /// </summary>
    internal static (int Width, int Height) CheckDimensions(SKCodec codec, ImageLimits limits)
    {
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width < limits.MinSide || height < limits.MinSide)
            throw new ImageRejectedException(RejectionKind.TooSmall, $"image is {width}x{height}, smaller than {limits.MinSide} px a side");
        RejectOverBudget(width, height, "image", limits);
        if (codec.FrameCount > 0 && codec.FrameInfo[0].FrameRect is { Width: > 0, Height: > 0 } frame)
            RejectOverBudget(frame.Width, frame.Height, "first frame", limits);
        return (width, height);
    }

    static void RejectOverBudget(int width, int height, string what, ImageLimits limits)
    {
        var pixels = (long)width * height;
        if (pixels > limits.MaxPixels)
            throw new ImageRejectedException(RejectionKind.TooLarge, $"{what} is {width}x{height} ({pixels / 1_000_000.0:0.#} megapixels), over the {limits.MaxPixels / 1_000_000.0:0.#} megapixel limit");
    }

    static readonly float[] Eighths = [0.125f, 0.25f, 0.375f, 0.5f, 0.625f, 0.75f, 0.875f];
    static readonly float[] Halvings = [0.125f, 0.25f, 0.5f];

    /// <summary>
    /// Decodes at the smallest scale the codec offers (JPEG: any eighth, or only the halvings
    /// for <see cref="SourceUse.FaceWork"/>) that still covers the target on both sides, so a
    /// 12-megapixel photo costs a fraction of a full decode. A whole photo without transparency comes out
    /// marked opaque, which lets <see cref="ResizeToRgb"/> take its fast path. A JPEG goes to
    /// <see cref="TurboJpeg"/> first (the same pixels, faster) and to Skia when it declines.
    /// </summary>
    internal static SKBitmap DecodeScaled(SKCodec codec, ReadOnlySpan<byte> encoded, int size, ImageFormat format, SourceUse use = SourceUse.WholePhoto)
    {
        var full = codec.Info;
        var decodeSize = new SKSizeI(full.Width, full.Height);
        foreach (var scale in use == SourceUse.WholePhoto ? Eighths : Halvings)
        {
            var scaled = codec.GetScaledDimensions(scale);
            if (scaled.Width >= size && scaled.Height >= size && scaled.Width < decodeSize.Width)
            {
                decodeSize = scaled;
                break;
            }
        }

        var alpha = use == SourceUse.WholePhoto && full.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Unpremul;
        var info = new SKImageInfo(decodeSize.Width, decodeSize.Height, SKColorType.Rgba8888, alpha);
        var bitmap = new SKBitmap(info);
        try
        {
            if (format == ImageFormat.Jpeg && TurboJpeg.TryDecode(encoded, bitmap))
                return bitmap;
            // Frame 0 only: an animated GIF or WebP is judged by its first frame.
            var result = codec.GetPixels(info, bitmap.GetPixels(), new SKCodecOptions(0));
            if (result == SKCodecResult.IncompleteInput || result == SKCodecResult.ErrorInInput)
                throw new ImageRejectedException(RejectionKind.Truncated, $"{Describe(format)} data is truncated or corrupt ({result})");
            if (result != SKCodecResult.Success)
                throw new ImageRejectedException(RejectionKind.Undecodable, $"{Describe(format)} could not be decoded ({result})");
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The image resized to <paramref name="size"/> a side as HWC RGB bytes: by
    /// <see cref="BilinearResize"/> when it is opaque (a whole photo), else by Skia's own filter
    /// (<see cref="SkiaBilinear"/>'s copy of it for the face models' unpremultiplied working image).
    /// </summary>
    internal static byte[] ResizeToRgb(SKBitmap source, int size)
    {
        if (source is { ColorType: SKColorType.Rgba8888, AlphaType: SKAlphaType.Opaque })
            return BilinearResize.ToRgb(source.GetPixelSpan(), source.Width, source.Height, source.RowBytes, size);
        var rgb = new byte[size * size * 3];
        if (SkiaBilinear.TryScaleToRgb(source, size, size, rgb, size * 3))
            return rgb;
        using var resized = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        if (source.Width == size && source.Height == size)
            source.CopyTo(resized);
        else if (!source.ScalePixels(resized, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None)))
            throw new ImageRejectedException(RejectionKind.Undecodable, "image could not be resized");

        return ToRgb(resized);
    }

    /// <summary>Drops the alpha channel of an RGBA8888 bitmap: HWC RGB bytes.</summary>
    internal static byte[] ToRgb(SKBitmap resized)
    {
        var rgba = resized.GetPixelSpan();
        var rgb = new byte[resized.Width * resized.Height * 3];
        for (int src = 0, dst = 0; dst < rgb.Length; src += 4, dst += 3)
        {
            rgb[dst] = rgba[src];
            rgb[dst + 1] = rgba[src + 1];
            rgb[dst + 2] = rgba[src + 2];
        }
        return rgb;
    }

    static string UnsupportedReason(ImageFormat format) => format switch
    {
        ImageFormat.Svg => "SVG vector images are not supported (JPEG, PNG, BMP, GIF or WebP only)",
        ImageFormat.Html => "file is an HTML page, not an image",
        ImageFormat.Text => "file is text, not an image",
        _ => "not a supported image (JPEG, PNG, BMP, GIF or WebP)",
    };

    public static string Describe(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Png => "PNG",
        ImageFormat.Bmp => "BMP",
        ImageFormat.Gif => "GIF",
        ImageFormat.WebP => "WebP",
        ImageFormat.Svg => "SVG",
        ImageFormat.Html => "HTML",
        ImageFormat.Text => "text",
        _ => "unknown",
    };

    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1024 * 1024 => $"{bytes / (1024.0 * 1024.0):0.#} MB",
        >= 1024 => $"{bytes / 1024.0:0.#} KB",
        _ => $"{bytes} bytes",
    };
}

/// <summary>What a decoded source bitmap is for, which decides how <see cref="ImageDecoder.DecodeScaled"/> decodes it.</summary>
internal enum SourceUse
{
    /// <summary>
    /// Resized whole to the target: any eighth of the size (a finer step only saves work), and
    /// opaque images marked opaque for <see cref="ImageDecoder.ResizeToRgb"/>'s fast path.
    /// </summary>
    WholePhoto,

    /// <summary>
    /// The face models' working image, searched for faces and cropped: decoded exactly as when
    /// those models were measured (1/8, 1/4, 1/2 or full size; unpremultiplied; Skia's filters).
    /// Finer steps moved boxes of small faces and a face model's probabilities by up to 0.4.
    /// </summary>
    FaceWork,
}

/// <summary>
/// A decoded image at (about) its working resolution, before it is resized for a network. Holds its
/// <see cref="DecodeGate"/> permit for as long as the pixels live.
/// </summary>
internal sealed record SourceBitmap(SKBitmap Bitmap, ImageFormat Format, int Width, int Height, IDisposable Permit) : IDisposable
{
    public void Dispose()
    {
        Bitmap.Dispose();
        Permit.Dispose();
    }
}
