using System.Text.Json;
using HappySad.Tests.Support;
using HappySad.Web.Cli;
using HappySad.Web.Data;
using HappySad.Web.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using SkiaSharp;

namespace HappySad.Tests.Web.Cli;

[Collection(TorchTraining.Name)]
public class CliTests
{
    [Fact]
    public async Task TrainEvaluatePredictRoundTripWithJson()
    {
        using var data = SharedPhotos.Subset(perClass: 12);
        using var temp = new TempDirectory();
        var model = temp.File("m.hsmodel");
        var notAnImage = temp.File("notes.jpg");
        File.WriteAllText(notAnImage, "hello");

        var (trainCode, trainOut, _) = await Run("train", "--data", data.Path, "--epochs", "1", "--out", model, "--json");
        var (evalCode, evalOut, _) = await Run("evaluate", "--model", model, "--data", data.Path, "--json");
        var photo = Directory.EnumerateFiles(Path.Combine(data.Path, "happy")).First();
        var (predictCode, predictOut, _) = await Run("predict", "--model", model, photo, notAnImage, "--json");

        Assert.Equal(0, trainCode);
        using var train = JsonDocument.Parse(trainOut);
        Assert.Equal(1, train.RootElement.GetProperty("epochs").GetArrayLength());
        Assert.True(File.Exists(model));

        Assert.Equal(0, evalCode);
        using var evaluation = JsonDocument.Parse(evalOut);
        foreach (var key in new[] { "accuracy", "precision", "recall", "f1", "balanced_accuracy", "tp", "fp", "tn", "fn" })
            Assert.True(evaluation.RootElement.TryGetProperty(key, out _), $"evaluate --json has {key}");
        Assert.Equal(24, evaluation.RootElement.GetProperty("n").GetInt32());

        Assert.Equal(1, predictCode); // one bad file makes the exit code non-zero, but the good one is answered
        using var predictions = JsonDocument.Parse(predictOut);
        var results = predictions.RootElement.EnumerateArray().ToList();
        Assert.Contains(results[0].GetProperty("label").GetString(), new[] { "happy", "sad" });
        Assert.Equal("whole image", results[0].GetProperty("region").GetString());
        Assert.False(results[0].TryGetProperty("face", out _));
        Assert.Equal("file is text, not an image", results[1].GetProperty("error").GetString());

        // A folder with no usable photo is an error, not metrics of nothing.
        Directory.CreateDirectory(temp.File("empty/happy"));
        File.WriteAllText(temp.File("empty/sad/notes.jpg"), "hello");
        var (emptyCode, emptyOut, emptyError) = await Run("evaluate", "--model", model, "--data", temp.File("empty"), "--json");
        Assert.Equal(1, emptyCode);
        Assert.Empty(emptyOut);
        Assert.Contains("no usable photo", emptyError, StringComparison.Ordinal);
    }

    /// <summary>A class named in any script keeps its name from the folder to the model card and back to the folders evaluate matches.</summary>
    [Fact]
    public async Task ClassNamesInAnyScriptRoundTripThroughTheModelCard()
    {
        using var data = SharedPhotos.Subset(perClass: 12);
        Directory.Move(Path.Combine(data.Path, "happy"), Path.Combine(data.Path, "glücklich"));
        Directory.Move(Path.Combine(data.Path, "sad"), Path.Combine(data.Path, "दुखी"));
        using var temp = new TempDirectory();
        var model = temp.File("m.hsmodel");

        var (trainCode, trainOut, trainError) = await Run("train", "--data", data.Path, "--epochs", "1", "--out", model, "--json");
        var (evalCode, evalOut, evalError) = await Run("evaluate", "--model", model, "--data", data.Path, "--json");

        Assert.True(trainCode == 0, trainError);
        using var train = JsonDocument.Parse(trainOut);
        Assert.Equal(["glücklich", "दुखी"], train.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["glücklich", "दुखी"], HappySad.Training.Persistence.ModelStore.ReadCard(model).ClassNames);
        Assert.True(evalCode == 0, evalError);
        Assert.Equal(24, JsonDocument.Parse(evalOut).RootElement.GetProperty("n").GetInt32());
    }

