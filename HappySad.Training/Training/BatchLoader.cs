using System.Buffers;
using System.Collections.Concurrent;
using HappySad.Training.Data;

namespace HappySad.Training.Training;

/// <summary>One micro-batch ready for the network: <see cref="Count"/> images' HWC bytes one after another, and their labels.</summary>
internal sealed record LoadedChunk(byte[] Pixels, float[] Labels, int Count);

/// <summary>One optimizer step's images, as the micro-batches its forward passes take.</summary>
internal sealed record LoadedBatch(int Size, IReadOnlyList<LoadedChunk> Chunks);

/// <summary>
/// Assembles an epoch's batches ahead of the model on a thread of its own: reads each image's bytes
/// (from memory or a <see cref="PixelCache"/> file), augments them, and queues a few batches, so the
/// next batch is ready when the model finishes one and memory holds only the batches in the queue,
/// whatever the size of the data set. The random draws are taken in the order a synchronous loop
/// takes them (batch by batch, image by image, view by view) before any pixel work, so the batches
/// are the same bytes in the same order however the work is spread over threads.
/// </summary>
internal static class BatchLoader
{
    /// <summary>Batches queued ahead of the one training: enough to hide a slow read, few enough to keep memory flat.</summary>
    const int Prefetch = 2;

    public static IEnumerable<LoadedBatch> Epoch(ImageSet images, IEnumerable<int[]> batches, int microBatch, AugmentOptions? augment, Random? augmentRandom, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(batches);
        if (augment is not null)
            ArgumentNullException.ThrowIfNull(augmentRandom);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var queue = new BlockingCollection<LoadedBatch>(Prefetch);
        var producer = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    foreach (var indices in batches)
                        queue.Add(Assemble(images, indices, microBatch, augment, augmentRandom), stop.Token);
                }
                finally
                {
                    queue.CompleteAdding();
                }
            },
            stop.Token,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        try
        {
            foreach (var batch in queue.GetConsumingEnumerable(cancellationToken))
                yield return batch;
            producer.GetAwaiter().GetResult(); // a failed read ends the epoch with its own exception
        }
        finally
        {
            // The consumer left early (cancelled, failed, stopped): the producer stops at its next batch.
            stop.Cancel();
            try
            {
                producer.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Its failure, if any, is already reported or no longer matters to a consumer that left.
            }
        }
    }

    /// <summary>One batch, micro-batch by micro-batch, exactly as a synchronous loop would build it.</summary>
    internal static LoadedBatch Assemble(ImageSet images, int[] indices, int microBatch, AugmentOptions? augment, Random? augmentRandom)
    {
        var views = images.Views;
        var viewBytes = images.Size * images.Size * 3;
        var draws = augment is null ? null : new AugmentParameters[indices.Length * views];
        for (var i = 0; draws is not null && i < draws.Length; i++)
            draws[i] = AugmentParameters.Draw(augment!, augmentRandom!);

        var chunks = new List<LoadedChunk>();
        for (var start = 0; start < indices.Length; start += microBatch)
        {
            var count = Math.Min(microBatch, indices.Length - start);
            var pixels = new byte[count * images.ImageBytes];
            var labels = new float[count];
            var first = start;
            Parallel.For(0, count, i =>
            {
                var target = pixels.AsSpan(i * images.ImageBytes, images.ImageBytes);
                if (draws is null)
                {
                    images.CopyPixels(indices[first + i], target);
                    return;
                }
                // 192 KB or more an image, every image of every epoch: rented, not left to the large object heap.
                var source = ArrayPool<byte>.Shared.Rent(images.ImageBytes);
                try
                {
                    images.CopyPixels(indices[first + i], source);
                    for (var view = 0; view < views; view++)
                    {
                        var from = source.AsSpan(view * viewBytes, viewBytes);
                        var to = target.Slice(view * viewBytes, viewBytes);
                        // The face view of a photo without a face (or whose small face is set aside for raised
                        // hands) is a marker, not a picture: black, its last row white where hands are raised (FaceCrop.PrepareWithWhole). A crop or a
                        // turn would move that row into the picture; it is kept as it is.
                        if (views == 2 && view == 0 && !from[..(viewBytes - (images.Size * 3))].ContainsAnyExcept((byte)0))
                            from.CopyTo(to);
                        else
                            Augmenter.Apply(from, to, images.Size, draws[((first + i) * views) + view]);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(source);
                }
            });
            for (var i = 0; i < count; i++)
                labels[i] = images.Labels[indices[first + i]];
            chunks.Add(new LoadedChunk(pixels, labels, count));
        }
        return new LoadedBatch(indices.Length, chunks);
    }
}
