using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Domain.Audit;

namespace Portal.Infrastructure.Persistence.Configurations;

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("AuditEntries");
        // Ids are given in chain order under a lock (AuditChainInterceptor), not by the database.
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.Actor).HasMaxLength(256).IsRequired();
        builder.Property(e => e.Action).HasMaxLength(100).IsRequired();
        builder.Property(e => e.Entity).HasMaxLength(AuditEntry.MaxTextLength + 1).IsRequired();
        builder.Property(e => e.Hash).HasMaxLength(64).IsFixedLength().IsRequired();
        builder.Property(e => e.PreviousHash).HasMaxLength(64).IsFixedLength().IsRequired();
        // Two entries can never claim the same predecessor: the trail cannot fork, even across instances.
        builder.HasIndex(e => e.PreviousHash).IsUnique();
        builder.HasIndex(e => e.At);
        builder.HasIndex(e => e.Actor);
        builder.HasIndex(e => e.Entity);
    }
}
