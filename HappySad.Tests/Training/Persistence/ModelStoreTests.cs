using System.IO.Compression;
using HappySad.Tests.Support;
using HappySad.Training.Data;
using HappySad.Training.Faces;
using HappySad.Training.Models;
using HappySad.Training.Persistence;
using HappySad.Training.Prediction;
using HappySad.Training.Training;
using SkiaSharp;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Persistence;

public class ModelStoreTests
{
    static readonly ModelCard Card = new() { Architecture = SeedCnn.ArchitectureName, ClassNames = ["happy", "sad"], Parameters = 3_696_625 };

    [Fact]
    public void LoadedModelPredictsExactlyWhatTheSavedOneDid()
    {
        using var temp = new TempDirectory();
        var path = temp.File("model.hsmodel");
        using var original = new ImageClassifier(ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 3), Card, CPU);
        var photos = Directory.EnumerateFiles(Path.Combine(SharedPhotos.Root, "sad")).Order(StringComparer.Ordinal).Take(4).ToList();

        ModelStore.Save(path, original.Module, original.Card);
        using var loaded = ModelStore.Load(path, CPU);

        Assert.Equal(Card.ClassNames, loaded.Card.ClassNames);
        Assert.Equal(3_696_625, loaded.Card.Parameters);
        foreach (var photo in photos)
            Assert.Equal(original.Predict(photo).ClassProbabilities["sad"], loaded.Predict(photo).ClassProbabilities["sad"]);
    }

    [Fact]
    public void CardIsReadableJsonInsideTheFile()
    {
        using var temp = new TempDirectory();
        var path = temp.File("model.hsmodel");
        using var model = ModelArchitectures.Create(SeedCnn.ArchitectureName);

        ModelStore.Save(path, model, Card with { Metrics = new ModelMetrics { TestAccuracy = 0.84 } });

        using var zip = ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.GetEntry("model-card.json")!.Open());
        var json = reader.ReadToEnd();
        Assert.Contains("\"architecture\": \"seed-cnn\"", json, StringComparison.Ordinal);
        Assert.Contains("\"test_accuracy\": 0.84", json, StringComparison.Ordinal);
        Assert.Contains("\"input_size\": 256", json, StringComparison.Ordinal);
        Assert.Equal(0.84, ModelStore.ReadCard(path).Metrics!.TestAccuracy);
    }

    [Fact]
    public void CardsSpellCropsDetectorsAndSchedulesAsTheApiDoes()
    {
        using var temp = new TempDirectory();
        var path = temp.File("model.hsmodel");
        using (var model = ModelArchitectures.Create(FaceAndWholeClassifier.ArchitectureName, pretrained: false))
        {
            ModelStore.Save(path, model, Card with
            {
                Architecture = FaceAndWholeClassifier.ArchitectureName,
                Preprocessing = new Preprocessing { InputSize = 112, Crop = CropMode.FaceAndWhole, FaceDetection = FaceDetection.Default },
                Training = new TrainingSettings { Schedule = LearningRateSchedule.Cosine },
            });
        }

        var json = ReadCardJson(path);
        Assert.Contains($"\"format_version\": {ModelCard.CurrentFormatVersion}", json, StringComparison.Ordinal);
        Assert.Contains("\"crop\": \"face-and-whole\"", json, StringComparison.Ordinal);
        Assert.Contains("\"detector\": \"ssd-mobilenet-v1\"", json, StringComparison.Ordinal);
        Assert.Contains("\"schedule\": \"cosine\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void AFormatOneCardWithSnakeCaseValuesStillLoads()
    {
        using var temp = new TempDirectory();
        var path = temp.File("old.hsmodel");
        using (var model = ModelArchitectures.Create(FaceAndWholeClassifier.ArchitectureName, pretrained: false))
            ModelStore.Save(path, model, Card with { Architecture = FaceAndWholeClassifier.ArchitectureName });
        // As format 1 wrote it.
        ReplaceCardJson(path, """
            {
              "format_version": 1,
              "architecture": "face-and-whole",
              "class_names": ["happy", "sad"],
              "parameters": 264,
              "preprocessing": {
                "input_size": 112,
                "crop": "face_and_whole",
                "face_margin": 0.25,
                "face_detection": { "detector": "tiny_face_detector", "tiny_first_min_score": 0, "min_score": 0.5, "extra_passes": false }
              },
              "training": { "epochs": 3, "schedule": "cosine" }
            }
            """);

        using var loaded = ModelStore.Load(path, CPU);

        Assert.Equal(1, loaded.Card.FormatVersion);
        Assert.Equal(CropMode.FaceAndWhole, loaded.Card.Preprocessing.Crop);
        Assert.Equal(FaceDetectorKind.TinyFaceDetector, loaded.Card.Preprocessing.FaceDetection!.Detector);
        Assert.Equal(LearningRateSchedule.Cosine, loaded.Card.Training!.Schedule);
    }

    static string ReadCardJson(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.GetEntry("model-card.json")!.Open());
        return reader.ReadToEnd();
    }

    static void ReplaceCardJson(string path, string json)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        zip.GetEntry("model-card.json")!.Delete();
        using var writer = new StreamWriter(zip.CreateEntry("model-card.json").Open());
        writer.Write(json);
    }

    [Fact]
    public void RefusesFilesThatAreNotModels()
    {
        using var temp = new TempDirectory();
        var notZip = temp.File("photo.hsmodel");
        File.WriteAllBytes(notZip, TestImages.Solid(40, 40, SKColors.Red));
        var future = temp.File("future.hsmodel");
        using (var model = ModelArchitectures.Create(SeedCnn.ArchitectureName))
            ModelStore.Save(future, model, Card with { FormatVersion = ModelCard.CurrentFormatVersion + 1 });

        Assert.Contains("not a HappySad model", Assert.Throws<ModelFormatException>(() => ModelStore.Load(notZip)).Message, StringComparison.Ordinal);
        Assert.Contains("model format", Assert.Throws<ModelFormatException>(() => ModelStore.Load(future)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ModelFormatException>(() => ModelStore.Load(temp.File("missing.hsmodel"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictionNamesTheClassAboveTheThresholdAsTheSecondClass()
    {
        using var classifier = new ImageClassifier(ModelArchitectures.Create(SeedCnn.ArchitectureName, seed: 2), Card, CPU);
        var image = ImageDecoder.Decode(TestImages.Solid(64, 64, SKColors.Gray));

        var p = classifier.Predict(image).ClassProbabilities["sad"];

        Assert.Equal("sad", classifier.Predict(image, threshold: p - 1e-6).Label);
        Assert.Equal("happy", classifier.Predict(image, threshold: p + 1e-6).Label);
        Assert.Equal(1.0, classifier.Predict(image).ClassProbabilities.Values.Sum(), 9);
    }
}
