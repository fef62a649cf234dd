using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using HappySad.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace HappySad.Tests.Training.Native;

/// <summary>
/// Numbers reach libtorch only as scalars something holds (<see cref="Scalars"/>): TorchSharp 0.107
/// leaves the scalar of an implicit conversion to the finaliser, which can free it during the call.
/// </summary>
public sealed class ScalarsTests
{
    /// <summary>
    /// Every implicit number-to-<c>Scalar</c> (or number-to-<c>Tensor</c>) conversion compiles to a call of
    /// that type's <c>op_Implicit</c>, which needs a member reference in the calling assembly's
    /// metadata: neither of our assemblies has one.
    /// </summary>
    [Theory]
    [InlineData("HappySad.Training.dll")]
    [InlineData("HappySad.Web.dll")]
    public void OurCodeConvertsNoNumberToATorchScalarImplicitly(string assembly)
    {
        using var stream = File.OpenRead(Path.Combine(AppContext.BaseDirectory, assembly));
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();

        var implicitConversions = metadata.MemberReferences
            .Select(metadata.GetMemberReference)
            .Where(m => metadata.GetString(m.Name) == "op_Implicit" && m.Parent.Kind == HandleKind.TypeReference)
            .Select(m => metadata.GetTypeReference((TypeReferenceHandle)m.Parent))
            .Select(t => $"{metadata.GetString(t.Namespace)}.{metadata.GetString(t.Name)}")
            .Where(type => type.StartsWith("TorchSharp", StringComparison.Ordinal))
            .ToList();

        Assert.True(implicitConversions.Count == 0, $"{assembly} converts numbers implicitly to {string.Join(", ", implicitConversions)}: use Scalars.Of or a held ToScalar()");
    }

    [Fact]
    public void TheSameNumberGetsTheSameScalarEvenAfterACollection()
    {
        TorchRuntime.EnsureInitialized();
        var half = Scalars.Of(0.5);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var four = ones(4);
        using var product = four.mul(Scalars.Of(0.5));

        Assert.Same(half, Scalars.Of(0.5));
        Assert.Equal([0.5f, 0.5f, 0.5f, 0.5f], product.data<float>().ToArray());
        Assert.NotSame(Scalars.Of(0.5), Scalars.Of(0.25));
        Assert.Equal(0.5, Scalars.Of(0.5).ToDouble());
    }
}
