using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Faces;
using SkiaSharp;

namespace HappySad.Tests.Training.Faces;

public sealed class FaceCropTests
{
    /// <summary>A studio portrait from the seed photos: one face, well lit.</summary>
    static string Portrait => Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg");

    [Fact]
    public void FindsTheFaceInAPortraitAndCropsToIt()
    {
        var bytes = File.ReadAllBytes(Portrait);
        var image = new ImagePreparation(112, CropMode.Face).Prepare(bytes);

        var face = Assert.IsType<FaceBox>(image.Found.Face);
        Assert.True(face.Score > 0.8, $"score {face.Score}");
        Assert.InRange(face.Width, 0.05, 0.9);
        Assert.InRange(face.Height, 0.05, 0.9);
        Assert.InRange(face.X, 0, 1 - face.Width);
        Assert.InRange(face.Y, 0, 1 - face.Height);
        Assert.Equal(112, image.Size);
        Assert.NotEqual(ImageDecoder.Decode(bytes, 112).Rgb, image.Rgb);
    }

    [Fact]
    public void FindsTheSameFaceInTheMirroredPhoto()
    {
        var bytes = File.ReadAllBytes(Portrait);
        using var original = SKBitmap.Decode(bytes);
        using var mirrored = new SKBitmap(original.Info);
        using (var canvas = new SKCanvas(mirrored))
        using (var picture = SKImage.FromBitmap(original))
        {
            canvas.Scale(-1, 1, original.Width / 2f, 0);
            canvas.DrawImage(picture, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest));
        }

        var face = FaceDetection.Default.Find(original).MaxBy(f => f.Area)!;
        var mirror = FaceDetection.Default.Find(mirrored).MaxBy(f => f.Area)!;

