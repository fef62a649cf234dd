using HappySad.Training.Pretrained;
using Microsoft.Extensions.DependencyInjection;

namespace HappySad.Training;

/// <summary>What a host registers to use the library.</summary>
public static class TrainingServices
{
    /// <summary>
    /// The pretrained weights' cache (<see cref="PretrainedOptions"/>, and the <see cref="FaceApiCache"/>
    /// that fetches them asynchronously through its own <see cref="HttpClient"/>), shared with the
    /// library's detectors and models through <see cref="FaceApiPackage"/>.
    /// </summary>
    public static IServiceCollection AddHappySadTraining(this IServiceCollection services, PretrainedOptions pretrained)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(pretrained);
        services.AddSingleton(_ => FaceApiPackage.Use(pretrained));
        services.AddSingleton(provider => provider.GetRequiredService<FaceApiCache>().Options);
        return services;
    }
}
