using System.CommandLine;
using HappySad.Training.Data;
using HappySad.Training.Native;
using TorchSharp;

namespace HappySad.Web.Cli.Commands;

/// <summary>What this machine offers: the device training would use and how TorchSharp was made to load.</summary>
internal static class InfoCommand
{
    public static Command Create(CliContext cli)
    {
        var json = CliOptions.Json();
        var command = new Command("info", "The device training would use, CUDA, torch threads and how libtorch was loaded.") { json };
        command.SetAction((parse, _) => RunAsync(cli, parse.GetValue(json)));
        return command;
    }

    static async Task<int> RunAsync(CliContext cli, bool json)
    {
        var device = TorchDevices.Resolve(DevicePreference.Auto);
        var report = new InfoReport(
            Device: device.type.ToString().ToLowerInvariant(),
            CudaAvailable: TorchDevices.CudaAvailable,
            TorchThreads: torch.get_num_threads(),
            Processors: Environment.ProcessorCount,
            Libstdcxx: TorchRuntime.Compatibility?.ToString() ?? "not applicable",
            AllocatorTuned: TorchRuntime.AllocatorTuned,
            JpegDecoder: TurboJpeg.Decoder);
        if (json)
            await cli.WriteJsonAsync(report);
        else
            cli.Output.WriteLine($"device {report.Device} (CUDA available: {report.CudaAvailable}); {report.TorchThreads} torch threads on {report.Processors} processors; {report.Libstdcxx}; allocator tuned: {report.AllocatorTuned}; JPEG decoder: {report.JpegDecoder}");
        return 0;
    }
}
