using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Infrastructure.Persistence.Configurations;

internal sealed class PortalUserConfiguration : IEntityTypeConfiguration<PortalUser>
{
    public void Configure(EntityTypeBuilder<PortalUser> builder)
    {
        builder.Property(u => u.DisplayName).HasMaxLength(200);
        builder.Property(u => u.Team).HasMaxLength(100);
        builder.Property(u => u.Theme).HasMaxLength(16).IsRequired();
        builder.Property(u => u.Source).HasMaxLength(32).IsRequired();
    }
}

internal sealed class DemoSeedRecordConfiguration : IEntityTypeConfiguration<DemoSeedRecord>
{
    public void Configure(EntityTypeBuilder<DemoSeedRecord> builder)
    {
        builder.ToTable("DemoSeedRecords");
        builder.HasKey(r => r.Step);
        builder.Property(r => r.Step).HasMaxLength(100);
    }
}

internal sealed class BrowserSessionConfiguration : IEntityTypeConfiguration<BrowserSession>
{
    public void Configure(EntityTypeBuilder<BrowserSession> builder)
    {
        builder.ToTable("BrowserSessions");
        builder.HasKey(s => s.Key);
        builder.Property(s => s.Key).HasMaxLength(64);
        builder.Property(s => s.UserName).HasMaxLength(256).IsRequired();
        builder.Property(s => s.Ticket).IsRequired();
        builder.HasIndex(s => s.UserName);
        builder.HasIndex(s => s.ExpiresAt);
    }
}
