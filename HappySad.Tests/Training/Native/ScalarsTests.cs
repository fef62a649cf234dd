using System.Reflection;
using System.Reflection.Emit;
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

    /// <summary>
    /// The same hazard one call away: a TorchSharp method that makes a scalar itself and never disposes
    /// of it (<c>a.add(b)</c> and <c>a + b</c> make their alpha of 1 so). Each TorchSharp method our
    /// code calls (or takes as a delegate) is read, and every TorchSharp method it calls in turn; a
    /// method that makes more scalars than it disposes of is reported. Not followed: a
    /// module's <c>forward</c> called through its base class. Of TorchSharp's modules we use, only
    /// <c>BatchNorm2d</c> makes one, in training mode only (its batch counter), which is out of our reach
    /// as Adam's are.
    /// </summary>
    [Theory]
    [InlineData("HappySad.Training")]
    [InlineData("HappySad.Web")]
    public void OurCodeCallsNoTorchSharpMethodThatMakesAnUnheldScalar(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in MethodsOf(type))
            {
                foreach (var callee in Callees(method).Where(IsTorchSharp))
                {
                    if (UnheldScalarIn(callee) is { } path)
                        found.Add($"{type.Name}.{method.Name} calls {Describe(callee)} ({path})");
                }
            }
        }

        Assert.Equal(0, Unresolved);
        Assert.True(found.Count == 0, $"{assemblyName} calls TorchSharp methods that make a scalar nothing holds:\n{string.Join("\n", found)}\nPass a held scalar (Scalars.Of; Scalars.Plus for additions).");
    }

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    static readonly Dictionary<MethodBase, string?> Verdicts = [];

    /// <summary>Call tokens the reader could not resolve: each would be a method left unread.</summary>
    static int Unresolved;

    static bool IsTorchSharp(MethodBase method) => method.DeclaringType?.Assembly == typeof(TorchSharp.Scalar).Assembly;

    static string Describe(MethodBase method) => $"{method.DeclaringType!.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})";

    /// <summary>Why <paramref name="method"/>, or a TorchSharp method it calls, makes a scalar it does not dispose of (a call path), or null.</summary>
    static string? UnheldScalarIn(MethodBase method)
    {
        lock (Verdicts)
        {
            if (Verdicts.TryGetValue(method, out var known))
                return known;
            Verdicts[method] = null; // a method reached again through a cycle adds nothing new
            var callees = Callees(method).ToList();
            var made = callees.Where(c => IsTorchSharp(c) && c is MethodInfo { ReturnType: var r } && r == typeof(TorchSharp.Scalar)).ToList();
            // A using block disposes through IDisposable.
            var disposed = callees.Count(c => c.Name == nameof(IDisposable.Dispose) && (c.DeclaringType == typeof(TorchSharp.Scalar) || c.DeclaringType == typeof(IDisposable)));
            var why = made.Count > disposed ? Describe(made[0]) : callees
                .Where(c => IsTorchSharp(c) && c.DeclaringType != typeof(TorchSharp.Scalar))
                .Select(c => UnheldScalarIn(c) is { } inner ? $"{Describe(c)} -> {inner}" : null)
                .FirstOrDefault(w => w is not null);
            Verdicts[method] = why;
            return why;
        }
    }

    static IEnumerable<MethodBase> MethodsOf(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        return type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all));
    }

    /// <summary>The methods <paramref name="method"/>'s body calls or constructs with, read from its IL.</summary>
    static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
            yield break;
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var at = 0; at < il.Length;)
        {
            var op = OpCodesByValue[il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at]];
            at += op.Size;
            var operand = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, at)),
                _ => 4,
            };
            if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj || op == OpCodes.Ldftn || op == OpCodes.Ldvirtftn)
            {
                MethodBase? callee = null;
                try
                {
                    callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, at), typeArguments, methodArguments);
                }
                catch (ArgumentException)
                {
                    Interlocked.Increment(ref Unresolved);
                }
                if (callee is not null)
                    yield return callee;
            }
            at += operand;
        }
    }

    [Fact]
    public void PlusAddsIntegerTensorsAsWellAsFloatOnes()
    {
        TorchRuntime.EnsureInitialized();
        using var scope = NewDisposeScope();

        Assert.Equal([3L, 5L], tensor(new long[] { 1, 2 }).Plus(tensor(new long[] { 2, 3 })).data<long>().ToArray());
        Assert.Equal([1.5f, 2.5f], tensor(new[] { 1f, 2f }).Plus(Scalars.Of(0.5)).data<float>().ToArray());
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
