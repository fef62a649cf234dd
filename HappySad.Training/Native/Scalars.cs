using System.Collections.Concurrent;
using TorchSharp;

namespace HappySad.Training.Native;

/// <summary>
/// Numbers handed to libtorch as scalars, made once and held for the life of the process.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns a C# number passed where it wants a <see cref="Scalar"/> (<c>x.mul(2)</c>,
/// <c>x.clamp(0, 6)</c>, <c>functional.leaky_relu(x, 0.1)</c>) into a native scalar that nothing keeps
/// alive through the call: a garbage collection during the call can finalise and free it while
/// libtorch still reads it. The pass then fails with "Expected false to be true" from
/// <c>c10::Scalar</c>, or reads whatever took the freed memory. With a collection running in a loop
/// beside it, multiplying by 0.5 that way failed 7 times in 866,000; with a held scalar, never.
/// Finding faces in the 301 seed photos over and over hit it twice in six passes, with no forced
/// collections. Upstream fixes are open (dotnet/TorchSharp#1434, #1496). Code in this library
/// therefore never converts a number to a scalar implicitly (a test reads the compiled library to
/// check): constants come from <see cref="Of"/>, and a value known only at run time goes through
/// <c>using var s = value.ToScalar()</c>, which holds it to the end of its scope. A TorchSharp
/// function that converts a number itself is no better: <c>functional.leaky_relu(x, 0.1)</c>, and
/// less visibly <c>a.add(b)</c> and <c>a + b</c>, which pass libtorch an alpha of 1 made that way (a
/// face-api pass under concurrent predictions failed in the <c>+</c> of a dense block). Call the
/// tensor's own method with a held scalar (<c>x.leaky_relu(Scalars.Of(0.1))</c>) and add with
/// <see cref="Plus(torch.Tensor, torch.Tensor)"/>; a second test reads TorchSharp's own method bodies
/// for the calls we make. Out of our reach: TorchSharp's Adam and AdamW steps make six such scalars a
/// parameter tensor, so a training step can still, rarely, meet it.
/// </remarks>
internal static class Scalars
{
    static readonly ConcurrentDictionary<double, Scalar> Held = new();

    /// <summary>The held scalar for <paramref name="value"/> (a 64-bit float, as an implicit conversion of a <c>double</c> makes).</summary>
    public static Scalar Of(double value) => Held.GetOrAdd(value, static v => v.ToScalar());

    /// <summary>The alpha of an addition: an integer, as TorchSharp's own is (libtorch refuses a floating-point alpha for integer tensors).</summary>
    static readonly Lazy<Scalar> One = new(static () => 1.ToScalar());

    /// <summary><c>a + b</c>, with a held alpha of 1 (TorchSharp's <c>add(Tensor)</c> and <c>+</c> make theirs unheld).</summary>
    public static torch.Tensor Plus(this torch.Tensor a, torch.Tensor b) => a.add(b, One.Value);

    /// <summary><c>a + b</c> for a held scalar <paramref name="b"/>, with a held alpha of 1 (TorchSharp's <c>add(Scalar)</c> makes its own unheld).</summary>
    public static torch.Tensor Plus(this torch.Tensor a, Scalar b) => a.add(b, One.Value);
}
