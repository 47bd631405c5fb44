using System.Security.Cryptography;

namespace Portal.Security;

/// <summary>
/// Headers every answer carries: no MIME sniffing, no framing, a same-origin referrer, HSTS over HTTPS, and
/// a Content-Security-Policy. Pages get a policy their own scripts satisfy — scripts only from the portal
/// (the import map by a per-request nonce), connections only back to it (Blazor's and the hub's
/// WebSockets) — and everything else (API answers, files) a policy that allows nothing at all.
/// </summary>
internal sealed class SecurityHeaders(RequestDelegate next)
{
    // Where the per-request nonce is kept, for the few inline scripts the framework writes.
    private const string NonceKey = "portal:csp-nonce";

    // Radzen and Plotly set style attributes and add <style> elements at run time, hence 'unsafe-inline' for
    // styles only; Plotly exports charts as data:/blob: images.
    private const string PagePolicy =
        "default-src 'self'; script-src 'self' 'nonce-{0}'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
        + "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    private const string NothingPolicy = "default-src 'none'; frame-ancestors 'none'; sandbox";

    /// <summary>This request's nonce, made on first use (only pages need one).</summary>
    public static string NonceOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items[NonceKey] is not string nonce)
        {
            // Hex: a valid nonce that HTML never needs to escape (base64's "+" would reach the page as "&#x2B;").
            context.Items[NonceKey] = nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        }

        return nonce;
    }

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";
            var html = context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true;
            headers.ContentSecurityPolicy = html ? string.Format(System.Globalization.CultureInfo.InvariantCulture, PagePolicy, NonceOf(context)) : NothingPolicy;
            if (context.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000; includeSubDomains";
            }

            return Task.CompletedTask;
        });
        return next(context);
    }
}
