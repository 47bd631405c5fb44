using System.Reflection;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

public class AuditChainTests
{
    private readonly FixedTime _time = new();

    [Fact]
    public void Verify_EmptyTrail_IsValid()
    {
        var result = AuditChain.Verify([]);

        Assert.True(result.Valid);
        Assert.Equal(0, result.Entries);
    }

    [Fact]
    public void Verify_ChainedEntries_IsValid()
    {
        var trail = Chain(5);

        var result = AuditChain.Verify(trail);

        Assert.True(result.Valid);
        Assert.Equal(5, result.Entries);
        Assert.Null(result.FirstBrokenEntry);
    }

    [Fact]
    public void Verify_EntryChangedAfterRecording_ReportsThatEntry()
    {
        var trail = Chain(5);
        SetPrivate(trail[2], nameof(AuditEntry.Reason), "edited afterwards");

        var result = AuditChain.Verify(trail);

        Assert.False(result.Valid);
        Assert.Equal(trail[2].Id, result.FirstBrokenEntry);
        Assert.Contains("changed", result.Problem);
    }

    [Fact]
    public void Verify_EntryRemoved_ReportsTheEntryAfterTheGap()
    {
        var trail = Chain(5);
        trail.RemoveAt(1);

        var result = AuditChain.Verify(trail);

        Assert.False(result.Valid);
        Assert.Equal(3, result.FirstBrokenEntry);
        Assert.Contains("removed", result.Problem);
    }

    [Fact]
    public void Verify_RehashedEditWithoutRelinking_IsStillCaught()
    {
        // Someone edits entry 2 and recomputes its hash: entry 3 no longer points at it.
        var trail = Chain(4);
        SetPrivate(trail[1], nameof(AuditEntry.Actor), "mallory");
        SetPrivate(trail[1], nameof(AuditEntry.Hash), trail[1].ComputeHash());

        var result = AuditChain.Verify(trail);

        Assert.False(result.Valid);
        Assert.Equal(trail[2].Id, result.FirstBrokenEntry);
    }

    [Fact]
    public void ChainAfter_Twice_Throws()
    {
        var entry = AuditEntry.Record(Actor.System, "x.y", "system:test", _time);
        entry.ChainAfter(1, AuditEntry.GenesisHash);

        Assert.Throws<DomainException>(() => entry.ChainAfter(2, AuditEntry.GenesisHash));
    }

    [Fact]
    public void Record_RaisesAnEventNamingTheAction()
    {
        var entry = AuditEntry.Record(new Actor("ada"), AuditActions.SignInFailed, "user:bob", _time, reason: "wrong password");

        var raised = Assert.IsType<AuditEntryRecorded>(Assert.Single(entry.DomainEvents));
        Assert.True(raised.IsSecurityEvent);
        Assert.Equal("user:bob", raised.Subject);
    }

    [Fact]
    public void Record_ClipsVeryLongText()
    {
        var entry = AuditEntry.Record(Actor.System, "x.y", "system:test", _time, after: new string('a', 20_000));

        Assert.Equal(AuditEntry.MaxTextLength + 1, entry.After!.Length);
    }

    [Fact]
    public void Hash_CoversEveryField()
    {
        var a = AuditEntry.Record(new Actor("ada"), "x.y", "e:1", _time, "b", "a", "r");
        var b = AuditEntry.Record(new Actor("ada"), "x.y", "e:1", _time, "b", "a", "r2");
        a.ChainAfter(1, AuditEntry.GenesisHash);
        b.ChainAfter(1, AuditEntry.GenesisHash);

        Assert.NotEqual(a.Hash, b.Hash);
    }

    private List<AuditEntry> Chain(int count)
    {
        var trail = new List<AuditEntry>();
        var previous = AuditEntry.GenesisHash;
        for (var i = 1; i <= count; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            var entry = AuditEntry.Record(new Actor($"user{i}"), "test.action", $"thing:{i}", _time, reason: $"because {i}");
            entry.ChainAfter(i, previous);
            previous = entry.Hash;
            trail.Add(entry);
        }

        return trail;
    }

    private static void SetPrivate(AuditEntry entry, string property, string value) =>
        typeof(AuditEntry).GetProperty(property, BindingFlags.Public | BindingFlags.Instance)!.SetValue(entry, value);
}
