using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Domain.Compute;
using Portal.Infrastructure.Compute;

namespace Portal.Infrastructure.Persistence.Configurations;

internal sealed class GpuDeviceConfiguration : IEntityTypeConfiguration<GpuDevice>
{
    public void Configure(EntityTypeBuilder<GpuDevice> builder)
    {
        builder.ToTable("GpuDevices");
        builder.Property(d => d.Host).HasMaxLength(253).IsRequired();
        builder.Property(d => d.DeviceKey).HasMaxLength(200).IsRequired();
        builder.Property(d => d.Uuid).HasMaxLength(100).IsRequired();
        builder.Property(d => d.MigProfile).HasMaxLength(50);
        builder.Property(d => d.Name).HasMaxLength(200);
        builder.Property(d => d.Compute).HasMaxLength(64).IsRequired();
        builder.Property(d => d.LastOwner).HasMaxLength(300).IsRequired();
        builder.Ignore(d => d.Label);
        builder.HasIndex(d => new { d.Host, d.DeviceKey }).IsUnique();
    }
}

internal sealed class GpuSampleConfiguration : IEntityTypeConfiguration<GpuSampleRow>
{
    public void Configure(EntityTypeBuilder<GpuSampleRow> builder)
    {
        builder.ToTable("GpuSamples");
        builder.Property(s => s.Owner).HasMaxLength(300).IsRequired();
        builder.HasIndex(s => new { s.DeviceId, s.Time });
        builder.HasIndex(s => s.Time);
    }
}

internal sealed class GpuMinuteConfiguration : IEntityTypeConfiguration<GpuMinute>
{
    public void Configure(EntityTypeBuilder<GpuMinute> builder) => Buckets.Rollup(builder, "GpuMinutes");
}

internal sealed class GpuHourConfiguration : IEntityTypeConfiguration<GpuHour>
{
    public void Configure(EntityTypeBuilder<GpuHour> builder) => Buckets.Rollup(builder, "GpuHours");
}

internal sealed class UsageHourConfiguration : IEntityTypeConfiguration<UsageHour>
{
    public void Configure(EntityTypeBuilder<UsageHour> builder)
    {
        Buckets.Usage(builder, "UsageHours");

        // A run's GPU tab reads its hours.
        builder.HasIndex(u => u.Owner);
    }
}

internal sealed class UsageDayConfiguration : IEntityTypeConfiguration<UsageDay>
{
    public void Configure(EntityTypeBuilder<UsageDay> builder) => Buckets.Usage(builder, "UsageDays");
}

/// <summary>The rollup tables and the usage ledgers share their shapes; each bucket size is a table.</summary>
internal static class Buckets
{
    public static void Rollup<T>(EntityTypeBuilder<T> builder, string table)
        where T : GpuRollup
    {
        builder.ToTable(table);
        builder.HasKey(r => new { r.DeviceId, r.Bucket, r.Owner });
        builder.Property(r => r.Owner).HasMaxLength(300);
        builder.HasIndex(r => r.Bucket);

        // A run's GPU tab reads its own rows, not the fleet's.
        builder.HasIndex(r => new { r.Owner, r.Bucket });
    }

    public static void Usage<T>(EntityTypeBuilder<T> builder, string table)
        where T : UsageBucket
    {
        builder.ToTable(table);
        builder.HasKey(u => new { u.Start, u.Owner, u.Compute });
        builder.Property(u => u.Owner).HasMaxLength(300);
        builder.Property(u => u.Compute).HasMaxLength(64);
    }
}

internal sealed class UsageOwnerConfiguration : IEntityTypeConfiguration<UsageOwnerRow>
{
    public void Configure(EntityTypeBuilder<UsageOwnerRow> builder)
    {
        builder.ToTable("UsageOwners");
        builder.HasKey(o => o.Owner);
        builder.Property(o => o.Owner).HasMaxLength(300);
        builder.Property(o => o.Kind).HasConversion<string>().HasMaxLength(20);
        builder.Property(o => o.Label).HasMaxLength(500).IsRequired();
        builder.Property(o => o.User).HasMaxLength(256);
        builder.Property(o => o.Team).HasMaxLength(100);
        builder.Property(o => o.Experiment).HasMaxLength(500);
        builder.Property(o => o.Endpoint).HasMaxLength(100);
        builder.Property(o => o.Deployment).HasMaxLength(100);
        builder.Property(o => o.Model).HasMaxLength(200);
    }
}

