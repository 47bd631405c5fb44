using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Portal.Infrastructure.Http;

/// <summary>Reads bodies whole without letting a large one fill memory: past the limit the read stops and answers null.</summary>
public static class BoundedBody
{
    /// <summary>The request body, or null when it is longer than <paramref name="limit"/> bytes (read no further than that).</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit + 1;
        }

        try
        {
            return await ReadAsync(request.Body, request.ContentLength, limit, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }

    /// <summary>An answer's body, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        return await ReadAsync(stream, content.Headers.ContentLength, limit, cancellationToken);
    }

    /// <summary>
    /// Everything <paramref name="stream"/> holds, or null as soon as it passes <paramref name="limit"/> (or when its
    /// announced <paramref name="length"/> already does).
    /// </summary>
    public static async Task<byte[]?> ReadAsync(Stream stream, long? length, long limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (length is { } announced)
        {
            if (announced > limit)
            {
                return null;
            }

            var exact = new byte[announced];
            await stream.ReadExactlyAsync(exact, cancellationToken);
            return exact;
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
