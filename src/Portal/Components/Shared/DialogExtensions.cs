using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Portal.Components.Shared;

/// <summary>The two ways pages use dialogs: open one and get what it closed with, or ask to confirm.</summary>
public static class DialogExtensions
{
    /// <summary>Opens <typeparamref name="TDialog"/>; returns what it closed with, or null when it was cancelled.</summary>
    public static async Task<object?> OpenAsync<TDialog>(this IDialogService dialogs, string title, Dictionary<string, object?>? parameters = null, MaxWidth width = MaxWidth.Small)
        where TDialog : IComponent
    {
        ArgumentNullException.ThrowIfNull(dialogs);
        var values = new DialogParameters();
        foreach (var (name, value) in parameters ?? [])
        {
            values.Add(name, value);
        }

        var dialog = await dialogs.ShowAsync<TDialog>(title, values, new DialogOptions { MaxWidth = width, FullWidth = true, CloseOnEscapeKey = true, CloseButton = true });
        var result = await dialog.Result;
        return result is { Canceled: false } ? result.Data : null;
    }

    /// <summary>Asks a yes/no question; true only when the person chose <paramref name="yes"/>.</summary>
    public static async Task<bool> ConfirmAsync(this IDialogService dialogs, string message, string title, string yes, string no)
    {
        ArgumentNullException.ThrowIfNull(dialogs);
        return await dialogs.ShowMessageBoxAsync(title, message, yesText: yes, cancelText: no) == true;
    }
}

/// <summary>Toasts with a summary and a detail, as the portal writes them.</summary>
public static class SnackbarExtensions
{
    public static void Notify(this ISnackbar toasts, Severity severity, string summary, string detail)
    {
        ArgumentNullException.ThrowIfNull(toasts);
        toasts.Add($"{summary}: {detail}", severity);
    }
}
