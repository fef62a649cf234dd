using HappySad.Training.Data;
using HappySad.Web.Data;
using HappySad.Web.Storage;

namespace HappySad.Web.DataSets;

/// <summary>
/// 160 px JPEG thumbnails, generated on first request and kept on disk next to the data set, so
/// browsing 5,000 photos decodes each one once, ever.
/// </summary>
public sealed class ThumbnailCache(StoragePaths paths, Microsoft.Extensions.Options.IOptions<UploadLimits> limits)
{
    /// <summary>The cached thumbnail's path, made now if missing. Throws <see cref="ImageRejectedException"/> for a file that no longer decodes.</summary>
    public string GetOrCreate(Photo photo)
    {
        ArgumentNullException.ThrowIfNull(photo);
        var thumbnail = paths.ThumbnailFile(photo);
        if (File.Exists(thumbnail))
            return thumbnail;

        var jpeg = Thumbnails.Jpeg(paths.PhotoFile(photo), Thumbnails.DefaultSide, limits: limits.Value.ForImages());
        Directory.CreateDirectory(Path.GetDirectoryName(thumbnail)!);
        // Two requests may race to make the same thumbnail; each writes its own file and the last rename wins.
        var temporary = $"{thumbnail}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, jpeg);
        File.Move(temporary, thumbnail, overwrite: true);
        File.Delete(paths.UnversionedThumbnailFile(photo));
        return thumbnail;
    }
}