        Assert.InRange(mirror.X - (1 - face.Right), -0.03, 0.03);
        Assert.InRange(mirror.Y - face.Y, -0.03, 0.03);
        Assert.InRange(mirror.Width / face.Width, 0.9, 1.1);
    }

    /// <summary>
    /// Office workers cheering: the largest face, head thrown back and shouting, is not read as happy;
    /// a smiling colleague behind him is, and that is the face a model now reads.
    /// </summary>
    [Fact]
    public void InAGroupTheHappiestLookingFaceIsReadRatherThanTheLargest()
    {
        var bytes = File.ReadAllBytes(Path.Combine(SharedPhotos.Root, "happy", "170404-happy-workers-feature.jpg"));
        var byLargest = new ImagePreparation(112, CropMode.FaceAndWhole, 0, FaceDetection.Default with { HappiestFace = false }).Prepare(bytes);
        var byHappiest = new ImagePreparation(112, CropMode.FaceAndWhole, 0, FaceDetection.Default).Prepare(bytes);

        var (largest, chosen) = (Assert.IsType<FaceBox>(byLargest.Found.Face), Assert.IsType<FaceBox>(byHappiest.Found.Face));
        Assert.True(chosen.IntersectionOverUnion(largest) < 0.1, $"another face: {chosen} against {largest}");
        Assert.InRange(chosen.Area, largest.Area * HappiestFace.MinAreaShare, largest.Area);
        // The face view is the chosen face's crop; the whole photo's view is the same either way.
        var view = 112 * 112 * 3;
        Assert.NotEqual(byLargest.Rgb[..view], byHappiest.Rgb[..view]);
        Assert.Equal(byLargest.Rgb[view..], byHappiest.Rgb[view..]);

        // Chosen by face-api's expression network: of every candidate, it reads the chosen one as happiest, by far.
        using var source = ImageDecoder.DecodeBitmap(bytes, FaceCrop.WorkingSize, null, SourceUse.FaceWork);
        var candidates = HappiestFace.Candidates(FaceDetection.Default.Find(source.Bitmap));
        var happy = HappiestFace.HappyLogOdds(source.Bitmap, candidates, 0);
        Assert.Equal(largest, candidates[0]);
        var at = Assert.Single(Enumerable.Range(0, candidates.Count), i => candidates[i] == chosen);
        Assert.Equal(happy.Max(), happy[at]);
        Assert.True(happy[at] > happy[0] + 5, $"happy log-odds of each candidate, largest first: {string.Join(", ", happy)}");
    }

    [Fact]
    public void FallsBackToTheWholeImageWhenThereIsNoFace()
    {
        var bytes = TestImages.Quadrants(300);
        var image = new ImagePreparation(112, CropMode.Face).Prepare(bytes);

        Assert.Null(image.Found.Face);
        Assert.Equal(ImageDecoder.Decode(bytes, 112).Rgb, image.Rgb);
    }

    [Fact]
    public void FaceAndWholeStacksTheFaceCropAboveTheWholePhoto()
    {
        var bytes = File.ReadAllBytes(Portrait);
        var image = new ImagePreparation(112, CropMode.FaceAndWhole).Prepare(bytes);
        var faceOnly = new ImagePreparation(112, CropMode.Face).Prepare(bytes);

        Assert.Equal(2, image.Views);
        Assert.Equal(2 * 112 * 112 * 3, image.Rgb.Length);
        Assert.Equal(faceOnly.Found.Face, image.Found.Face);
        Assert.Equal(faceOnly.Rgb, image.Rgb[..(112 * 112 * 3)]);
        // The whole view is resized from the same decode the detector saw (FaceCrop.WorkingSize a side at least).
        using var decoded = ImageDecoder.DecodeBitmap(bytes, FaceCrop.WorkingSize, null, SourceUse.FaceWork);
        Assert.Equal(ImageDecoder.ResizeToRgb(decoded.Bitmap, 112), image.Rgb[(112 * 112 * 3)..]);
    }

    [Fact]
    public void FaceAndWholeLeavesTheFaceViewBlackWhenThereIsNoFace()
    {
        var bytes = TestImages.Quadrants(300);
        var image = new ImagePreparation(112, CropMode.FaceAndWhole).Prepare(bytes);

        Assert.Null(image.Found.Face);
        Assert.All(image.Rgb[..(112 * 112 * 3)], b => Assert.Equal(0, b));
        Assert.Equal(ImageDecoder.Decode(bytes, 112).Rgb, image.Rgb[(112 * 112 * 3)..]);
    }

    [Fact]
    public void CropPadsATallFaceToASquareWithBlackSides()
    {
        // A 200x200 white image with a red 40x80 block: crop exactly the block.
        using var bitmap = RedBlockOnWhite();

        var rgb = FaceCrop.Crop(bitmap, new FaceBox(0.4, 0.3, 0.2, 0.4, 1), 64, margin: 0);

        (byte, byte, byte) At(int x, int y) => Pixel(rgb, 64, x, y);
        Assert.Equal(((byte)0, (byte)0, (byte)0), At(2, 32));
        Assert.Equal(((byte)0, (byte)0, (byte)0), At(61, 32));
        Assert.Equal(((byte)255, (byte)0, (byte)0), At(32, 2));
        Assert.Equal(((byte)255, (byte)0, (byte)0), At(32, 61));
    }

    [Fact]
    public void AMarginWidensTheCropByAShareOfTheBoxOnEachSide()
    {
        // The same red 40x80 block: a margin of 0.25 reaches 10 px past it on the left and right and 20 px above and below.
        using var bitmap = RedBlockOnWhite();

        var rgb = FaceCrop.Crop(bitmap, new FaceBox(0.4, 0.3, 0.2, 0.4, 1), 64, margin: 0.25);

        // 60x120 px of the photo in 32x64: black padding at x < 16 and x >= 48, white around the block, the block in the middle.
        (byte, byte, byte) At(int x, int y) => Pixel(rgb, 64, x, y);
        (byte, byte, byte) black = (0, 0, 0), white = (255, 255, 255), redPixel = (255, 0, 0);
        Assert.Equal(black, At(8, 32));
        Assert.Equal(white, At(17, 32));
        Assert.Equal(redPixel, At(32, 32));
        Assert.Equal(white, At(46, 32));
        Assert.Equal(black, At(56, 32));
        Assert.Equal(white, At(32, 3));
        Assert.Equal(redPixel, At(32, 14));
        Assert.Equal(redPixel, At(32, 49));
        Assert.Equal(white, At(32, 60));
    }

    /// <summary>A 200x200 white image with a red 40x80 block at (80, 60): the box (0.4, 0.3, 0.2, 0.4) exactly.</summary>
    static SKBitmap RedBlockOnWhite()
    {
        var bitmap = new SKBitmap(new SKImageInfo(200, 200, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(SKColors.White);
        using (var canvas = new SKCanvas(bitmap))
        using (var red = new SKPaint { Color = SKColors.Red })
            canvas.DrawRect(SKRect.Create(80, 60, 40, 80), red);
        return bitmap;
    }

    /// <summary>The RGB of pixel (<paramref name="x"/>, <paramref name="y"/>) of a square HWC crop.</summary>
    static (byte, byte, byte) Pixel(byte[] rgb, int size, int x, int y)
    {
        var at = ((y * size) + x) * 3;
        return (rgb[at], rgb[at + 1], rgb[at + 2]);
    }

    [Fact]
    public void SuppressesOverlappingBoxesKeepingTheMostConfident()
    {
        // Two anchors in one cell fire on nearly the same box; a third cell fires far away.
        var grid = new float[2 * 2 * 25];
        Array.Fill(grid, -10f);
        void Cell(int row, int col, int anchor, float score)
        {
            var at = (((row * 2) + col) * 25) + (anchor * 5);
            (grid[at], grid[at + 1], grid[at + 2], grid[at + 3], grid[at + 4]) = (0, 0, -1.5f, -1.5f, score);
        }
        Cell(0, 0, 3, 3);
        Cell(0, 0, 2, 1);
        Cell(1, 1, 0, 2);

        var boxes = FaceDetector.Suppress(TinyFaceDetector.Decode(grid, 2, 1, 1, 0.5), 0.4);

        Assert.Equal(2, boxes.Count);
        Assert.True(boxes[0].Score > boxes[1].Score);
        Assert.InRange(boxes[0].X + (boxes[0].Width / 2), 0.24, 0.26);
        Assert.InRange(boxes[1].X + (boxes[1].Width / 2), 0.74, 0.76);
    }
}
