using HappySad.Training.Native;
using TorchSharp;

TorchRuntime.EnsureInitialized();
Console.WriteLine(TorchRuntime.Compatibility);
Console.WriteLine(AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES"));
using var t = torch.ones(3, 3);
Console.WriteLine(t.sum().item<float>());
Console.WriteLine(torch.cuda.is_available());
