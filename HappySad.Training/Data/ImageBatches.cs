using static TorchSharp.torch;

namespace HappySad.Training.Data;

/// <summary>Turns cached images into network input: NCHW float32 in 0..1, on the requested device.</summary>
public static class ImageBatches
{
    /// <summary>
    /// Stacks the images at <paramref name="indices"/> into one <c>[N, 3, Views x Size, Size]</c> tensor.
    /// The bytes travel as uint8 (a quarter of the float size) and are converted where they land.
    /// </summary>
    public static Tensor Inputs(ImageSet images, ReadOnlySpan<int> indices, Device device)
    {
        ArgumentNullException.ThrowIfNull(images);
        var imageBytes = images.ImageBytes;
        var buffer = new byte[indices.Length * imageBytes];
        for (var i = 0; i < indices.Length; i++)
            images.CopyPixels(indices[i], buffer.AsSpan(i * imageBytes, imageBytes));
        return FromBytes(buffer, indices.Length, images.Size, device, images.Views);
    }

    /// <summary>
    /// <paramref name="count"/> HWC RGB images of <paramref name="views"/> squares of <paramref name="size"/>
    /// stacked vertically, as one NCHW 0..1 tensor.
    /// </summary>
    public static Tensor FromBytes(byte[] buffer, int count, int size, Device device, int views = 1)
    {
        using var hwc = tensor(buffer, [count, (long)views * size, size, 3], ScalarType.Byte);
        using var onDevice = hwc.to(device);
        using var chw = onDevice.permute(0, 3, 1, 2);
        return chw.to_type(ScalarType.Float32).div_(255f).contiguous();
    }

    /// <summary>Labels at <paramref name="indices"/> as a float32 <c>[N, 1]</c> tensor of 0 and 1.</summary>
    public static Tensor Targets(ImageSet images, ReadOnlySpan<int> indices, Device device)
    {
        ArgumentNullException.ThrowIfNull(images);
        var labels = new float[indices.Length];
        for (var i = 0; i < indices.Length; i++)
            labels[i] = images.Labels[indices[i]];
        return tensor(labels, [indices.Length, 1L], ScalarType.Float32, device);
    }

    /// <summary>Index batches over <paramref name="count"/> items, shuffled when a random source is given.</summary>
    public static IEnumerable<int[]> Batches(int count, int batchSize, Random? shuffle)
    {
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        var order = Enumerable.Range(0, count).ToArray();
        shuffle?.Shuffle(order);
        for (var start = 0; start < count; start += batchSize)
            yield return order[start..Math.Min(count, start + batchSize)];
    }
}