    /// <summary>A run that kept no photo for testing has no test metrics: null in JSON and said so in text, not zeros.</summary>
    [Fact]
    public async Task TrainWithoutTestPhotosReportsNoTestMetricsRatherThanZeros()
    {
        using var data = SharedPhotos.Subset(perClass: 10);
        using var temp = new TempDirectory();

        var (jsonCode, jsonOut, jsonError) = await Run("train", "--data", data.Path, "--epochs", "1", "--validation", "0", "--test", "0", "--out", temp.File("a.hsmodel"), "--json");
        var (textCode, textOut, textError) = await Run("train", "--data", data.Path, "--epochs", "1", "--validation", "0", "--test", "0", "--out", temp.File("b.hsmodel"));

        Assert.True(jsonCode == 0, jsonError);
        using var document = JsonDocument.Parse(jsonOut);
        Assert.Equal(0, document.RootElement.GetProperty("images").GetProperty("test").GetInt32());
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("test").ValueKind);
        Assert.True(textCode == 0, textError);
        Assert.Contains("Test: no test photos", textOut, StringComparison.Ordinal);
        Assert.DoesNotContain("accuracy 0.000", textOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainPrintsTheNotebooksModelSummaryBeforeTheFirstEpoch()
    {
        using var data = SharedPhotos.Subset(perClass: 10);
        using var temp = new TempDirectory();

        var (code, output, error) = await Run("train", "--data", data.Path, "--epochs", "1", "--out", temp.File("m.hsmodel"));

        Assert.True(code == 0, error);
        Assert.Contains("conv1 (Conv2d)", output, StringComparison.Ordinal);
        Assert.Contains("(None, 16, 254, 254)", output, StringComparison.Ordinal);
        Assert.Contains("Total params: 3,696,625", output, StringComparison.Ordinal);
        Assert.Contains("Trainable params: 3,696,625", output, StringComparison.Ordinal);
        Assert.Contains("Non-trainable params: 0", output, StringComparison.Ordinal);
        Assert.True(output.IndexOf("Total params", StringComparison.Ordinal) < output.IndexOf("Epoch 1/1", StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task TrainWithACacheDecodesThePhotosOnceAndTheNextTrainReusesThem()
    {
        using var data = SharedPhotos.Subset(perClass: 10);
        using var temp = new TempDirectory();
        var cache = Path.Combine(temp.Path, "cache");

        var (code, output, error) = await Run("train", "--data", data.Path, "--epochs", "1", "--cache", cache, "--out", temp.File("a.hsmodel"));
        Assert.True(code == 0, error);
        var file = Assert.Single(Directory.GetFiles(cache));
        Assert.Contains($"Decoded photos cached in {file}", output, StringComparison.Ordinal);
        Assert.Equal(4096 + (20 * 256 * 256 * 3), new FileInfo(file).Length, tolerance: 8_192);

        (code, output, error) = await Run("train", "--data", data.Path, "--epochs", "1", "--seed", "2", "--cache", cache, "--out", temp.File("b.hsmodel"));
        Assert.True(code == 0, error);
        Assert.Contains($"Decoded photos reused from {file}", output, StringComparison.Ordinal);
        Assert.Contains("Epoch 1/1", output, StringComparison.Ordinal);

        (code, _, error) = await Run("train", "--data", data.Path, "--record", "--cache", cache);
        Assert.Equal(2, code);
        Assert.Contains("--cache does not apply with --record", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainWithTheBestPresetRecordsItsPipelineInTheModelCard()
    {
        using var data = SharedPhotos.Subset(perClass: 12);
        // People jumping with their arms up at sunset: no face, raised hands.
        var jumping = Path.Combine(SharedPhotos.Root, "happy", "_happy_jumping_on_beach-40815.jpg");
        File.CreateSymbolicLink(Path.Combine(data.Path, "happy", Path.GetFileName(jumping)), jumping);
        using var temp = new TempDirectory();
        var model = temp.File("best.hsmodel");

        var (code, output, error) = await Run("train", "--data", data.Path, "--preset", "best", "--out", model, "--json");

        Assert.True(code == 0, error);
        using var document = JsonDocument.Parse(output);
        var card = HappySad.Training.Persistence.ModelStore.ReadCard(model);
        Assert.Equal("face-verdict-pair-hands", card.Architecture);
        Assert.Equal(HappySad.Training.Data.CropMode.FaceAndWhole, card.Preprocessing.Crop);
        Assert.Equal(HappySad.Training.Faces.FaceDetection.Default with { RaisedHands = HappySad.Training.Faces.RaisedHands.Default }, card.Preprocessing.FaceDetection);
        Assert.Contains("ssd-mobilenet-v1", card.Preprocessing.FaceDetector, StringComparison.Ordinal);
        Assert.Equal(112, card.Preprocessing.InputSize);
        Assert.Equal("best", card.Training!.Preset);
        Assert.Null(card.Training.Augmentation);
        Assert.Equal(5, card.Training.TrainableParameters);
        Assert.Equal(HappySad.Training.Training.LearningRateSchedule.Cosine, card.Training.Schedule);
        Assert.True(card.Training.EarlyStoppingPatience > 0);
        Assert.Equal(card.Training.EpochsRun, document.RootElement.GetProperty("epochs").GetArrayLength());

        // evaluate --json says how it did where it read a face and where it had none; predict --json what it read.
        var (evalCode, evalOut, evalError) = await Run("evaluate", "--model", model, "--data", data.Path, "--json");
        Assert.True(evalCode == 0, evalError);
        using var evaluation = JsonDocument.Parse(evalOut);
        var byRegion = evaluation.RootElement.GetProperty("by_region");
        Assert.True(byRegion.TryGetProperty("face", out var faces));
        Assert.True(byRegion.TryGetProperty("raised hands (no face found)", out var hands) && hands.GetProperty("n").GetInt32() >= 1, byRegion.ToString());
        Assert.Equal(evaluation.RootElement.GetProperty("n").GetInt32(), byRegion.EnumerateObject().Sum(r => r.Value.GetProperty("n").GetInt32()));
        foreach (var key in new[] { "balanced_accuracy", "tp", "fp", "tn", "fn" })
            Assert.True(faces.TryGetProperty(key, out _), $"by_region.face has {key}");

        var portrait = Path.Combine(SharedPhotos.Root, "happy", "05-12-21-happy-people.jpg");
        var (predictCode, predictOut, predictError) = await Run("predict", "--model", model, portrait, "--json");
        Assert.True(predictCode == 0, predictError);
        using var predictions = JsonDocument.Parse(predictOut);
        var verdict = predictions.RootElement[0];
        Assert.Equal("face", verdict.GetProperty("region").GetString());
        Assert.InRange(verdict.GetProperty("face").GetProperty("width").GetDouble(), 0.05, 0.9);
        Assert.Equal(verdict.GetProperty("probability").GetDouble() < 0.65, verdict.GetProperty("low_confidence").GetBoolean());

        // The jumping photo: no face, and the verdict says the hands were read.
        var (handsCode, handsOut, handsError) = await Run("predict", "--model", model, jumping, "--json");
        Assert.True(handsCode == 0, handsError);
        using var raised = JsonDocument.Parse(handsOut);
        Assert.Equal("raised hands (no face found)", raised.RootElement[0].GetProperty("region").GetString());
        Assert.True(!raised.RootElement[0].TryGetProperty("face", out var none) || none.ValueKind == JsonValueKind.Null, "no face box");
    }

    [Fact]
    public async Task CrossValidationPrintsEveryFoldAndTheMeanAndSpread()
    {
        using var data = SharedPhotos.Subset(perClass: 12);

        var (code, output, error) = await Run("crossval", "--data", data.Path, "--folds", "3", "--epochs", "2", "--model", "compact-cnn", "--augment", "--json");

        Assert.True(code == 0, error);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        var folds = root.GetProperty("folds").EnumerateArray().ToList();
        Assert.Equal(3, folds.Count);
        Assert.Equal(24, folds.Sum(f => f.GetProperty("n").GetInt32()));
        var mean = root.GetProperty("balanced_accuracy").GetProperty("mean").GetDouble();
        Assert.Equal(folds.Average(f => f.GetProperty("balanced_accuracy").GetDouble()), mean, 9);
        Assert.True(root.GetProperty("balanced_accuracy").GetProperty("sd").GetDouble() >= 0);
        Assert.True(root.GetProperty("seconds_per_epoch").GetDouble() > 0);
        Assert.True(root.GetProperty("latency_ms").GetProperty("p50").GetDouble() > 0);
    }

    /// <summary>
    /// With face detection, crossval splits its pooled result by whether the model read a face (one
    /// was found, and not set aside for raised hands over it), and the untrained baseline reads the
    /// same faces.
    /// </summary>
    [Fact]
    public async Task CrossValidationOfTheFaceModelReportsPhotosWithAndWithoutAFace()
    {
        using var data = SharedPhotos.Subset(perClass: 12);

        var (code, output, error) = await Run("crossval", "--data", data.Path, "--folds", "3", "--preset", "best", "--epochs", "3", "--json");

        Assert.True(code == 0, error);
        using var document = JsonDocument.Parse(output);
        var root = document.RootElement;
        var byFace = root.GetProperty("by_face");
        var withFace = byFace.GetProperty("with_face");
        var withoutFace = byFace.GetProperty("without_face");
        var found = root.GetProperty("faces_found").GetInt32();
        Assert.InRange(found, 1, 23);
        var read = withFace.GetProperty("n").GetInt32();
        Assert.InRange(read, 1, found);
        Assert.Equal(24 - read, withoutFace.GetProperty("n").GetInt32());
        // The untrained baseline reads the same faces the model routed to face-api's verdict.
        var baseline = root.GetProperty("pretrained_baseline");
        Assert.Equal(read, baseline.GetProperty("faces").GetInt32());
        Assert.InRange(withFace.GetProperty("balanced_accuracy").GetDouble(), 0, 1);
        Assert.InRange(withoutFace.GetProperty("balanced_accuracy").GetDouble(), 0, 1);
    }

    /// <summary>Labels are matched to photos by name: a file that names none is an error before any detector runs, and names that match no photo are a warning with the counts.</summary>
    [Fact]
    public async Task FacesSaysHowManyNamesOfItsLabelsFileMatchAPhoto()
    {
        using var data = SharedPhotos.Subset(perClass: 1);
        using var temp = new TempDirectory();
        var photo = "happy/" + Path.GetFileName(Directory.EnumerateFiles(Path.Combine(data.Path, "happy")).Single());
        var (none, some) = (temp.File("none.csv"), temp.File("some.csv"));
        File.WriteAllText(none, "file,label,faces,note\nHappy/elsewhere.jpg,face,1,\nsad.jpg,none,0,\n");
        File.WriteAllText(some, $"file,label,faces,note\n{photo},face,1,\nsad.jpg,none,0,\nhappy/gone.jpg,face,1,\n");

        var (noneCode, noneOut, noneError) = await Run("faces", "--data", data.Path, "--labels", none, "--json");
        var (someCode, someOut, someError) = await Run("faces", "--data", data.Path, "--labels", some, "--json");

        Assert.Equal(1, noneCode);
        Assert.Empty(noneOut);
        Assert.Equal($"error: '{none}' names no photo of {data.Path}: none of its 2 names match (e.g. 'Happy/elsewhere.jpg'); name each photo by its path in the data folder, such as '{photo}'", noneError.Trim());
        Assert.True(someCode == 0, someError);
        Assert.Equal($"warning: 2 of the 3 names in '{some}' match no photo of {data.Path} (e.g. 'sad.jpg'); recall and false detections count the 1 that match", someError.Trim());
        using var scores = JsonDocument.Parse(someOut);
        Assert.All(scores.RootElement.EnumerateArray(), s => Assert.Equal(1, s.GetProperty("faces").GetInt32()));
    }

    [Theory]
    [InlineData(2, "train", "--data", "x", "--model", "resnet-1000")]
    [InlineData(2, "train", "--data", "x", "--crop", "sideways")]
    [InlineData(2, "train", "--data", "x", "--crop", "face-and-whole")]
    [InlineData(2, "train", "--data", "x", "--model", "face-and-whole", "--crop", "face")]
    [InlineData(2, "train", "--data", "x", "--preset", "fastest")]
    [InlineData(2, "train", "--data", "x", "--patience", "5", "--validation", "0")]
    [InlineData(2, "crossval", "--data", "x", "--folds", "1")]
    [InlineData(2, "train", "--data")]
    [InlineData(2, "train", "--data", "x", "--epochs", "0")]
    [InlineData(2, "train", "--data", "x", "--lr", "fast")]
    [InlineData(2, "evaluate", "--data", "x")]
    [InlineData(2, "scan", "--data", "x", "--frobnicate")]
    [InlineData(1, "train", "--data", "/no/such/folder")]
    [InlineData(1, "evaluate", "--model", "/no/such.hsmodel", "--data", "x")]
    public async Task BadArgumentsGiveOneLineErrorAndNonZeroExit(int expectedCode, params string[] args)
    {
        var (code, output, error) = await Run(args);

        Assert.Equal(expectedCode, code);
        Assert.Empty(output);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task BenchAgainstAnApiMeasuresOneAndEightClientsInOneJsonDocument()
    {
        using var data = SharedPhotos.Subset(perClass: 1);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var api = builder.Build();
        var requests = 0;
        api.MapPost("/api/models/m/predict", () => { Interlocked.Increment(ref requests); return Results.Ok(); });
        await api.StartAsync();

        var (code, output, _) = await Run("bench", "--api", api.Urls.Single() + "/", "--model", "m", "--token", "t", "--data", data.Path, "--seconds", "1");

        Assert.Equal(0, code);
        var levels = JsonDocument.Parse(output).RootElement.GetProperty("levels").EnumerateArray().ToList();
        Assert.Equal([1, 8], levels.Select(l => l.GetProperty("clients").GetInt32()));
        Assert.All(levels, l => Assert.True(l.GetProperty("requests").GetInt32() > 0 && l.GetProperty("p50_ms").GetDouble() <= l.GetProperty("p95_ms").GetDouble()));
        // Every request sent is either a warm-up (20 one at a time, then up to a level's time at 8 clients) or timed.
        var warmUp = JsonDocument.Parse(output).RootElement.GetProperty("warm_up_requests").GetInt32();
        Assert.True(warmUp > 20, $"{warmUp} warm-up requests");
        Assert.Equal(warmUp + levels.Sum(l => l.GetProperty("requests").GetInt32()), requests);
    }

    [Fact]
    public async Task BenchAgainstAnApiThatRefusesNamesTheRequestThatFailed()
    {
        using var data = SharedPhotos.Subset(perClass: 1);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var api = builder.Build();
        api.MapFallback(() => Results.NotFound());
        await api.StartAsync();
        var address = api.Urls.Single() + "/";

        var (code, output, error) = await Run("bench", "--api", address, "--model", "nope", "--token", "t", "--data", data.Path);

        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Equal($"error: POST {address}api/models/nope/predict failed; is the app running and is 'nope' a model id from GET /api/models?", error.Trim());
    }

    [Fact]
    public void AFailedRecordedRunReadsAsItsStatusAndReason() =>
        Assert.Equal("run 7 interrupted: The app stopped", new RunFailedException(7, RunStatus.Interrupted, "The app stopped").Message);

    [Fact]
    public async Task ScanReportsAndQuarantines()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("data/happy/a.png"), TestImages.Solid(40, 40, SKColors.Yellow));
        File.WriteAllBytes(temp.File("data/sad/b.png"), TestImages.Solid(40, 40, SKColors.Blue));
        File.WriteAllBytes(temp.File("data/sad/broken.jpg"), []);

        var (code, output, _) = await Run("scan", "--data", temp.File("data"), "--quarantine", temp.File("q"));

        Assert.Equal(0, code);
        Assert.Contains("3 files: 2 usable, 1 rejected", output, StringComparison.Ordinal);
        Assert.True(File.Exists(temp.File("q/sad/broken.jpg")));
    }

    /// <summary>A quarantine that cannot move a file stops there, reports where the files it did move went, and leaves the rest in the data set.</summary>
    [Fact]
    public async Task AQuarantineThatStopsPartWayReportsTheFilesItMoved()
    {
        using var temp = new TempDirectory();
        string DataSet(string name)
        {
            File.WriteAllBytes(temp.File($"{name}/happy/a.png"), TestImages.Solid(40, 40, SKColors.Yellow));
            File.WriteAllBytes(temp.File($"{name}/happy/broken.jpg"), []);
            File.WriteAllBytes(temp.File($"{name}/sad/broken.jpg"), []);
            // A file where the quarantine's sad/ folder would go: the second move cannot happen.
            File.WriteAllText(temp.File($"{name}-q/sad"), "in the way");
            return temp.File(name);
        }
        var (json, text) = (DataSet("json"), DataSet("text"));

        var (code, output, error) = await Run("scan", "--data", json, "--quarantine", json + "-q", "--json");
        var (textCode, textOutput, textError) = await Run("scan", "--data", text, "--quarantine", text + "-q");

        Assert.Equal(1, code);
        using var report = JsonDocument.Parse(output);
        var rejected = report.RootElement.GetProperty("rejected").EnumerateArray().ToDictionary(r => r.GetProperty("path").GetString()!);
        Assert.Equal(Path.Combine(json + "-q", "happy", "broken.jpg"), rejected[Path.Combine(json, "happy", "broken.jpg")].GetProperty("moved_to").GetString());
        Assert.False(rejected[Path.Combine(json, "sad", "broken.jpg")].TryGetProperty("moved_to", out _));
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith($"error: could not move {Path.Combine(json, "sad", "broken.jpg")} to the quarantine (", line, StringComparison.Ordinal);
        Assert.EndsWith("it is still in the data set; moved 1 of 2 rejected files before it", line, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(json + "-q", "happy", "broken.jpg")));
        Assert.True(File.Exists(Path.Combine(json, "sad", "broken.jpg")));

        Assert.Equal(1, textCode);
        Assert.Contains($"rejected {Path.Combine(text, "happy", "broken.jpg")}: file is empty (0 bytes) -> moved to {Path.Combine(text + "-q", "happy", "broken.jpg")}", textOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Nothing was moved", textOutput, StringComparison.Ordinal);
        Assert.Contains("moved 1 of 2 rejected files before it", textError, StringComparison.Ordinal);
    }

    /// <summary>Scripts get the users page's list: name, role and lock, and nothing of the credentials.</summary>
    [Fact]
    public async Task UsersListWithJsonGivesEachUsersNameRoleAndLockAndNoCredentials()
    {
        using var data = new TempDirectory();
        await using (var storage = await AppStorage.OpenAsync(data.Path, CancellationToken.None))
        {
            var users = storage.Get<HappySad.Web.Accounts.UserAdministration>();
            await users.CreateAsync("ana", "Admin", "password of ana");
            var bo = await users.CreateAsync("bo", "Viewer", "password of bo");
            await users.SetLockedAsync(bo.Id, locked: true);
        }

        var (code, output, error) = await Run("users", "list", "--data-dir", data.Path, "--json");

        Assert.True(code == 0, error);
        using var document = JsonDocument.Parse(output);
        var listed = document.RootElement.EnumerateArray().ToList();
        Assert.All(listed, u => Assert.Equal(["name", "role", "locked_out"], u.EnumerateObject().Select(p => p.Name)));
        Assert.Equal([("ana", "Admin", false), ("bo", "Viewer", true)],
            listed.Select(u => (u.GetProperty("name").GetString(), u.GetProperty("role").GetString(), u.GetProperty("locked_out").GetBoolean())));
    }

    /// <summary>A worker whose database does not answer says so in one line: the server (never the password) and the option to correct.</summary>
    [Fact]
    public async Task AWorkerThatCannotReachItsDatabaseNamesTheServerAndTheOptionInOneLine()
    {
        using var temp = new TempDirectory();

        var (code, output, error) = await Run("worker", "--data-dir", temp.Path, "--postgres", "Host=127.0.0.1;Port=1;Database=queue;Username=ana;Password=hunter2");

        Assert.Equal(1, code);
        Assert.Empty(output);
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("error: cannot connect to PostgreSQL at 127.0.0.1:1, database queue: ", line, StringComparison.Ordinal);
        Assert.EndsWith("; check --postgres", line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
        Assert.DoesNotContain("transient", line, StringComparison.Ordinal);
    }

    /// <summary>Without --postgres, the setting named is the one the connection string came from, or the ones that would give it.</summary>
    [Fact]
    public async Task AWorkerNamesTheSettingItsDatabaseCameFromOrShouldComeFrom()
    {
        using var content = new TempDirectory();
        var host = new WebApplicationOptions { ContentRootPath = content.Path };

        var (missing, _, missingError) = await Run(host, "worker", "--data-dir", content.File("data"));
        File.WriteAllText(content.File("appsettings.json"), """{ "StorageOptions": { "ConnectionString": "Host=127.0.0.1;Port=1;Password=hunter2" } }""");
        var (unreachable, _, unreachableError) = await Run(host, "worker", "--data-dir", content.File("data"));

        Assert.Equal(2, missing);
        Assert.Equal("error: worker needs the PostgreSQL database the web nodes share: pass --postgres CONNECTION or set ConnectionStrings:HappySad (e.g. the environment variable ConnectionStrings__HappySad)", missingError.Trim());
        Assert.Equal(1, unreachable);
        var line = Assert.Single(unreachableError.Trim().Split('\n'));
        Assert.StartsWith("error: cannot connect to PostgreSQL at 127.0.0.1:1: ", line, StringComparison.Ordinal);
        Assert.EndsWith("; check StorageOptions:ConnectionString (or the environment variable StorageOptions__ConnectionString)", line, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
    }

    static Task<(int Code, string Output, string Error)> Run(params string[] args) => Run(host: null, args);

    static async Task<(int Code, string Output, string Error)> Run(WebApplicationOptions? host, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, output, error, host);
        return (code, output.ToString(), error.ToString());
    }
}
