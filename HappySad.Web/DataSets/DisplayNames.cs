namespace HappySad.Web.DataSets;

/// <summary>
/// Cleans a name someone else chose before it is stored or shown: C0/C1 control characters and the
/// invisible direction marks and overrides are removed, so <c>rtl\u202Egpj.exe</c> cannot pose as
/// <c>rtlexe.jpg</c> in a list. Every name that enters (photo, zip entry, data set) passes here.
/// </summary>
public static class DisplayNames
{
    public static string Clean(string? name) =>
        new string([.. (name ?? "").Where(c => !char.IsControl(c) && !IsDirectionMark(c))]).Trim();

    /// <summary>LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI; LRM, RLM; and the Arabic letter mark.</summary>
    static bool IsDirectionMark(char c) => c is (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069') or '\u200E' or '\u200F' or '\u061C';
}
