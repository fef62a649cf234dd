using TorchSharp;

namespace HappySad.Training.Native;

/// <summary>Which device to train or predict on, as a user asks for it.</summary>
public enum DevicePreference
{
    /// <summary>CUDA when a GPU and a CUDA build of libtorch are present, else CPU.</summary>
    Auto,
    Cpu,
    Cuda,
}

public static class TorchDevices
{
    public static bool CudaAvailable
    {
        get
        {
            TorchRuntime.EnsureInitialized();
            return torch.cuda.is_available();
        }
    }

    /// <summary>Chooses the device once, for the caller to pass along; asking for CUDA without it is an error.</summary>
    public static torch.Device Resolve(DevicePreference preference)
    {
        TorchRuntime.EnsureInitialized();
        return preference switch
        {
            DevicePreference.Cpu => torch.CPU,
            DevicePreference.Cuda when torch.cuda.is_available() => torch.CUDA,
            DevicePreference.Cuda => throw new InvalidOperationException(
                "CUDA was requested but is not available: this build uses the CPU libtorch (TorchBackend=cpu) or no NVIDIA GPU is visible"),
            _ => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
        };
    }

    public static DevicePreference Parse(string value) => value.ToUpperInvariant() switch
    {
        "AUTO" => DevicePreference.Auto,
        "CPU" => DevicePreference.Cpu,
        "CUDA" or "GPU" => DevicePreference.Cuda,
        _ => throw new ArgumentException($"unknown device '{value}' (expected auto, cpu or cuda)"),
    };
}
