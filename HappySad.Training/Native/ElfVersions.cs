using System.Buffers.Binary;
using System.Text;

namespace HappySad.Training.Native;

/// <summary>One symbol version a shared library needs from another (an ELF Vernaux entry).</summary>
/// <param name="File">The library the version is needed from, e.g. <c>libstdc++.so.6</c>.</param>
/// <param name="Name">The version name, e.g. <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Index">The version index that <c>.gnu.version</c> entries use to point at it.</param>
/// <param name="IsWeak">Whether the entry carries <c>VER_FLG_WEAK</c>, so the loader tolerates its absence.</param>
/// <param name="FlagsOffset">File offset of the entry's 16-bit <c>vna_flags</c> field.</param>
public sealed record VersionNeed(string File, string Name, int Index, bool IsWeak, long FlagsOffset);

/// <summary>
/// Reads the symbol versions a 64-bit little-endian ELF shared library defines and needs, and which
/// dynamic symbols and relocations use each needed one. Only what <see cref="LibStdCxxCompatibility"/>
/// needs: it reads section headers, not program headers, and never rewrites layout.
/// </summary>
public sealed class ElfVersions
{
    const uint ShtRela = 4;
    const uint ShtDynsym = 11;
    const uint ShtRel = 9;
    const uint ShtGnuVerdef = 0x6ffffffd;
    const uint ShtGnuVerneed = 0x6ffffffe;
    const uint ShtGnuVersym = 0x6fffffff;
    internal const ushort VerFlagWeak = 0x2;

    readonly byte[] _image;
    readonly List<Section> _sections;

    ElfVersions(byte[] image, List<Section> sections, IReadOnlyList<VersionNeed> needs, IReadOnlySet<string> definitions)
    {
        _image = image;
        _sections = sections;
        Needs = needs;
        Definitions = definitions;
    }

    /// <summary>Versions this library needs from others (<c>.gnu.version_r</c>).</summary>
    public IReadOnlyList<VersionNeed> Needs { get; }

    /// <summary>Versions this library defines (<c>.gnu.version_d</c>), e.g. libstdc++'s GLIBCXX_3.4.30.</summary>
    public IReadOnlySet<string> Definitions { get; }

    public static ElfVersions Read(string path) => Read(File.ReadAllBytes(path));

    public static ElfVersions Read(byte[] image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new InvalidDataException("Not an ELF file.");
        if (image[4] != 2 || image[5] != 1)
            throw new InvalidDataException("Only 64-bit little-endian ELF files are supported.");

        var sections = ReadSections(image);
        var verneed = sections.FirstOrDefault(s => s.Type == ShtGnuVerneed);
        var needs = verneed is null ? [] : ReadNeeds(image, verneed, sections[(int)verneed.Link]);
        var verdef = sections.FirstOrDefault(s => s.Type == ShtGnuVerdef);
        var definitions = verdef is null ? [] : ReadDefinitions(image, verdef, sections[(int)verdef.Link]);
        return new ElfVersions(image, sections, needs, definitions);
    }

    public VersionNeed? Find(string file, string version) =>
        Needs.FirstOrDefault(n => n.File == file && n.Name == version);

    /// <summary>Names of the dynamic symbols bound to a version index (through <c>.gnu.version</c>).</summary>
    public IReadOnlyList<string> SymbolsUsingVersion(int versionIndex) =>
        DynamicSymbolsUsingVersion(versionIndex).Select(s => s.Name).ToList();

