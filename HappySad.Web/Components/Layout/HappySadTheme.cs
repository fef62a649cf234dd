using MudBlazor;

namespace HappySad.Web.Components.Layout;

/// <summary>
/// MudBlazor's palettes with the colours that fail WCAG AA as text moved just far enough to pass
/// (4.5:1 on the page, the paper and their 6 % tints, as chips, alerts and current nav links draw
/// them), so the look stays MudBlazor's. Dark mode's primary and status colours are light, so the
/// text on their filled buttons and chips is dark.
/// </summary>
public static class HappySadTheme
{
    const string DarkInk = "#1e1e24";

    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Secondary = "#c2185b",
            Info = "#1565c0",
            // Darker than Material's green 800: its text on a chip's tint over a hovered grid row fell under 4.5:1.
            Success = "#1b5e20",
            Warning = "#b45309",
            Error = "#c62828",
            TextSecondary = "rgba(0,0,0,0.62)",
            ActionDefault = "rgba(0,0,0,0.62)",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#a59cff",
            PrimaryContrastText = DarkInk,
            Info = "#64b5f6",
            InfoContrastText = DarkInk,
            Success = "#3ddc97",
            SuccessContrastText = DarkInk,
            Warning = "#ffb74d",
            WarningContrastText = DarkInk,
            Error = "#ff8a80",
            ErrorContrastText = DarkInk,
            TextSecondary = "rgba(255,255,255,0.6)",
            DrawerText = "rgba(255,255,255,0.7)",
            DrawerIcon = "rgba(255,255,255,0.7)",
        },
    };
}
