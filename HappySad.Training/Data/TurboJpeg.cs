using System.Runtime.InteropServices;
using SkiaSharp;

namespace HappySad.Training.Data;

/// <summary>
/// Decodes baseline and progressive YCbCr or grey JPEGs with the system's libjpeg-turbo
/// (<c>libturbojpeg.so.0</c>, Debian's <c>libturbojpeg0</c>) when it is installed: libjpeg-turbo
/// like the decoder Skia bundles, with the SIMD kernels Skia's build lacks.
/// </summary>
/// <remarks>
/// <para>
/// Skia bundles libjpeg-turbo 3.1 compiled without its SIMD code (the profile shows the C versions
/// of the inverse DCT and the colour conversion), and the face models decode their working image at
/// full size: 5 ms for a 1-megapixel photo, against about 2 with SIMD. For well-formed files the
/// accurate integer inverse DCT and the smooth upsampling give the same pixels to the bit in both;
/// <c>TurboJpegTests</c> checks that on every seed JPEG. Corrupt data that libjpeg decodes without
/// a warning (coefficients out of range) can come out differently, which is why
/// <see cref="PixelCache"/> keys its caches by <see cref="Decoder"/>.
/// </para>
/// <para>
/// Anything else is left to Skia, which then decides as before: no library (another system, or the
/// package not installed), CMYK and YCCK JPEGs, layouts TurboJPEG 2.1 cannot name, a scaled size
/// the caller did not expect, and every error or warning (such a file is accepted or refused by
/// Skia alone). <c>HAPPYSAD_JPEG_DECODER=skia</c> turns it off, for comparisons.
/// </para>
/// </remarks>
public static unsafe class TurboJpeg
{
    const string SwitchVariable = "HAPPYSAD_JPEG_DECODER";

    // turbojpeg.h (libjpeg-turbo 2.x): pixel formats, JPEG colour spaces and flags.
    const int PixelFormatRgba = 7;
    const int ColorspaceYCbCr = 1;
    const int ColorspaceGray = 2;
    const int AccurateDct = 4096;
    const int StopOnWarning = 8192;
    const int LimitScans = 32768;

    static readonly Lazy<Api?> Library = new(Load);

    /// <summary>Whether JPEGs are decoded here (the library was found and not switched off).</summary>
    public static bool Available => Library.Value is not null;

    /// <summary>What decodes JPEGs in this process, for <c>info</c> and <c>bench</c>: <c>libjpeg-turbo</c> or <c>skia</c>.</summary>
    public static string Decoder => Available ? "libjpeg-turbo" : "skia";

    /// <summary>
    /// Decodes <paramref name="jpeg"/> into <paramref name="bitmap"/> (RGBA8888, scaled by the eighth
    /// that gives its size exactly). False, with the bitmap's pixels undefined, when Skia should decode it.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> jpeg, SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (Library.Value is not { } api || bitmap.ColorType != SKColorType.Rgba8888 || jpeg.IsEmpty)
            return false;

        var handle = api.InitDecompress();
        if (handle == 0)
            return false;
        try
        {
            fixed (byte* source = jpeg)
            {
                int width, height, subsampling, colorspace;
                if (api.DecompressHeader3(handle, source, (nuint)jpeg.Length, &width, &height, &subsampling, &colorspace) != 0
                    || colorspace is not (ColorspaceYCbCr or ColorspaceGray)
                    || !IsEighthOf(bitmap.Width, bitmap.Height, width, height))
                    return false;
                return api.Decompress2(handle, source, (nuint)jpeg.Length, (byte*)bitmap.GetPixels(), bitmap.Width, bitmap.RowBytes, bitmap.Height,
                    PixelFormatRgba, AccurateDct | StopOnWarning | LimitScans) == 0;
            }
        }
        finally
        {
            api.Destroy(handle);
        }
    }

    /// <summary>
    /// Whether <paramref name="width"/>x<paramref name="height"/> is the full size scaled by some
    /// eighth (libjpeg rounds up), one size per eighth: the library picks the largest factor that
    /// fits the size it is given, so any other size would be decoded at a factor nobody asked for.
    /// </summary>
    static bool IsEighthOf(int width, int height, int fullWidth, int fullHeight)
    {
        // Under 8 pixels a side, two eighths can give the same size from different pixels.
        if (fullWidth < 8 || fullHeight < 8)
            return false;
        for (var eighths = 1; eighths <= 8; eighths++)
            if (width == ((fullWidth * eighths) + 7) / 8 && height == ((fullHeight * eighths) + 7) / 8)
                return true;
        return false;
    }

    static Api? Load()
    {
        if (string.Equals(Environment.GetEnvironmentVariable(SwitchVariable), "skia", StringComparison.OrdinalIgnoreCase)
            || !OperatingSystem.IsLinux()
            || !NativeLibrary.TryLoad("libturbojpeg.so.0", out var library))
            return null;
        if (!NativeLibrary.TryGetExport(library, "tjInitDecompress", out var init)
            || !NativeLibrary.TryGetExport(library, "tjDecompressHeader3", out var header)
            || !NativeLibrary.TryGetExport(library, "tjDecompress2", out var decompress)
            || !NativeLibrary.TryGetExport(library, "tjDestroy", out var destroy))
        {
            NativeLibrary.Free(library);
            return null;
        }
        return new Api(
            (delegate* unmanaged<nint>)init,
            (delegate* unmanaged<nint, byte*, nuint, int*, int*, int*, int*, int>)header,
            (delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int>)decompress,
            (delegate* unmanaged<nint, int>)destroy);
    }

    /// <summary>The four TurboJPEG calls we make (<c>unsigned long</c> sizes are 64-bit on Linux x64).</summary>
    sealed class Api(
        delegate* unmanaged<nint> init,
        delegate* unmanaged<nint, byte*, nuint, int*, int*, int*, int*, int> header,
        delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int> decompress,
        delegate* unmanaged<nint, int> destroy)
    {
        public nint InitDecompress() => init();

        public int DecompressHeader3(nint handle, byte* jpeg, nuint size, int* width, int* height, int* subsampling, int* colorspace) =>
            header(handle, jpeg, size, width, height, subsampling, colorspace);

        public int Decompress2(nint handle, byte* jpeg, nuint size, byte* pixels, int width, int pitch, int height, int pixelFormat, int flags) =>
            decompress(handle, jpeg, size, pixels, width, pitch, height, pixelFormat, flags);

        public void Destroy(nint handle) => destroy(handle);
    }
}
