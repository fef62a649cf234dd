using HappySad.Training.Data;
using HappySad.Web.Runs;

namespace HappySad.Tests.Web.Runs;

/// <summary>How a failed run's reason reads to every signed-in user: one line, and no path on the server.</summary>
public sealed class RunErrorsTests
{
    [Theory]
    [InlineData("Could not find file '/srv/happysad/runs/3/training.checkpoint'.", "FileNotFoundException: Could not find file '…/training.checkpoint'.")]
    [InlineData("Could not find file 'C:\\data\\runs\\3\\model.hsmodel'.", "FileNotFoundException: Could not find file '…/model.hsmodel'.")]
    [InlineData("/home/ops/.cache/happysad/weights/face.bin and /var/lib/x/y are gone", "FileNotFoundException: …/face.bin and …/y are gone")]
    [InlineData("epoch 3/20 of batch 1/2, and/or /tmp", "FileNotFoundException: epoch 3/20 of batch 1/2, and/or /tmp")]
    public void APathOnTheServerIsCutToItsFileName(string message, string described) =>
        Assert.Equal(described, RunErrors.Describe(new FileNotFoundException(message)));

    [Fact]
    public void OurOwnMessagesReadAsTheyAreCapitalised() =>
        Assert.Equal("The data set has no photos of class sad in data/7", RunErrors.Describe(new DataSetException("the data set has no photos of class sad in data/7")));
}
