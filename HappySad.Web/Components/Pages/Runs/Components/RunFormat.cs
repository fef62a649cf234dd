using System.Globalization;
using HappySad.Web.Data;

namespace HappySad.Web.Components.Pages.Runs.Components;

/// <summary>How run facts read on the pages.</summary>
public static class RunFormat
{
    public static string Duration(TimeSpan? duration) => duration switch
    {
        null => "–",
        { TotalHours: >= 1 } d => string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalHours} h {d.Minutes} min"),
        { TotalMinutes: >= 1 } d => string.Create(CultureInfo.InvariantCulture, $"{(int)d.TotalMinutes} min {d.Seconds} s"),
        { } d => string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, d.TotalSeconds):0} s"),
    };

    public static string ToDisplay(this RunSource source) => source switch
    {
        RunSource.CommandLine => "command line",
        _ => "dashboard",
    };
}
