namespace Portal.Domain.Audit;

/// <summary>Checks that an audit trail, read in order, is unbroken.</summary>
public static class AuditChain
{
    public static AuditVerification Verify(IEnumerable<AuditEntry> entriesInOrder)
    {
        ArgumentNullException.ThrowIfNull(entriesInOrder);
        var verifier = new AuditChainVerifier();
        foreach (var entry in entriesInOrder)
        {
            if (!verifier.Accept(entry))
            {
                break;
            }
        }

        return verifier.Result;
    }
}

/// <summary>Walks a trail one entry at a time, so a long trail can be streamed from storage.</summary>
public sealed class AuditChainVerifier
{
    private string _expectedPrevious = AuditEntry.GenesisHash;
    private int _count;
    private AuditVerification? _broken;

    public AuditVerification Result => _broken ?? new AuditVerification(true, _count, null, null);

    /// <summary>Checks the next entry; false once the chain is broken (later entries are not checked).</summary>
    public bool Accept(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (_broken is not null)
        {
            return false;
        }

        _count++;
        if (entry.PreviousHash != _expectedPrevious)
        {
            _broken = new AuditVerification(false, _count, entry.Id,
                $"Entry {entry.Id} does not follow the entry before it: an entry was removed, inserted or reordered.");
            return false;
        }

        if (entry.ComputeHash() != entry.Hash)
        {
            _broken = new AuditVerification(false, _count, entry.Id,
                $"Entry {entry.Id} was changed after it was recorded: its content no longer matches its hash.");
            return false;
        }

        _expectedPrevious = entry.Hash;
        return true;
    }
}

public sealed record AuditVerification(bool Valid, int Entries, long? FirstBrokenEntry, string? Problem);
