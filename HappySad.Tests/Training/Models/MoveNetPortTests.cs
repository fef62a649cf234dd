using System.Text.Json;
using HappySad.Training.Faces;
using HappySad.Training.Models.Human;
using HappySad.Training.Native;
using HappySad.Training.Pretrained;
using SkiaSharp;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Models;

/// <summary>
/// The TorchSharp port of <c>human-models</c>' MoveNet MultiPose against the graph model run by
/// TensorFlow.js (WebAssembly backend): <c>Reference/movenet-reference.json</c>, made by
/// <c>tools/face-api-reference/movenet.mjs</c>, holds its six heads' raw outputs (a sample of each,
/// every channel covered) and its decoded people for three synthetic inputs, and its people in
/// face-api's six sample photos. Outputs must match within 1e-4, as every port's do, except where
/// a head's values are large (<see cref="AssertClose"/>).
/// </summary>
public sealed class MoveNetPortTests
{
    const double Tolerance = 1e-4;
    static readonly JsonElement Reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Reference", "movenet-reference.json"))).RootElement;
    static readonly Lazy<MoveNetMultiPose> Net = new(() => MoveNetMultiPose.FromPretrained(TfjsWeights.Load(HumanModelsPackage.MoveNetModel())));

    /// <summary>Loads the network outside any test's dispose scope, which would otherwise take its weights with it.</summary>
    public MoveNetPortTests()
    {
        TorchRuntime.EnsureInitialized();
        _ = Net.Value;
    }

