using MudBlazor;

namespace Portal.Components.Layout;

/// <summary>The portal's palettes. Dark mode sets link and text colours too, so links stay readable on near-black.</summary>
public static class PortalTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1151f3",
            AppbarBackground = "#ffffff",
            AppbarText = "#1f2329",
            Background = "#f6f7f9",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#7aa2ff",
            Secondary = "#ff8fb1",
            AppbarBackground = "#1b1d22",
            Background = "#121316",
            Surface = "#1b1d22",
            TextPrimary = "#e6e8ec",
            TextSecondary = "#b4b9c2",
            DrawerBackground = "#17191d",
        },
        LayoutProperties = new LayoutProperties { DrawerWidthLeft = "240px" },
    };
}
