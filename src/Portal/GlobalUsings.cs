// Shared UI helpers (grid sorting, dialogs, words) are used by nearly every page's code-behind.
global using Portal.Components.Shared;
global using Portal.Components.Charts;
