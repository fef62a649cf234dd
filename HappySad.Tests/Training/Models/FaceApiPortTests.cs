using System.Text.Json;
using HappySad.Training.Faces;
using HappySad.Training.Models.FaceApi;
using HappySad.Training.Models.Human;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Models;

/// <summary>
/// The TorchSharp ports of face-api's networks against the original JavaScript running on
/// TensorFlow.js's WebAssembly backend: <c>Reference/face-api-reference.json</c> holds its outputs for
/// three fixed synthetic inputs (made by <c>tools/face-api-reference/reference.mjs</c>), and the port
/// must match every number within 1e-4. The SSD detector is also run end to end on the package's
/// six sample photos, where it must find the faces the original finds. <c>human-models</c>' emotion
/// network is held to the same: the graph model run by tfjs on its own input and on a face crop
/// prepared as <c>human</c> prepares one.
/// </summary>
public sealed class FaceApiPortTests
{
    const double Tolerance = 1e-4;
    static readonly JsonElement Reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "face-api-reference.json"))).RootElement;

    public static TheoryData<string> Inputs => ["ramp", "waves", "checker"];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void ExpressionNetworkMatchesTheJavaScriptOriginal(string input)
    {
        TorchRuntime.EnsureInitialized();
        using var net = FaceExpressionNet.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.FaceExpression)));
        var expected = Reference.GetProperty("inputs").GetProperty(input).GetProperty("expression");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = Synthetic(input, FaceFeatureExtractor.InputSize);

        var features = net.Extractor.forward(pixels);
        var logits = net.forward(pixels);
        var probabilities = logits.softmax(1);

        AssertClose(Numbers(expected.GetProperty("features")), features, "features");
        AssertClose(Numbers(expected.GetProperty("logits")), logits, "logits");
        AssertClose(Numbers(expected.GetProperty("probabilities")), probabilities, "probabilities");
        Assert.Equal(Reference.GetProperty("expression_order").EnumerateArray().Select(e => e.GetString()), FaceExpressionNet.Expressions);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void TinyFaceDetectorMatchesTheJavaScriptOriginal(string input)
    {
        TorchRuntime.EnsureInitialized();
        using var net = TinyFaceDetectorNet.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.TinyFaceDetector)));
        var expected = Reference.GetProperty("inputs").GetProperty(input).GetProperty("detector");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var grid = net.forward(Synthetic(input, 416)).permute(0, 2, 3, 1);

        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), grid.shape);
        AssertClose(Numbers(expected.GetProperty("raw")), grid, "raw grid");
    }

    /// <summary>The tiny detector pools by taking the maximum of four strided quarters; every value must be libtorch's ceil-mode pooling's.</summary>
    [Theory]
    [InlineData(8, 8, false)]
    [InlineData(207, 207, true)]
    [InlineData(7, 10, true)]
    [InlineData(10, 7, false)]
    public void TheTinyDetectorsPoolingGivesExactlyCeilModeMaxPooling(int height, int width, bool channelsLast)
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        manual_seed(height * width);
        var input = channelsLast ? randn(2, 16, height, width).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : randn(2, 16, height, width);

        var pooled = TinyFaceDetectorNet.Pool(input);

        var expected = nn.functional.max_pool2d(input, 2, 2, ceil_mode: true);
        Assert.Equal(expected.shape, pooled.shape);
        Assert.Equal(expected.contiguous().data<float>().ToArray(), pooled.contiguous().data<float>().ToArray());
    }

    /// <summary>
    /// The tiny detector applies its leaky ReLU after pooling instead of before: a monotonic function
    /// commutes with the maximum, so every value must be the same as the other way round.
    /// </summary>
    [Theory]
    [InlineData(8, 8)]
    [InlineData(207, 207)]
    [InlineData(7, 10)]
    public void TheTinyDetectorsActivationAfterPoolingGivesTheValuesOfTheActivationBefore(int height, int width)
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        manual_seed(height + width);
        var input = randn(1, 16, height, width).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

        var after = TinyFaceDetectorNet.Leaky(TinyFaceDetectorNet.Pool(input));

        var before = TinyFaceDetectorNet.Pool(TinyFaceDetectorNet.Leaky(input.clone()));
        Assert.Equal(before.contiguous().data<float>().ToArray(), after.contiguous().data<float>().ToArray());
        Assert.True(after.lt(Scalars.Of(0)).any().item<bool>(), "no negative value survived: the activation was not tested on any");
    }

    /// <summary>
    /// The detectors turn their scaled bytes into floats in C#, shifted as the tiny detector's network
    /// would shift them: every byte in each channel must give libtorch's own value to the bit, in the
    /// same channels-last memory.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheDetectorsInputIsLibtorchsConversionOfEveryByteToTheBit(bool centred)
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();
        // 16x16 pixels: each channel holds every byte once, in a different order.
        var pixels = new byte[16 * 16 * 3];
        for (var i = 0; i < 256; i++)
            (pixels[i * 3], pixels[(i * 3) + 1], pixels[(i * 3) + 2]) = ((byte)i, (byte)(255 - i), (byte)((i * 7) % 256));
        float[] offsets = centred ? TinyFaceDetectorNet.Mean.ToArray() : [0f, 0f, 0f];

        var ours = FaceDetector.ChannelsLastInput(pixels, 16, offsets);

        var libtorch = tensor(pixels, [1, 16, 16, 3], ScalarType.Byte).permute(0, 3, 1, 2).to_type(ScalarType.Float32).div_(Scalars.Of(255));
        if (centred)
            libtorch = libtorch.sub(tensor(offsets, [1, 3, 1, 1]));
        Assert.Equal(libtorch.stride(), ours.stride());
        Assert.Equal(
            libtorch.contiguous().data<float>().ToArray().Select(BitConverter.SingleToInt32Bits),
            ours.contiguous().data<float>().ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void SsdMobilenetDetectorMatchesTheJavaScriptOriginal(string input)
    {
        TorchRuntime.EnsureInitialized();
        using var net = SsdMobilenetV1Net.FromPretrained(TfjsWeights.Load(FaceApiPackage.Manifest(FaceApiPackage.SsdMobilenetV1)));
        var expected = Reference.GetProperty("inputs").GetProperty(input).GetProperty("ssd");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var (boxes, scores) = net.forward(Synthetic(input, SsdMobilenetV1Net.InputSize));

        Assert.Equal(expected.GetProperty("anchor_count").GetInt32(), (int)scores.shape[1]);
        var anchors = arange(0, SsdMobilenetV1Net.AnchorCount, expected.GetProperty("anchor_stride").GetInt64());
        AssertClose(Numbers(expected.GetProperty("boxes")), boxes[0].index_select(0, anchors), "decoded boxes");
        AssertClose(Numbers(expected.GetProperty("scores")), scores[0].index_select(0, anchors), "face scores");
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void EmotionNetworkMatchesTheJavaScriptOriginal(string input)
    {
        TorchRuntime.EnsureInitialized();
        using var net = EmotionNet.FromPretrained(TfjsWeights.Load(HumanModelsPackage.EmotionModel()));
        var expected = Reference.GetProperty("inputs").GetProperty(input).GetProperty("emotion");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var logits = net.forward(SyntheticGrey(input, EmotionNet.InputSize));
        var fromCrop = net.ReadFace(Synthetic(input, FaceFeatureExtractor.InputSize));

        AssertClose(Numbers(expected.GetProperty("logits")), logits, "logits");
        AssertClose(Numbers(expected.GetProperty("probabilities")), logits.softmax(1), "probabilities");
        AssertClose(Numbers(expected.GetProperty("face_crop_logits")), fromCrop, "logits of a prepared face crop");
        Assert.Equal(Reference.GetProperty("emotion_order").EnumerateArray().Select(e => e.GetString()), EmotionNet.Emotions);
    }

    public static TheoryData<string> Samples => [.. FaceApiPackage.SampleNames];

    /// <summary>
    /// The detection on a real photo, prepared as face-api prepares it (zeros appended to make it
    /// square, TensorFlow's bilinear resize to 512), through the port's network and post-processing.
    /// The original decoded the JPEG with jpeg-js and the port with SkiaSharp, whose pixels may differ
    /// by a level: boxes must agree within 0.5% of the photo and scores within 0.02.
    /// </summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void SsdDetectorFindsTheFacesTheOriginalFindsInThePackagesSamplePhotos(string sample)
    {
        var expected = Reference.GetProperty("samples").GetProperty(sample);
        using var photo = SKBitmap.Decode(FaceApiPackage.Sample(sample));
        Assert.Equal(expected.GetProperty("width").GetInt32(), photo.Width);
        var detector = FaceDetector.Shared(FaceDetectorKind.SsdMobilenetV1);
        using var scope = NewDisposeScope();
        var side = Math.Max(photo.Width, photo.Height);
        var scale = (double)SsdMobilenetV1Net.InputSize / side;

        var found = detector.Detect(
            TensorFlowResize(photo, SsdMobilenetV1Net.InputSize),
            expected.GetProperty("min_confidence").GetDouble(),
            SsdMobilenetV1Net.InputSize / Math.Round(photo.Width * scale),
            SsdMobilenetV1Net.InputSize / Math.Round(photo.Height * scale));

        var faces = expected.GetProperty("faces").EnumerateArray().Select(f => new FaceBox(
            f.GetProperty("x").GetDouble(), f.GetProperty("y").GetDouble(), f.GetProperty("width").GetDouble(), f.GetProperty("height").GetDouble(), f.GetProperty("score").GetDouble())).ToList();
        Assert.Equal(faces.Count, found.Count);
        foreach (var face in faces)
        {
            var match = found.MaxBy(f => f.IntersectionOverUnion(face))!;
            var worst = new[] { match.X - face.X, match.Y - face.Y, match.Right - face.Right, match.Bottom - face.Bottom }.Max(Math.Abs);
            Assert.True(worst < 0.005, $"{sample}: a face at ({face.X:0.000}, {face.Y:0.000}) is off by {worst:0.0000} of the photo");
            Assert.True(Math.Abs(match.Score - face.Score) < 0.02, $"{sample}: a face scored {match.Score:0.000}, the original {face.Score:0.000}");
        }
    }

    /// <summary>
    /// face-api's <c>toBatchTensor(size, false)</c> on an image tensor: zeros appended after the
    /// shorter side, then <c>tf.image.resizeBilinear</c> without corner alignment or half-pixel
    /// centres (source = target x scale). NCHW 0..1.
    /// </summary>
    static Tensor TensorFlowResize(SKBitmap photo, int size) => TensorFlowResizePixels(photo, size).permute(0, 3, 1, 2).div(Byte);

    /// <summary><see cref="TensorFlowResize"/>'s pixels before scaling: NHWC, 0..255 (not rounded).</summary>
    internal static Tensor TensorFlowResizePixels(SKBitmap photo, int size)
    {
        var side = Math.Max(photo.Width, photo.Height);
        var scale = (double)side / size;
        var pixels = photo.Pixels;
        double At(int x, int y, int c)
        {
            if (x >= photo.Width || y >= photo.Height)
                return 0;
            var colour = pixels[(y * photo.Width) + x];
            return c switch { 0 => colour.Red, 1 => colour.Green, _ => colour.Blue };
        }
        var data = new float[size * size * 3];
        for (var y = 0; y < size; y++)
        {
            var sourceY = y * scale;
            var (y0, dy) = ((int)Math.Floor(sourceY), sourceY - Math.Floor(sourceY));
            var y1 = Math.Min(y0 + 1, side - 1);
            for (var x = 0; x < size; x++)
            {
                var sourceX = x * scale;
                var (x0, dx) = ((int)Math.Floor(sourceX), sourceX - Math.Floor(sourceX));
                var x1 = Math.Min(x0 + 1, side - 1);
                for (var c = 0; c < 3; c++)
                {
                    var top = At(x0, y0, c) + ((At(x1, y0, c) - At(x0, y0, c)) * dx);
                    var bottom = At(x0, y1, c) + ((At(x1, y1, c) - At(x0, y1, c)) * dx);
                    data[(((y * size) + x) * 3) + c] = (float)(top + ((bottom - top) * dy));
                }
            }
        }
        return tensor(data, [1, size, size, 3]);
    }

    /// <summary>The reference script's inputs, rebuilt from the same formulas: NHWC values 0..255, then NCHW 0..1 for the port.</summary>
    static Tensor Synthetic(string name, int size) => Pixels(name, size).permute(0, 3, 1, 2).div(Byte);

    /// <summary>The emotion network's own input as the script makes it: the first channel, 0..255 to -1..1.</summary>
    static Tensor SyntheticGrey(string name, int size) => Pixels(name, size).narrow(3, 0, 1).permute(0, 3, 1, 2).div(HalfByte).sub(One);

    static readonly TorchSharp.Scalar Byte = 255f.ToScalar();
    static readonly TorchSharp.Scalar HalfByte = 127.5f.ToScalar();
    static readonly TorchSharp.Scalar One = 1f.ToScalar();

    /// <summary>The reference script's synthetic image <paramref name="name"/>: NHWC float32 values 0..255, as its <c>makeInput</c> stores them.</summary>
    internal static Tensor Pixels(string name, int size)
    {
        Func<int, int, int, double> value = name switch
        {
            "ramp" => (x, y, c) => ((x * 7) + (y * 13) + (c * 29)) % 256,
            "waves" => (x, y, c) => 127.5 + (127.5 * Math.Sin((x * 0.11) + (c * 1.3)) * Math.Cos((y * 0.07) - (c * 0.5))),
            "checker" => (x, y, c) => (((x / 8) + (y / 8)) % 2 == 0 ? 230 : 20) - (c * 10),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        var data = new float[size * size * 3];
        var i = 0;
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                for (var c = 0; c < 3; c++)
                    data[i++] = (float)value(x, y, c);
            }
        }
        return tensor(data, [1, size, size, 3]);
    }

    static double[] Numbers(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetDouble())];

    static void AssertClose(double[] expected, Tensor actual, string what)
    {
        var values = actual.contiguous().to_type(ScalarType.Float64).data<double>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        var worst = expected.Select((e, i) => Math.Abs(e - values[i])).Max();
        Assert.True(worst <= Tolerance, $"{what}: largest difference from face-api is {worst:E2} (tolerance {Tolerance:E0})");
    }
}
