using HappySad.Training.Pretrained;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Training;

/// <summary>What a host registers to use the library.</summary>
public static class TrainingServices
{
    /// <summary>
    /// The pretrained weights' cache (<see cref="PretrainedOptions"/>), made the process's at once
    /// (<see cref="PretrainedPackages.Use"/>): the library's detectors and models find their weights
    /// through it, whether or not anything asks the container for the options.
    /// </summary>
    public static IServiceCollection AddHappySadTraining(this IServiceCollection services, PretrainedOptions pretrained)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(pretrained);
        services.AddSingleton(PretrainedPackages.Use(pretrained));
        return services;
    }
}