    /// <summary>
    /// Names of the symbols that a relocation resolves and that are bound to the version index.
    /// If this is empty, the loader never has to look any of them up, so a weak requirement is safe.
    /// </summary>
    public IReadOnlyList<string> RelocatedSymbolsUsingVersion(int versionIndex)
    {
        var symbols = DynamicSymbolsUsingVersion(versionIndex).ToDictionary(s => s.Index, s => s.Name);
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (_, symbol) in Relocations())
        {
            if (symbols.TryGetValue(symbol, out var name))
                used.Add(name);
        }
        return [.. used];
    }

    /// <summary>Every relocation against the dynamic symbol table: where its r_info lies, and its symbol index.</summary>
    internal IEnumerable<(long InfoOffset, int Symbol)> Relocations()
    {
        var dynsymIndex = _sections.FindIndex(s => s.Type == ShtDynsym);
        foreach (var section in _sections.Where(s => (s.Type is ShtRela or ShtRel) && s.Link == dynsymIndex))
        {
            var entrySize = section.Type == ShtRela ? 24 : 16;
            for (long at = section.Offset; at + entrySize <= section.Offset + section.Size; at += entrySize)
                yield return (at + 8, (int)(ReadUInt64(_image, at + 8) >> 32));
        }
    }

    internal int SymbolIndex(string name, int versionIndex) =>
        DynamicSymbolsUsingVersion(versionIndex).First(s => s.Name == name).Index;

    IEnumerable<(int Index, string Name)> DynamicSymbolsUsingVersion(int versionIndex)
    {
        var dynsym = _sections.FirstOrDefault(s => s.Type == ShtDynsym)
            ?? throw new InvalidDataException("The library has no dynamic symbol table.");
        var versym = _sections.FirstOrDefault(s => s.Type == ShtGnuVersym)
            ?? throw new InvalidDataException("The library has no symbol version table.");
        var strings = _sections[(int)dynsym.Link];
        var count = dynsym.Size / 24;
        for (var i = 0; i < count; i++)
        {
            // The top bit of a versym entry marks a hidden definition; the rest is the index.
            var index = ReadUInt16(_image, versym.Offset + (2 * i)) & 0x7fff;
            if (index == versionIndex)
                yield return (i, ReadString(_image, strings.Offset + ReadUInt32(_image, dynsym.Offset + (24 * i))));
        }
    }

    static List<Section> ReadSections(byte[] image)
    {
        var offset = (long)ReadUInt64(image, 0x28);
        var entrySize = ReadUInt16(image, 0x3a);
        var count = ReadUInt16(image, 0x3c);
        if (offset == 0 || count == 0)
            throw new InvalidDataException("The library has no section headers.");
        if (entrySize < 64 || offset + ((long)count * entrySize) > image.Length)
            throw new InvalidDataException("The library's section headers are truncated.");

        var sections = new List<Section>(count);
        for (var i = 0; i < count; i++)
        {
            var at = offset + ((long)i * entrySize);
            var section = new Section(
                Type: ReadUInt32(image, at + 4),
                Offset: (long)ReadUInt64(image, at + 24),
                Size: (long)ReadUInt64(image, at + 32),
                Link: ReadUInt32(image, at + 40),
                Info: ReadUInt32(image, at + 44));
            if (section.Type != 8 /* SHT_NOBITS */ && section.Offset + section.Size > image.Length)
                throw new InvalidDataException($"Section {i} lies outside the file.");
            sections.Add(section);
        }
        return sections;
    }

    static List<VersionNeed> ReadNeeds(byte[] image, Section verneed, Section strings)
    {
        var needs = new List<VersionNeed>();
        var entry = verneed.Offset;
        // sh_info holds the number of Verneed entries; each is followed by its chain of Vernaux.
        for (var n = 0; n < verneed.Info; n++)
        {
            var auxCount = ReadUInt16(image, entry + 2);
            var file = ReadString(image, strings.Offset + ReadUInt32(image, entry + 4));
            var aux = entry + ReadUInt32(image, entry + 8);
            for (var a = 0; a < auxCount; a++)
            {
                var flags = ReadUInt16(image, aux + 4);
                needs.Add(new VersionNeed(
                    File: file,
                    Name: ReadString(image, strings.Offset + ReadUInt32(image, aux + 8)),
                    Index: ReadUInt16(image, aux + 6),
                    IsWeak: (flags & VerFlagWeak) != 0,
                    FlagsOffset: aux + 4));
                var nextAux = ReadUInt32(image, aux + 12);
                if (nextAux == 0)
                    break;
                aux += nextAux;
            }
            var next = ReadUInt32(image, entry + 12);
            if (next == 0)
                break;
            entry += next;
        }
        return needs;
    }

    static HashSet<string> ReadDefinitions(byte[] image, Section verdef, Section strings)
    {
        var definitions = new HashSet<string>(StringComparer.Ordinal);
        var entry = verdef.Offset;
        for (var n = 0; n < verdef.Info; n++)
        {
            // The first Verdaux of a Verdef names the version it defines.
            var aux = entry + ReadUInt32(image, entry + 12);
            definitions.Add(ReadString(image, strings.Offset + ReadUInt32(image, aux)));
            var next = ReadUInt32(image, entry + 16);
            if (next == 0)
                break;
            entry += next;
        }
        return definitions;
    }

    static ushort ReadUInt16(byte[] b, long at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(checked((int)at), 2));
    static uint ReadUInt32(byte[] b, long at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(checked((int)at), 4));
    static ulong ReadUInt64(byte[] b, long at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(checked((int)at), 8));

    static string ReadString(byte[] b, long at)
    {
        var start = checked((int)at);
        var end = Array.IndexOf(b, (byte)0, start);
        return Encoding.ASCII.GetString(b, start, (end < 0 ? b.Length : end) - start);
    }

    sealed record Section(uint Type, long Offset, long Size, uint Link, uint Info);
}
