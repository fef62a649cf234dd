using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Evaluation;

namespace HappySad.Tests.Training.Evaluation;

public sealed class PretrainedBaselineTests
{
    [Fact]
    public void TheUntrainedExpressionNetworkCallsTheSmilingPortraitHappyAndSkipsPhotosWithoutAFace()
    {
        using var temp = new TempDirectory();
        File.Copy(Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg"), temp.File("happy/portrait.jpg"));
        File.WriteAllBytes(temp.File("happy/pattern.png"), TestImages.Quadrants(300));
        File.WriteAllBytes(temp.File("sad/pattern.png"), TestImages.Quadrants(200));

        var load = ImageFolder.Open(temp.Path).Load(new ImagePreparation(112, CropMode.FaceAndWhole));
        var metrics = PretrainedBaseline.Evaluate(load.Images, load.Found);

        Assert.Equal(1, load.FacesFound);
        Assert.NotNull(metrics);
        Assert.Equal(1, metrics.Count);
        Assert.Equal(1, metrics.TrueNegatives); // happy (class 0) called happy
    }

    [Fact]
    public void OtherClassesHaveNoBaseline()
    {
        using var temp = new TempDirectory();
        File.Copy(Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg"), temp.File("cats/portrait.jpg"));
        File.WriteAllBytes(temp.File("dogs/pattern.png"), TestImages.Quadrants(300));

        var load = ImageFolder.Open(temp.Path).Load(new ImagePreparation(112, CropMode.Face));

        Assert.Equal(1, load.FacesFound);
        Assert.Null(PretrainedBaseline.Evaluate(load.Images, load.Found));
    }
}
