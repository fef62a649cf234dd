using System.Text.Json;
using HappySad.Training.Models.FaceApi;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using static TorchSharp.torch;

namespace HappySad.Tests.Models;

/// <summary>
/// The TorchSharp ports of face-api's networks against the original JavaScript running on
/// TensorFlow.js's WebAssembly backend: <c>Reference/face-api-reference.json</c> holds its outputs for
/// three fixed synthetic inputs (made by <c>tools/face-api-reference/reference.mjs</c>), and the port
/// must match every number within 1e-4.
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

    /// <summary>The reference script's inputs, rebuilt from the same formulas: NHWC values 0..255, then NCHW 0..1 for the port.</summary>
    static Tensor Synthetic(string name, int size)
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
        return tensor(data, [1, size, size, 3]).permute(0, 3, 1, 2).div(255f);
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
