using System.Globalization;
using System.Text;

namespace HappySad.Training.Data;

/// <summary>
/// What a class name may be, and how names from different places are matched: a data set's, a
/// folder's on disk, a model's. Names are kept in Unicode's composed form (NFC), and matched whatever
/// their case and however their accents are encoded, so a macOS folder's decomposed "glücklich"
/// (u and a combining diaeresis) is the class a person typed with one ü.
/// </summary>
public static class ClassNames
{
    public const int MaxLength = 40;

    /// <summary>Matches class names as the rest of the product does: composed form, case ignored.</summary>
    public static StringComparer Comparer { get; } = new NameComparer();

    /// <summary><paramref name="name"/> in the composed form names are kept in.</summary>
    public static string Composed(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.IsNormalized(NormalizationForm.FormC) ? name : name.Normalize(NormalizationForm.FormC);
    }

    /// <summary>
    /// Class names become folder names, so they hold only letters of any script with their combining
    /// marks (<c>glücklich</c>, <c>दुखी</c>), digits, '-' and '_', starting with a letter or digit: no
    /// separator, dot, space, control character, or character that shows nothing (a variation
    /// selector, a Hangul filler) can reach a path or make one name look like another.
    /// </summary>
    public static bool IsValid(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxLength)
            return false;
        var first = true;
        foreach (var rune in name.EnumerateRunes())
        {
            var allowed = !ShowsNothing(rune) && (Rune.IsLetterOrDigit(rune)
                || (!first && (rune.Value is '-' or '_' || Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark)));
            if (!allowed)
                return false;
            first = false;
        }
        return true;
    }

    /// <summary>
    /// Whether two names would read as one: the same after compatibility composition (NFKC: "ﬁ" is
    /// "fi", a full-width "Ａ" is "A") and case folding. Two classes of one data set must not.
    /// </summary>
    public static bool LookAlike(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return string.Equals(a.Normalize(NormalizationForm.FormKC).ToUpperInvariant(), b.Normalize(NormalizationForm.FormKC).ToUpperInvariant(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Letters and marks that Unicode lists as default-ignorable (drawn as nothing): the combining
    /// grapheme joiner, Khmer's inherent vowels, Mongolian free variation selectors, the Hangul fillers,
    /// and the variation selectors. Format characters (zero-width joiners, direction marks) are refused
    /// already: they are neither letters nor marks.
    /// </summary>
    static bool ShowsNothing(Rune rune) => rune.Value is 0x034F or 0x115F or 0x1160 or 0x3164 or 0xFFA0
        or (>= 0x17B4 and <= 0x17B5) or (>= 0x180B and <= 0x180F) or (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF);

    sealed class NameComparer : StringComparer
    {
        public override int Compare(string? x, string? y) => OrdinalIgnoreCase.Compare(Of(x), Of(y));

        public override bool Equals(string? x, string? y) => OrdinalIgnoreCase.Equals(Of(x), Of(y));

        public override int GetHashCode(string obj) => OrdinalIgnoreCase.GetHashCode(Composed(obj));

        static string? Of(string? name) => name is null ? null : Composed(name);
    }
}