internal sealed class IdleStretchConfiguration : IEntityTypeConfiguration<IdleStretch>
{
    public void Configure(EntityTypeBuilder<IdleStretch> builder)
    {
        builder.ToTable("IdleStretches");
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.Owner).HasMaxLength(300).IsRequired();
        builder.HasIndex(s => new { s.DeviceId, s.Owner, s.Ended });
        builder.HasIndex(s => s.StartedAt);
    }
}

internal sealed class TelemetryCursorConfiguration : IEntityTypeConfiguration<TelemetryCursor>
{
    public void Configure(EntityTypeBuilder<TelemetryCursor> builder)
    {
        builder.ToTable("TelemetryCursors");
        builder.HasKey(c => c.Name);
        builder.Property(c => c.Name).HasMaxLength(50);
    }
}

internal sealed class PriceCardConfiguration : IEntityTypeConfiguration<PriceCard>
{
    public void Configure(EntityTypeBuilder<PriceCard> builder)
    {
        builder.ToTable("PriceCards");
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Compute).HasMaxLength(64).IsRequired();
        builder.Property(c => c.Currency).HasMaxLength(3).IsRequired();
        builder.Property(c => c.PricePerHour).HasPrecision(18, 6);
        builder.Property(c => c.Note).HasMaxLength(1000);
        builder.Property(c => c.ChangedBy).HasMaxLength(256).IsRequired();
        builder.Ignore(c => c.PricePerGpuHour);
        builder.HasIndex(c => new { c.Compute, c.ValidFrom });
    }
}

internal sealed class BudgetConfiguration : IEntityTypeConfiguration<Budget>
{
    public void Configure(EntityTypeBuilder<Budget> builder)
    {
        builder.ToTable("Budgets");
        builder.Property(b => b.Id).ValueGeneratedNever();
        builder.Property(b => b.Scope).HasConversion<string>().HasMaxLength(20);
        builder.Property(b => b.Key).HasMaxLength(200).IsRequired();
        builder.Property(b => b.MonthlyAmount).HasPrecision(18, 2);
        builder.Property(b => b.Currency).HasMaxLength(3).IsRequired();
        builder.Property(b => b.CreatedBy).HasMaxLength(256).IsRequired();
        builder.Property(b => b.AlertedMonth).HasMaxLength(7);
        builder.Ignore(b => b.Label);
        builder.Ignore(b => b.Source);
        builder.HasIndex(b => new { b.Scope, b.Key }).IsUnique();
    }
}

internal sealed class CostImportConfiguration : IEntityTypeConfiguration<CostImport>
{
    public void Configure(EntityTypeBuilder<CostImport> builder)
    {
        builder.ToTable("CostImports");
        builder.Property(i => i.Id).ValueGeneratedNever();
        builder.Property(i => i.FileName).HasMaxLength(260).IsRequired();
        builder.Property(i => i.Format).HasMaxLength(10).IsRequired();
        builder.Property(i => i.Currency).HasMaxLength(3).IsRequired();
        builder.Property(i => i.Total).HasPrecision(18, 6);
        builder.Property(i => i.ImportedBy).HasMaxLength(256).IsRequired();
        builder.HasMany(i => i.Lines).WithOne().HasForeignKey(l => l.ImportId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CostImportLineConfiguration : IEntityTypeConfiguration<CostImportLine>
{
    public void Configure(EntityTypeBuilder<CostImportLine> builder)
    {
        builder.ToTable("CostImportLines");
        builder.Property(l => l.ResourceId).HasMaxLength(1000).IsRequired();
        builder.Property(l => l.Endpoint).HasMaxLength(100);
        builder.Property(l => l.Deployment).HasMaxLength(100);
        builder.Property(l => l.Meter).HasMaxLength(200);
        builder.Property(l => l.Cost).HasPrecision(18, 6);
        builder.HasIndex(l => new { l.ImportId, l.Date });
    }
}
