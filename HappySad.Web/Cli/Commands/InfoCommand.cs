using HappySad.Training.Native;
using TorchSharp;

namespace HappySad.Web.Cli.Commands;

/// <summary>What this machine offers: the device training would use and how TorchSharp was made to load.</summary>
internal static class InfoCommand
{
    public static async Task<int> RunAsync(CliContext cli, CliArguments args)
    {
        var device = TorchDevices.Resolve(DevicePreference.Auto);
        var document = new
        {
            device = device.type.ToString().ToLowerInvariant(),
            cuda_available = TorchDevices.CudaAvailable,
            torch_threads = torch.get_num_threads(),
            processors = Environment.ProcessorCount,
            libstdcxx = TorchRuntime.Compatibility?.ToString() ?? "not applicable",
            allocator_tuned = TorchRuntime.AllocatorTuned,
        };
        if (args.Flag("json"))
            await cli.WriteJsonAsync(document);
        else
            cli.Output.WriteLine($"device {document.device} (CUDA available: {document.cuda_available}); {document.torch_threads} torch threads on {document.processors} processors; {document.libstdcxx}; allocator tuned: {document.allocator_tuned}");
        return 0;
    }
}
