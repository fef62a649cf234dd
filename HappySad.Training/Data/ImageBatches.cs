using HappySad.Training.Native;
using static TorchSharp.torch;

namespace HappySad.Training.Data;

/// <summary>
/// Turns cached images into network input: NCHW float32 in 0..1, on the requested device, laid out
/// channels-last in memory (see <see cref="FromBytes"/>).
/// </summary>
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
    /// <remarks>
    /// The tensor's shape is NCHW but its memory stays in the pixels' HWC order: the permuted view is
    /// converted without <c>contiguous()</c>, so its strides say "channels last". libtorch keeps that
    /// layout through convolutions, ReLU and pooling, and picks its vectorised channels-last kernels:
    /// a 2x2 max-pool of the notebook's first layer takes a tenth of the time of the NCHW kernel, which
    /// walks the planes one scalar at a time. Values are the same; a convolution may sum in another
    /// order (the notebook's logits move by about 1e-7). A flatten (a reshape) copies in the logical
    /// NCHW order, so dense layers see what they saw before; a <c>view</c> of such a tensor fails
    /// rather than misreads, and <c>data</c> must be read through <c>contiguous()</c>.
    /// </remarks>
    public static Tensor FromBytes(byte[] buffer, int count, int size, Device device, int views = 1)
    {
        using var hwc = tensor(buffer, [count, (long)views * size, size, 3], ScalarType.Byte);
        using var onDevice = hwc.to(device);
        return FromPixels(onDevice);
    }

    /// <summary>
    /// <c>[N, H, W, 3]</c> bytes as the network's channels-last NCHW 0..1 input (<see cref="FromBytes"/>):
    /// the one conversion every fit, evaluation and prediction uses, so a photo reads the same wherever
    /// it is labelled.
    /// </summary>
    public static Tensor FromPixels(Tensor hwc)
    {
        ArgumentNullException.ThrowIfNull(hwc);
        using var chw = hwc.permute(0, 3, 1, 2);
        return chw.to_type(ScalarType.Float32).div_(Scalars.Of(255));
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
