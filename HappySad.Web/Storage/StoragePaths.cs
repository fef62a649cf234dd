using Microsoft.Extensions.Options;

namespace HappySad.Web.Storage;

/// <summary>
/// The layout of the data directory, in one place:
/// <code>
/// happysad.db
/// datasets/{id}/{class}/{stored name}     photos in use
/// datasets/{id}/.trash/{class}/...        photos in the trash
/// datasets/{id}/.thumbs/{stored name}.v2.jpg cached thumbnails
/// datasets/{id}/.incoming/                uploads being written
/// runs/{id}/model.hsmodel                 a succeeded run's model (weights + model card)
/// runs/{id}/test/{run image id}.jpg       the test photos it got wrong, as the model saw them
/// runs/{id}/training.checkpoint           an unfinished run's state after its last finished epoch
/// models/{name}.hsmodel                   model files imported for prediction
/// cache/pixels/{key}.pixels               decoded photos runs train from (<c>PixelCache</c>), rebuilt when missing
/// lost+found/{time}/                      files the database did not know, moved aside at start-up
/// .lock, .lock.owner                      the owner's lock (<see cref="DataDirectoryLock"/>)
/// </code>
/// Dot folders are invisible to <c>ImageFolder</c>, so a data set's folder is also a plain class-folder data set.
/// </summary>
public sealed class StoragePaths
{
    public StoragePaths(IOptions<StorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Root = Path.GetFullPath(options.Value.DataDirectory);
        DatabaseFile = Path.Combine(Root, options.Value.DatabaseFileName);
    }

    public string Root { get; }
    public string DatabaseFile { get; }
    public string DataSetsRoot => Path.Combine(Root, "datasets");
    public string LostAndFound => Path.Combine(Root, "lost+found");
    public string RunsRoot => Path.Combine(Root, "runs");
    public string ModelsRoot => Path.Combine(Root, "models");
    public string PixelCache => Path.Combine(Root, "cache", "pixels");

    public string Run(int runId) => Path.Combine(RunsRoot, runId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    public string RunModel(int runId) => Path.Combine(Run(runId), "model" + HappySad.Training.Persistence.ModelStore.Extension);
    public string RunCheckpoint(int runId) => Path.Combine(Run(runId), "training.checkpoint");
    public string RunTestImage(int runId, int runImageId) => Path.Combine(Run(runId), "test", runImageId.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".jpg");

    /// <summary>A path below the data directory as stored in the database: relative, with forward slashes.</summary>
    public string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    public string Absolute(string relativePath) => Path.GetFullPath(Path.Combine(Root, relativePath));

    public string DataSet(int dataSetId) => Path.Combine(DataSetsRoot, dataSetId.ToString(System.Globalization.CultureInfo.InvariantCulture));
    public string ClassFolder(int dataSetId, string className) => Path.Combine(DataSet(dataSetId), className);
    public string TrashFolder(int dataSetId, string className) => Path.Combine(DataSet(dataSetId), ".trash", className);
    public string Thumbnails(int dataSetId) => Path.Combine(DataSet(dataSetId), ".thumbs");
    public string Incoming(int dataSetId) => Path.Combine(DataSet(dataSetId), ".incoming");

    public string PhotoFile(int dataSetId, string className, string storedName, bool trashed) =>
        Path.Combine(trashed ? TrashFolder(dataSetId, className) : ClassFolder(dataSetId, className), storedName);

    public string PhotoFile(Data.Photo photo)
    {
        ArgumentNullException.ThrowIfNull(photo);
        return PhotoFile(photo.DataSetId, photo.ClassName, photo.StoredName, photo.TrashedAt is not null);
    }

    /// <summary>
    /// The photo's cached thumbnail. Named with the version of how thumbnails are made (2: turned as the
    /// photo's EXIF orientation says), so one made before is made again, not shown.
    /// </summary>
    public string ThumbnailFile(Data.Photo photo)
    {
        ArgumentNullException.ThrowIfNull(photo);
        return Path.Combine(Thumbnails(photo.DataSetId), photo.StoredName + ".v2.jpg");
    }

    /// <summary>Where a thumbnail made before <see cref="ThumbnailFile"/> was versioned is, deleted when its successor is made.</summary>
    public string UnversionedThumbnailFile(Data.Photo photo)
    {
        ArgumentNullException.ThrowIfNull(photo);
        return Path.Combine(Thumbnails(photo.DataSetId), photo.StoredName + ".jpg");
    }
}