    public static TheoryData<string> Inputs => ["ramp", "waves", "checker"];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void HeadsMatchTheJavaScriptOriginal(string input)
    {
        var expected = Reference.GetProperty("inputs").GetProperty(input);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = FaceApiPortTests.Pixels(input, MoveNetMultiPose.InputSize).floor();
        Assert.Equal(expected.GetProperty("pixel_sum").GetDouble(), pixels.to_type(ScalarType.Float64).sum().item<double>());

        var heads = Net.Value.forward(pixels.permute(0, 3, 1, 2));

        Assert.Equal(new long[] { 1, 90, 64, 64 }, heads.shape);
        var channel = 0L;
        foreach (var (name, channels) in MoveNetMultiPose.Heads)
        {
            var head = expected.GetProperty("heads").GetProperty(name);
            var every = head.GetProperty("every").GetInt32();
            var flat = heads.narrow(1, channel, channels).permute(0, 2, 3, 1).flatten();
            var sampled = flat.index_select(0, arange(0, flat.shape[0], every, ScalarType.Int64));
            AssertClose(Numbers(head.GetProperty("values")), Values(sampled), $"{input}: head {name}");
            channel += channels;
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void DecodedPeopleMatchTheJavaScriptOriginal(string input)
    {
        var expected = Numbers(Reference.GetProperty("inputs").GetProperty(input).GetProperty("output"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = FaceApiPortTests.Pixels(input, MoveNetMultiPose.InputSize).floor();

        var people = MoveNetMultiPose.Decode(Net.Value.forward(pixels.permute(0, 3, 1, 2))[0]);

        AssertClose(expected, Flatten(people), $"{input}: decoded people");
    }

    public static TheoryData<string> Samples => [.. FaceApiPackage.SampleNames];

    /// <summary>
    /// Real photos, prepared as the script prepares them (zeros after the shorter side, TensorFlow's
    /// bilinear resize to 256, whole numbers by truncation). The original decoded the JPEG with jpeg-js
    /// and the port with SkiaSharp, whose pixels differ by a level here and there, and a keypoint near
    /// its threshold may then land on another pixel: this asks for the same people (scoring over 0.2),
    /// their scores within 0.03, and their clear keypoints (over 0.5) within 1% of the input with
    /// scores within 0.05.
    /// </summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void FindsThePeopleTheOriginalFindsInThePackagesSamplePhotos(string sample)
    {
        var expected = Reference.GetProperty("samples").GetProperty(sample);
        using var photo = SKBitmap.Decode(FaceApiPackage.Sample(sample));
        Assert.Equal(expected.GetProperty("width").GetInt32(), photo.Width);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // The app's own preparation (RaisedHands), which MoveNetInputIsTensorFlowsResize checks.
        var input = tensor(RaisedHands.MoveNetInput(photo), [1, MoveNetMultiPose.InputSize, MoveNetMultiPose.InputSize, 3]);

        var found = MoveNetMultiPose.Decode(Net.Value.forward(input.permute(0, 3, 1, 2))[0]).Where(p => p.Score > 0.2).ToList();

        var output = Numbers(expected.GetProperty("output"));
        var people = Enumerable.Range(0, MoveNetMultiPose.MaxPeople).Select(i => output.AsSpan(i * 56, 56).ToArray()).Where(p => p[55] > 0.2).ToList();
        Assert.NotEmpty(people);
        Assert.Equal(people.Count, found.Count);
        var (worstPerson, worstPlace, worstScore, clear) = (0.0, 0.0, 0.0, 0);
        foreach (var person in people)
        {
            // The nearest by box: two people of near-equal score may come in the other order.
            var match = found.MinBy(p => Math.Abs(p.Top - person[51]) + Math.Abs(p.Left - person[52]) + Math.Abs(p.Bottom - person[53]) + Math.Abs(p.Right - person[54]))!;
            worstPerson = Math.Max(worstPerson, Math.Abs(match.Score - person[55]));
            for (var k = 0; k < MoveNetMultiPose.KeypointNames.Count; k++)
            {
                var (y, x, score) = (person[3 * k], person[(3 * k) + 1], person[(3 * k) + 2]);
                if (score <= 0.5)
                    continue;
                var point = match.Keypoints[k];
                worstPlace = Math.Max(worstPlace, Math.Max(Math.Abs(point.Y - y), Math.Abs(point.X - x)));
                worstScore = Math.Max(worstScore, Math.Abs(point.Score - score));
                clear++;
            }
        }
        var summary = $"{sample}: {people.Count} people, {clear} clear keypoints; person scores off by up to {worstPerson:0.000}, keypoints by {worstPlace:0.0000} of the input and {worstScore:0.000} in score";
        Assert.True(worstPerson < 0.03 && worstPlace < 0.01 && worstScore < 0.05, summary);
        Assert.True(clear >= people.Count * 5, summary);
    }

    /// <summary>
    /// The app prepares photos for MoveNet (<see cref="RaisedHands.MoveNetInput"/>) as the reference
    /// script does in TensorFlow: padded square, bilinear without half-pixel centres, truncated. The
    /// same numbers as the test's own straightforward version, on photos wider and taller than square,
    /// and on an RGBA part of a larger bitmap (its rows further apart than its width).
    /// </summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void MoveNetInputIsTensorFlowsResize(string sample)
    {
        using var photo = SKBitmap.Decode(FaceApiPackage.Sample(sample));
        using var portrait = new SKBitmap(photo.Height / 3, photo.Width / 3);
        Assert.True(photo.ScalePixels(portrait, new SKSamplingOptions(SKFilterMode.Linear)));
        using var rgba = photo.Copy(SKColorType.Rgba8888);
        using var part = new SKBitmap();
        Assert.True(rgba.ExtractSubset(part, new SKRectI(7, 5, rgba.Width - 9, rgba.Height - 3)));
        Assert.True(part.RowBytes > part.Width * 4);
        using var scope = NewDisposeScope();
        foreach (var image in new[] { photo, portrait, part })
        {
            var expected = FaceApiPortTests.TensorFlowResizePixels(image, MoveNetMultiPose.InputSize).floor().flatten().data<float>().ToArray();

            var actual = RaisedHands.MoveNetInput(image);

            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void KeypointsAreNamedInTheOriginalsOrder() =>
        Assert.Equal(Reference.GetProperty("keypoints").EnumerateArray().Select(e => e.GetString()), MoveNetMultiPose.KeypointNames);

    /// <summary>The people in the graph's output layout: per person 17 (y, x, score), the box, the score.</summary>
    static double[] Flatten(IReadOnlyList<Pose> people) =>
    [
        .. people.SelectMany(p => p.Keypoints.SelectMany(k => new double[] { k.Y, k.X, k.Score })
            .Concat([p.Top, p.Left, p.Bottom, p.Right, p.Score])),
    ];

    static double[] Values(Tensor t) => t.contiguous().to_type(ScalarType.Float64).data<double>().ToArray();

    static double[] Numbers(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetDouble())];

    /// <summary>
    /// Within 1e-4, or 2e-5 of the largest value compared where that is above 5: the heads reach 58,
    /// and float32 sums in another order then differ in the sixth digit (the largest differences seen
    /// were 0.9e-5 of each head's largest value: 5.3e-4 where it is 58.0, 1.6e-4 where it is 23.1).
    /// </summary>
    static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var tolerance = Math.Max(Tolerance, 2e-5 * expected.Max(Math.Abs));
        var worst = expected.Select((e, i) => (Difference: Math.Abs(e - actual[i]), Index: i)).MaxBy(d => d.Difference);
        Assert.True(worst.Difference <= tolerance, $"{what}: largest difference from the original is {worst.Difference:E2} at {worst.Index}, {expected[worst.Index]} against {actual[worst.Index]} (tolerance {tolerance:E1})");
    }
}
