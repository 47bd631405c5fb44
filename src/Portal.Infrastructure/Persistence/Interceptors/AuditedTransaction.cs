using Microsoft.EntityFrameworkCore.Storage;

namespace Portal.Infrastructure.Persistence.Interceptors;

/// <summary>A database transaction holding the audit turn (<see cref="AuditChainInterceptor.BeginTransactionAsync"/>) until it is disposed.</summary>
public sealed class AuditedTransaction(IDbContextTransaction transaction, Action endTurn) : IAsyncDisposable
{
    public Task CommitAsync(CancellationToken cancellationToken = default) => transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await transaction.DisposeAsync();
        }
        finally
        {
            endTurn();
        }
    }
}
