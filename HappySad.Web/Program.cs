using System.Diagnostics;
using HappySad.Training.Data;
using HappySad.Training.Models;
using HappySad.Training.Native;
using HappySad.Training.Training;
using TorchSharp;

TorchRuntime.EnsureInitialized();
Console.WriteLine($"threads {torch.get_num_threads()} interop {torch.get_num_interop_threads()}");
var folder = ImageFolder.Open("../shared/datasets/happy-sad");
var sw = Stopwatch.StartNew();
var load = folder.Load();
Console.WriteLine($"decode {folder.Files.Count} in {sw.Elapsed.TotalSeconds:F2}s = {folder.Files.Count / sw.Elapsed.TotalSeconds:F0}/s; rejected {load.Rejected.Count}, mislabeled {load.Mislabeled.Count}");
foreach (var r in load.Rejected) Console.WriteLine($"  {r.Path}: {r.Reason}");
Console.WriteLine(ModelSummary.Of(new SeedCnn()));
// matmul
using (var a = torch.rand(2048, 2048)) using (var b = torch.rand(2048, 2048)) {
  torch.mm(a, b).Dispose();
  sw.Restart(); int n = 10; for (int i = 0; i < n; i++) torch.mm(a, b).Dispose();
  Console.WriteLine($"matmul {2.0 * 2048 * 2048 * 2048 * n / sw.Elapsed.TotalSeconds / 1e9:F1} GFLOP/s");
}
var model = ModelArchitectures.Create("seed-cnn", 1);
var trainer = new Trainer(torch.CPU);
var opts = new FitOptions { Epochs = 2 };
var h = await trainer.FitAsync(model, load.Images, null, opts, [new LambdaCallback(e => Console.WriteLine($"{e} -> {load.Images.Count / e.Seconds:F1} img/s"))]);
Console.WriteLine($"peak {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
